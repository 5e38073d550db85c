import Foundation

/// A kind of fault a condition injects at the tool boundary (tools.md, "Conditions").
public enum FaultKind: String, CaseIterable, Sendable, Hashable {
  case unavailable
  case rateLimit = "rate_limit"
  case timeout
  case latency
  case malformed
  case empty
  case schemaDrift = "schema_drift"
  case lostResponse = "lost_response"
  case protocolError = "protocol_error"
}

/// One `faults:` entry of a condition.
public struct FaultRule: Sendable, Hashable {
  /// When the rule fires: on a share of calls, or on exactly one call of each matching tool.
  public enum When: Sendable, Hashable {
    /// Each call with this probability.
    case rate(Double)
    /// The N-th call (1-based) to the tool in the trial.
    case onCall(Int)
  }

  /// What fires.
  public var kind: FaultKind
  /// Tool-name globs (`*`, `?`, `[...]`); every tool when empty.
  public var tools: [String]
  /// When.
  public var when: When
  /// `timeout`: seconds of silence before the error (default 10, bounded by the trial's timeout).
  public var after: Double?
  /// `latency`: seconds added before the right answer.
  public var delay: Double?
  /// `rate_limit`: the Retry-After, seconds (default 1).
  public var retryAfter: Double?

  /// A rule.
  public init(
    kind: FaultKind, tools: [String] = [], when: When, after: Double? = nil, delay: Double? = nil,
    retryAfter: Double? = nil
  ) {
    self.kind = kind
    self.tools = tools
    self.when = when
    self.after = after
    self.delay = delay
    self.retryAfter = retryAfter
  }

  /// Whether the rule is about `tool`.
  public func matches(_ tool: String) -> Bool {
    tools.isEmpty || tools.contains { fnmatch($0, tool, 0) == 0 }
  }
}

/// A fault that fires on one call.
public struct Fault: Sendable, Hashable {
  /// Which rule of the condition (0-based), for the record.
  public var rule: Int
  /// What the agent meets.
  public var kind: FaultKind
  /// Seconds: the silence of a timeout, the delay of latency, the Retry-After of a rate limit.
  public var seconds: Double?
  /// A seeded number for the fault's own choices (which field `schema_drift` renames).
  public var choice: UInt64
}

/// A condition's faults, decided per call by a pure function of (run seed, condition, task, trial,
/// tool, the call's number among that tool's calls in the trial): every agent meets the same faults
/// on the same trial, and a resumed or repeated run with the same seed meets them again.
public struct FaultPlan: Sendable, Hashable {
  /// The condition's name.
  public var condition: String
  /// Its rules, in the suite's order: the first that fires on a call is the call's fault.
  public var rules: [FaultRule]

  /// A plan.
  public init(condition: String, rules: [FaultRule]) {
    self.condition = condition
    self.rules = rules
  }

  /// The fault of the `call`-th call (1-based) to `tool` in a trial, or nil for a clean call.
  public func fault(runSeed: Int64, task: String, trial: Int, tool: String, call: Int) -> Fault? {
    for (index, rule) in rules.enumerated() where rule.matches(tool) {
      let seed = ConditionSeed.of(runSeed: runSeed, [condition, task, tool], [trial, call, index])
      let fires =
        switch rule.when {
        case .rate(let p): ConditionSeed.unit(seed) < p
        case .onCall(let n): call == n
        }
      guard fires else { continue }
      let seconds: Double? =
        switch rule.kind {
        case .timeout: rule.after ?? 10
        case .latency: rule.delay ?? 1
        case .rateLimit: rule.retryAfter ?? 1
        default: nil
        }
      return Fault(rule: index, kind: rule.kind, seconds: seconds, choice: seed.byteSwapped)
    }
    return nil
  }
}

extension Fault {
  /// `schema_drift`: the result with one field renamed (the seeded choice among its keys, sorted);
  /// in an array of objects, the same field of each. Anything else is returned unchanged.
  public func drift(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let fields):
      let keys = fields.keys.sorted()
      guard !keys.isEmpty else { return value }
      return .object(Self.renaming(keys[Int(choice % UInt64(keys.count))], in: fields))
    case .array(let items):
      let keys = Set(items.flatMap { $0.objectValue?.keys.map { $0 } ?? [] }).sorted()
      guard !keys.isEmpty else { return value }
      let key = keys[Int(choice % UInt64(keys.count))]
      return .array(items.map { item in item.objectValue.map { .object(Self.renaming(key, in: $0)) } ?? item })
    default:
      return value
    }
  }

  /// A field's new name, as APIs drift: snake_case to camelCase, else a version suffix.
  static func drifted(_ key: String) -> String {
    let parts = key.split(separator: "_")
    guard parts.count > 1 else { return key + "_v2" }
    return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
  }

  static func renaming(_ key: String, in fields: [String: JSONValue]) -> [String: JSONValue] {
    guard let value = fields[key] else { return fields }
    var out = fields
    out[key] = nil
    out[drifted(key)] = value
    return out
  }

  /// `malformed`: the result's text (its JSON, or the string) cut in half, so it does not parse.
  public static func malformed(_ value: JSONValue) -> String {
    let text = value.stringValue ?? value.compactText
    return String(text.prefix(max(1, text.count / 2)))
  }
}
