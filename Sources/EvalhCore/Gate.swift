/// A `--fail-under METRIC=VALUE` gate.
public struct Gate: Sendable, Hashable, CustomStringConvertible {
  /// The scalar rates of metrics.md a gate may name (`clear_score` is 0–100, the others 0–1).
  public static let metrics = [
    "success_rate", "first_run_success", "sustained_success", "consistency", "efficacy_rate", "assurance_rate",
    "policy_adherence", "sla_compliance", "clear_score",
  ]

  /// The metric gated, by its name in `Gate.metrics`.
  public var metric: String
  /// The lowest value that passes.
  public var threshold: Double

  /// Parses `METRIC=VALUE`; VALUE may be a fraction (`0.8`) or a percentage (`80%`), or 0–100 for `clear_score`.
  public init(parsing text: String) throws(GateError) {
    let parts = text.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2 else { throw GateError("'\(text)' is not METRIC=VALUE") }
    guard Gate.metrics.contains(parts[0]) else {
      var message = "unknown metric '\(parts[0])' in --fail-under (metrics: \(Gate.metrics.joined(separator: ", ")))"
      if let hint = suggestion(for: parts[0], among: Gate.metrics) { message += "; did you mean '\(hint)'?" }
      throw GateError(message)
    }
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
        "--fail-under \(parts[0]) must be between 0 and \(Int(limit))\(limit == 1 ? " (or 0%–100%)" : "")")
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
  public var description: String { "\(metric)=\(threshold)" }

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
    default: m.clear.score
    }
  }

  /// Why the agent fails this gate, or nil when it passes. An unmeasurable metric fails: a gate never passes silently.
  public func failure(for m: AgentMetrics) -> String? {
    guard let value = value(of: m) else {
      return
        "agent \(m.label): \(metric) cannot be measured for this run (\(metric == "sla_compliance" ? "the suite has no slo.latency" : "no data")), so --fail-under \(metric) fails"
    }
    guard value < threshold else { return nil }
    let shown = metric == "clear_score" ? String(format: "%.1f", value) : String(format: "%.3f", value)
    let bound = metric == "clear_score" ? String(format: "%.1f", threshold) : String(format: "%.3f", threshold)
    return "agent \(m.label): \(metric) \(shown) is below \(bound)"
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
