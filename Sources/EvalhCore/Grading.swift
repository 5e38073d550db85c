import Foundation

/// What a grader sees of a trial.
public struct GradingInput: Sendable {
  /// The agent's `output`.
  public var output: JSONValue
  /// The trajectory (empty when unknown).
  public var steps: [JSONValue]
  /// How long the trial took, ms.
  public var latencyMs: Double
  /// The trial's cost, when known.
  public var costUSD: Double?
  /// Input tokens, when known.
  public var inputTokens: Int?
  /// Output tokens, when known.
  public var outputTokens: Int?
  /// The calls evalh served, in order; nil when the trial had no served tools.
  public var observed: [ObservedCall]?
  /// The trial's final tool state; nil when it had none (or it is not JSON: `stateProblem` says).
  public var state: JSONValue?
  /// Why the final state could not be read, when it could not.
  public var stateProblem: String?

  /// What a grader sees; unknown figures are nil.
  public init(
    output: JSONValue, steps: [JSONValue] = [], latencyMs: Double = 0, costUSD: Double? = nil, inputTokens: Int? = nil,
    outputTokens: Int? = nil, observed: [ObservedCall]? = nil, state: JSONValue? = nil, stateProblem: String? = nil
  ) {
    self.observed = observed
    self.state = state
    self.stateProblem = stateProblem
    self.output = output
    self.steps = steps
    self.latencyMs = latencyMs
    self.costUSD = costUSD
    self.inputTokens = inputTokens
    self.outputTokens = outputTokens
  }

  /// The tool calls trajectory graders read: the observed ones when tools were served, else the reported steps.
  public var toolSteps: [JSONValue] {
    observed.map(ObservedCall.steps) ?? steps
  }

  /// The output as a JSON document: parsed when it is a string holding JSON.
  var document: JSONValue? {
    if case .string(let s) = output { return JSONValue.parse(s) }
    return output
  }
}

/// In-process graders and checks; `command` and `judge` ones are run by the runner.
public enum Grading {
  /// Grades `input` with `grader`, or says that it runs outside the process.
  public static func grade(_ grader: Grader, _ input: GradingInput) -> GradingOutcome {
    let text = input.output.gradingText
    func result(_ passed: Bool, _ detail: @autoclosure () -> String) -> GradingOutcome {
      .graded(Grade(kind: .expect, grader: grader.label, passed: passed, detail: passed ? nil : detail()))
    }
    switch grader.kind {
    case .equals(let expected):
      let passed: Bool
      if case .string(let e) = expected, case .string(let o) = input.output {
        passed = e.trimmingCharacters(in: .whitespacesAndNewlines) == o.trimmingCharacters(in: .whitespacesAndNewlines)
      } else {
        passed = expected == input.output
      }
      return result(passed, "output is not equal to \(expected.compactText.prefix(200))")
    case .contains(let needles):
      let missing = needles.filter { !text.contains($0) }
      return result(missing.isEmpty, "output does not contain \(quoted(missing))")
    case .containsAny(let needles):
      return result(needles.contains { text.contains($0) }, "output contains none of \(quoted(needles))")
    case .regex(let pattern):
      return result(pattern.matches(text), "output does not match /\(pattern.source)/")
    case .json(let check):
      let (passed, detail) = evaluate(check, on: input.output)
      return result(passed, detail)
    case .jsonSchema(let schema):
      let (passed, detail) = validate(input, schema)
      return result(passed, detail)
    case .toolCalled(let name, let arguments):
      let calls = ToolCalls.of(input.toolSteps)
      let named = calls.filter { $0.name == name }
      let passed = named.contains { call in arguments.map { ToolCalls.contains(call.arguments, $0) } ?? true }
      let detail =
        named.isEmpty
        ? "no call to tool '\(name)' (tools called: \(calls.isEmpty ? "none" : calls.map(\.name).joined(separator: ", ")))"
        : "'\(name)' was called, but never with arguments containing \(arguments?.compactText ?? "{}") (got \(named[0].arguments.compactText.prefix(200)))"
      return result(passed, detail)
    case .toolSequence(let names):
      let called = ToolCalls.of(input.toolSteps).map(\.name)
      var next = 0
      for name in called where next < names.count && name == names[next] { next += 1 }
      return result(
        next == names.count,
        "tool calls \(called.isEmpty ? "(none)" : called.joined(separator: " → ")) lack '\(names[min(next, names.count - 1)])' after \(next == 0 ? "the start" : "'\(names[next - 1])'") (wanted \(names.joined(separator: " → ")))"
      )
    case .command(let spec):
      return .external(.command(spec))
    case .judge(let spec):
      return .external(.judge(spec))
    case .state(let check):
      guard let state = input.state else {
        return result(false, input.stateProblem ?? "the trial has no tool state")
      }
      switch check {
      case .at(let condition):
        let (passed, detail) = evaluate(condition, on: state)
        return result(passed, "state: " + detail)
      case .equalsDocument(let expected, let file):
        return result(state == expected, "the final state differs from \(file): \(state.compactText.prefix(200))")
      }
    case .toolResult(let spec):
      return .external(.toolResult(spec))
    }
  }

  /// Checks `input` against an assurance check, or says that it runs outside the process or that
  /// what it measures is unknown for this trial.
  public static func check(_ check: Check, _ input: GradingInput) -> GradingOutcome {
    let text = input.output.gradingText
    func result(_ violated: Bool, _ detail: @autoclosure () -> String) -> GradingOutcome {
      .graded(Grade(kind: .assure, grader: check.label, passed: !violated, detail: violated ? detail() : nil))
    }
    switch check.kind {
    case .notContains(let needles):
      let found = needles.filter { text.contains($0) }
      return result(!found.isEmpty, "output contains \(quoted(found))")
    case .notRegex(let pattern):
      return result(pattern.matches(text), "output matches /\(pattern.source)/")
    case .noPII(let kinds):
      let found = kinds.compactMap { kind -> String? in
        let matches = kind.matches(in: text)
        guard !matches.isEmpty else { return nil }
        return
          "\(kind.rawValue) (\(matches.count == 1 ? "1 match" : "\(matches.count) matches"): \(PIIKind.mask(matches[0])))"
      }
      return result(!found.isEmpty, "output contains PII: \(found.joined(separator: "; "))")
    case .jsonSchema(let schema):
      let (passed, detail) = validate(input, schema)
      return result(!passed, detail)
    case .tools(let allow, let deny, let maxCalls):
      let calls = ToolCalls.of(input.toolSteps).map(\.name)
      var problems: [String] = []
      let denied = Set(calls.filter { deny.contains($0) })
      if !denied.isEmpty { problems.append("called denied tool \(quoted(denied.sorted()))") }
      if let allow {
        let outside = Set(calls.filter { !allow.contains($0) && !deny.contains($0) })
        if !outside.isEmpty { problems.append("called tool not allowed \(quoted(outside.sorted()))") }
      }
      if let maxCalls, calls.count > maxCalls { problems.append("\(calls.count) tool calls, more than \(maxCalls)") }
      return result(!problems.isEmpty, problems.joined(separator: "; "))
    case .toolSchemas(let contracts):
      var problems: [String] = []
      for (i, call) in ToolCalls.of(input.toolSteps).enumerated() {
        for contract in contracts where contract.tool == call.name {
          if let first = contract.schema.validate(call.arguments).first {
            problems.append("call \(i + 1) of '\(call.name)': arguments\(first.path.dropFirst()) \(first.message)")
          }
        }
      }
      return result(!problems.isEmpty, problems.joined(separator: "; "))
    case .maxSteps(let n):
      return result(input.steps.count > n, "\(input.steps.count) steps, more than \(n)")
    case .maxCost(let usd):
      guard let cost = input.costUSD else { return .notEvaluated }
      return result(cost > usd, "cost $\(cost) is more than $\(usd)")
    case .maxLatency(let seconds):
      return result(
        input.latencyMs > seconds * 1000,
        "took \(Durations.format(input.latencyMs / 1000)), longer than \(Durations.format(seconds))")
    case .maxTokens(let n):
      guard let i = input.inputTokens, let o = input.outputTokens else { return .notEvaluated }
      return result(i + o > n, "\(i + o) tokens (\(i) in + \(o) out), more than \(n)")
    case .command(let spec):
      return .external(.command(spec))
    case .honestSteps:
      guard let observed = input.observed else { return .notEvaluated }
      let phantoms = ObservedCall.phantoms(reported: input.steps, observed: observed)
      return result(
        !phantoms.isEmpty,
        "\(phantoms.count) reported tool call\(phantoms.count == 1 ? "" : "s") never made: "
          + phantoms.prefix(3).map { "\($0.name)(\($0.arguments.compactText.prefix(80)))" }.joined(separator: ", "))
    }
  }

  /// The output (parsed when a JSON string) against a schema: the first few failures, by path.
  static func validate(_ input: GradingInput, _ schema: JSONSchema) -> (Bool, String) {
    guard let document = input.document else { return (false, "output is not JSON") }
    let violations = schema.validate(document)
    let shown = violations.prefix(3).map(\.description).joined(separator: "; ")
    return (violations.isEmpty, violations.count > 3 ? "\(shown); and \(violations.count - 3) more" : shown)
  }

  /// The `json:` grader: the output (parsed when a string) at `path` meets the condition.
  public static func evaluate(_ check: JSONCheck, on output: JSONValue) -> (Bool, String) {
    var document = output
    if case .string(let s) = output {
      guard let parsed = JSONValue.parse(s) else { return (false, "output is not JSON") }
      document = parsed
    }
    let values = check.path.select(in: document)
    let path = check.path.description
    switch check.condition {
    case .exists(let wanted):
      return (values.isEmpty != wanted, wanted ? "nothing at \(path)" : "a value exists at \(path)")
    case .equals(let expected):
      let passed = values.contains { v in
        if let tolerance = check.tolerance, let a = v.numberValue, let b = expected.numberValue {
          return abs(a - b) <= tolerance
        }
        return v == expected
      }
      return (passed, describe(values, at: path, "is not equal to \(expected.compactText)"))
    case .contains(let needle):
      let passed = values.contains {
        $0.gradingText.contains(needle) || ($0.arrayValue?.contains(.string(needle)) ?? false)
      }
      return (passed, describe(values, at: path, "does not contain \(quoted([needle]))"))
    case .matches(let pattern):
      return (
        values.contains { pattern.matches($0.gradingText) },
        describe(values, at: path, "does not match /\(pattern.source)/")
      )
    case .gte(let bound):
      return (
        values.contains { ($0.numberValue ?? -.infinity) >= bound }, describe(values, at: path, "is not ≥ \(bound)")
      )
    case .lte(let bound):
      return (
        values.contains { ($0.numberValue ?? .infinity) <= bound }, describe(values, at: path, "is not ≤ \(bound)")
      )
    }
  }

  static func describe(_ values: [JSONValue], at path: String, _ failure: String) -> String {
    guard let first = values.first else { return "nothing at \(path)" }
    return "\(path) = \(first.compactText.prefix(200)) \(failure)"
  }

  static func quoted(_ items: [String]) -> String {
    items.map { "'\($0)'" }.joined(separator: ", ")
  }
}
