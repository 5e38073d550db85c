import EvalhCore
import Foundation

/// The terminal summary of reports.md: a headline per agent, then tasks worst first.
public enum TextReport {
  /// Renders `report`; `color` adds ANSI colours (only for a terminal without NO_COLOR).
  public static func render(_ report: RunReport, color: Bool = false) -> String {
    var out = ""
    let run = report.run
    out += "run \(run.id) · suite \(Escape.terminal(run.suite)) · \(run.status.rawValue)"
    if let label = run.label { out += " · label \(Escape.terminal(label))" }
    out += " · seed \(run.seed)\n"
    if let reason = run.stopReason { out += "  \(Escape.terminal(reason))\n" }
    for agent in report.agents {
      out += "\n" + headline(agent, color: color)
      out += "\n" + taskTable(agent, color: color)
    }
    return out
  }

  static func paint(_ text: String, _ rate: Double?, _ color: Bool) -> String {
    guard color, let rate else { return text }
    let code = rate >= 0.9 ? "32" : rate >= 0.5 ? "33" : "31"
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }

  static func headline(_ a: AgentReport, color: Bool) -> String {
    let m = a.metrics
    let errorCount = m.errors.filter { $0.key != "grader" }.values.reduce(0, +)
    let perTask = Set(m.tasks.map(\.planned)).count == 1 ? "\(m.tasks.first?.planned ?? 0)" : "\(m.nMin)+"
    var out = "agent \(Escape.terminal(m.agent)) — \(m.tasks.count) tasks × \(perTask) trials (\(plural(m.trials, "trial")), \(plural(errorCount, "error")))\n"
    let first = Fmt.pad(paint(Fmt.percent(m.firstRunSuccess), m.firstRunSuccess, color), 7)
    let sustained = paint(Fmt.percent(m.sustainedSuccess), m.sustainedSuccess, color)
    out += "  first run   \(first)  \(Fmt.pad(Fmt.interval(a.firstRunInterval), 9))"
    out += "  sustained (pass^\(m.nMin))  \(sustained)  \(Fmt.pad(Fmt.interval(a.sustainedInterval), 9))"
    out += "  reliability cliff \(m.reliabilityCliff.map { Fmt.percent($0, digits: 0) } ?? "–")\n"
    out += "  success     \(Fmt.pad(paint(Fmt.percent(m.successRate), m.successRate, color), 7))  \(Fmt.pad(Fmt.interval(a.successInterval), 9))"
    out += "  consistency \(Fmt.percent(m.consistency, digits: 0))     flaky tasks \(m.flakyTasks.count)\n"
    if m.nMin > 1 {
      let curve = (1...m.nMin).map { "\($0):\(Fmt.percent(m.passHatK[$0 - 1], digits: 0))" }.joined(separator: " ")
      out += "  pass^k      \(curve)\n"
    }
    out += "  latency     p50 \(Fmt.millis(m.latency.p50))  p95 \(Fmt.millis(m.latency.p95))  p99 \(Fmt.millis(m.latency.p99))\n"
    if m.costTotalUSD != nil || m.costUnknownTrials < m.trials {
      out += "  cost        \(Fmt.usd(m.costTotalUSD)) total, \(Fmt.usd(m.costPerTrialUSD))/trial, \(Fmt.usd(m.costPerSuccessUSD))/success"
      out += m.costUnknownTrials > 0 ? " (\(plural(m.costUnknownTrials, "trial")) of unknown cost)\n" : "\n"
    }
    out += "  assurance   \(Fmt.percent(m.assuranceRate)) trials clean, \(plural(m.violations, "violation"))\n"
    let kinds = ["timeout"] + ErrorKind.allCases.map(\.rawValue)
    let errors = kinds.compactMap { k in m.errors[k].flatMap { $0 > 0 ? "\(k) \($0)" : nil } }
    out += "  errors      \(errors.isEmpty ? "none" : errors.joined(separator: ", "))"
    if (m.errors["grader"] ?? 0) > 0 { out += "  (grader errors are excluded from the rates)" }
    out += "\n"
    if !m.flakyTasks.isEmpty {
      out += "  flaky       \(m.flakyTasks.map { Escape.terminal($0) }.joined(separator: ", "))\n"
    }
    if !m.shortTasks.isEmpty {
      out += "  short       \(plural(m.shortTasks.count, "task")) with fewer trials than planned: \(m.shortTasks.map { Escape.terminal($0) }.joined(separator: ", "))\n"
    }
    return out
  }

  static func taskTable(_ a: AgentReport, color: Bool) -> String {
    let tasks = a.tasksWorstFirst
    let width = max(4, min(40, tasks.map { $0.taskID.count }.max() ?? 4))
    var out = "  " + Fmt.pad("task", width) + "      n  pass  first  pass^n     p95        cost  viol  err\n"
    for t in tasks {
      var line = "  " + Fmt.pad(Escape.terminal(String(t.taskID.prefix(40))), width)
      line += Fmt.lpad(t.isShort ? "\(t.trials)/\(t.planned)" : "\(t.trials)", 7)
      line += Fmt.lpad("\(t.passes)", 6)
      line += Fmt.lpad(t.trials == 0 ? "–" : t.firstRun ? "yes" : "no", 7)
      line += Fmt.lpad(paint(Fmt.percent(t.passHatN, digits: 0), t.passHatN, color), 8 + (color ? 9 : 0))
      line += Fmt.lpad(Fmt.millis(t.latencyP95Ms), 8)
      line += Fmt.lpad(Fmt.usd(t.costPerTrialUSD), 12)
      line += Fmt.lpad("\(t.violations)", 6)
      line += Fmt.lpad("\(t.errors)", 5)
      out += line + "\n"
    }
    return out
  }
}

/// `1 trial`, `2 trials`.
func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
