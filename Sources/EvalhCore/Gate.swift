/// A `--fail-under METRIC[@CONDITION]=VALUE` gate, or a `--fail-over` one for a metric where lower
/// is better (the cliffs).
public struct Gate: Sendable, Hashable, CustomStringConvertible {
  /// The scalar rates of metrics.md a `--fail-under` gate may name (`clear_score` is 0–100, the others 0–1).
  public static let metrics = [
    "success_rate", "first_run_success", "sustained_success", "consistency", "efficacy_rate", "assurance_rate",
    "policy_adherence", "sla_compliance", "clear_score", "recovery_rate",
  ]
  /// The rates where lower is better: a `--fail-over` gate names one.
  public static let upperMetrics = ["fault_cliff", "reliability_cliff"]

  /// Which side of the threshold passes.
  public enum Bound: Sendable, Hashable {
    /// `--fail-under`: a value below the threshold fails.
    case lower
    /// `--fail-over`: a value above the threshold fails.
    case upper

    var flag: String { self == .lower ? "--fail-under" : "--fail-over" }
  }

  /// The metric gated, by its name in `Gate.metrics` or `Gate.upperMetrics`.
  public var metric: String
  /// The condition whose pairs are gated; nil: every condition of the run.
  public var condition: String?
  /// The lowest (or, for `.upper`, highest) value that passes.
  public var threshold: Double
  /// Which side passes.
  public var bound: Bound = .lower

  /// Parses `METRIC[@CONDITION]=VALUE`; VALUE may be a fraction (`0.8`) or a percentage (`80%`), or
  /// 0–100 for `clear_score`.
  public init(parsing text: String, bound: Bound = .lower) throws(GateError) {
    var parts = text.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2 else { throw GateError("'\(text)' is not METRIC=VALUE") }
    if let at = parts[0].firstIndex(of: "@") {
      let name = String(parts[0][parts[0].index(after: at)...])
      guard !name.isEmpty else { throw GateError("'\(text)' names no condition after '@'") }
      condition = name
      parts[0] = String(parts[0][..<at])
    }
    let allowed = bound == .lower ? Gate.metrics : Gate.upperMetrics
    guard allowed.contains(parts[0]) else {
      if (bound == .lower ? Gate.upperMetrics : Gate.metrics).contains(parts[0]) {
        let other: Bound = bound == .lower ? .upper : .lower
        throw GateError(
          "\(parts[0]) is \(bound == .lower ? "lower" : "higher")-is-better: gate it with \(other.flag) \(text)")
      }
      var message =
        "unknown metric '\(parts[0])' in \(bound.flag) (metrics: \(allowed.joined(separator: ", ")))"
      if let hint = suggestion(for: parts[0], among: allowed) { message += "; did you mean '\(hint)'?" }
      throw GateError(message)
    }
    self.bound = bound
    let raw = parts[1]
    let percent = raw.hasSuffix("%")
    guard let number = Double(percent ? String(raw.dropLast()) : raw), number.isFinite else {
      throw GateError("'\(raw)' is not a number in --fail-under \(parts[0])")
    }
    var value = percent && parts[0] != "clear_score" ? number / 100 : number
    if parts[0] == "clear_score" { value = number }
    let limit = parts[0] == "clear_score" ? 100.0 : 1.0
    guard value >= 0, value <= limit else {
      throw GateError(
        "\(bound.flag) \(parts[0]) must be between 0 and \(Int(limit))\(limit == 1 ? " (or 0%–100%)" : "")")
    }
    // A fraction on the 0–100 scale is almost surely a rate written as for the other metrics: a
    // gate at 0.9 points would let nearly anything through.
    if parts[0] == "clear_score", !percent, value > 0, value <= 1 {
      throw GateError(
        "--fail-under clear_score is on a 0–100 scale: \(raw) would pass nearly any agent; did you mean clear_score=\(Fmt.gateNumber(value * 100))?"
      )
    }
    metric = parts[0]
    threshold = value
  }

  /// As written on the command line.
  public var description: String { "\(metric)\(condition.map { "@" + $0 } ?? "")=\(threshold)" }

  /// The agent's value of this gate's metric (nil when it cannot be measured).
  public func value(of m: AgentMetrics) -> Double? {
    switch metric {
    case "success_rate": m.successRate
    case "first_run_success": m.firstRunSuccess
    case "sustained_success": m.sustainedSuccess
    case "consistency": m.consistency
    case "efficacy_rate": m.efficacyRate
    case "assurance_rate": m.assuranceRate
    case "policy_adherence": m.policyAdherence
    case "sla_compliance": m.slaCompliance
    case "recovery_rate": m.recoveryRate
    case "fault_cliff": m.faultCliff
    case "reliability_cliff": m.reliabilityCliff
    default: m.clear.score
    }
  }

  /// Why the gated pairs of `agents` fail, one sentence each: every pair under the gate's condition
  /// (every pair when it names none). A condition the run did not have fails: nothing unmeasured passes.
  /// Without a condition, `recovery_rate` and `fault_cliff` gate the pairs where they exist (a clean
  /// condition has neither), and fail when no pair has one.
  public func failures(in agents: [AgentMetrics]) -> [String] {
    var gated = agents.filter { condition == nil || $0.condition == condition }
    if let condition, gated.isEmpty {
      let run = Array(Set(agents.map(\.condition))).sorted().joined(separator: ", ")
      return ["\(bound.flag) \(self.metricText): the run has no condition '\(condition)' (conditions: \(run))"]
    }
    if condition == nil, Gate.conditionMetrics.contains(metric) {
      let measured = gated.filter { value(of: $0) != nil }
      guard !measured.isEmpty else {
        return [
          "\(bound.flag) \(metric): no agent and condition of this run has one (it needs a condition with faults\(metric == "fault_cliff" ? ", after the first" : ""))"
        ]
      }
      gated = measured
    }
    return gated.compactMap(failure(for:))
  }

  /// Metrics only conditions with faults (or after the first) have.
  static let conditionMetrics: Set = ["recovery_rate", "fault_cliff"]

  /// `METRIC@CONDITION` as written.
  var metricText: String { metric + (condition.map { "@" + $0 } ?? "") }

  /// Why the agent fails this gate, or nil when it passes. An unmeasurable metric fails: a gate never passes silently.
  public func failure(for m: AgentMetrics) -> String? {
    guard let value = value(of: m) else {
      let why =
        switch metric {
        case "sla_compliance": "the suite has no slo.latency"
        case "recovery_rate": "no fault fired in its trials"
        case "fault_cliff": "it is measured against the run's first condition, which this is or which passed no task"
        default: "no data"
        }
      return "agent \(m.label): \(metric) cannot be measured for this run (\(why)), so \(bound.flag) \(metric) fails"
    }
    guard bound == .lower ? value < threshold : value > threshold else { return nil }
    let shown = metric == "clear_score" ? String(format: "%.1f", value) : String(format: "%.3f", value)
    let limit = metric == "clear_score" ? String(format: "%.1f", threshold) : String(format: "%.3f", threshold)
    return "agent \(m.label): \(metric) \(shown) is \(bound == .lower ? "below" : "above") \(limit)"
  }
}

extension Fmt {
  /// `90`, `87.5`: a threshold as a user would type it.
  static func gateNumber(_ x: Double) -> String {
    let rounded = (x * 1e6).rounded() / 1e6
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
  }
}

/// A `--fail-under` argument that cannot be used.
public struct GateError: Error, Sendable, CustomStringConvertible {
  /// As written on the command line.
  public var description: String
  init(_ description: String) { self.description = description }
}
