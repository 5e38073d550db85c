import EvalhCore
import EvalhStore
import Foundation

/// The terminal summary of reports.md: a headline per agent, then tasks worst first.
public enum TextReport {
  /// Task rows in the terminal table, worst first.
  static let taskRowsShown = 100

  /// Flaky task names listed in the summary.
  static let flakyNamesShown = 20

  /// The k at which the pass^k curve is printed: every k up to 12, then doublings and n.
  static func curvePoints(_ n: Int) -> [Int] {
    guard n > 12 else { return Array(1...n) }
    var points = Array(1...8)
    var k = 16
    while k < n {
      points.append(k)
      k *= 2
    }
    return points + [n]
  }

  /// Renders `report`; `color` adds ANSI colours (only for a terminal without NO_COLOR).
  /// `detect` is the drop in success rate the summary says how many trials `compare` needs to see.
  public static func render(_ report: RunReport, color: Bool = false, detect: Double = 0.05) -> String {
    var out = ""
    let run = report.run
    out += "run \(Escape.terminal(run.id)) · suite \(Escape.terminal(run.suite)) · \(run.status.rawValue)"
    if let label = run.label { out += " · label \(Escape.terminal(label))" }
    out += " · seed \(run.seed)\n"
    if let reason = run.stopReason { out += "  \(Escape.terminal(reason))\n" }
    if let shared = report.sharedServersNote { out += "  note: \(Escape.terminal(shared))\n" }
    for agent in report.agents {
      out += "\n" + headline(agent.metrics, color: color)
      if let use = agent.toolUse { out += toolLine(use) }
      out += detectLine(agent.metrics, drop: detect)
      out += "\n" + taskTable(agent, color: color)
    }
    for section in Robustness.sections(report) { out += "\n" + section.text }
    return out
  }

  static func paint(_ text: String, _ rate: Double?, _ color: Bool) -> String {
    guard color, let rate else { return text }
    let code = rate >= 0.9 ? "32" : rate >= 0.5 ? "33" : "31"
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }

  /// `51.3%  [42–60]` with the rate coloured; padded to a fixed width whether coloured or not.
  static func rate(_ value: Double?, _ interval: (low: Double, high: Double)?, _ color: Bool, digits: Int = 1) -> String
  {
    let text = Fmt.percent(value, digits: digits)
    let padded = Fmt.pad(text, 7)
    return paint(padded, value, color) + (interval.map { " " + Fmt.pad(Fmt.interval($0), 9) } ?? "")
  }

  /// How many trials per task a nightly `compare` needs to catch a drop of this size (80% power).
  static func detectLine(_ m: AgentMetrics, drop: Double) -> String {
    guard let needed = CompareStatistics.trialsToDetect(drop: drop, tasks: m.tasks) else { return "" }
    let points = Fmt.number((drop * 1000).rounded() / 10)
    let now = m.nMin
    let verdict = needed <= now ? "this run's \(now) are enough" : "this run: \(now)"
    return
      "  detect      a \(points)-point drop in success rate: compare catches it 4 times in 5 with \(needed) trials per task (\(verdict))\n"
  }

  /// Served tools: calls per trial, the agent's contract violations, phantom and repeated calls.
  static func toolLine(_ u: ToolUseSummary) -> String {
    "  tools       " + Escape.terminal(u.sentence) + "\n"
  }

  static func headline(_ m: AgentMetrics, color: Bool) -> String {
    let i = m.intervals
    let errorCount = m.errors.filter { $0.key != "grader" && $0.key != "tool" }.values.reduce(0, +)
    let perTask = Set(m.tasks.map(\.planned)).count == 1 ? "\(m.tasks.first?.planned ?? 0)" : "\(m.nMin)+"
    var out =
      "agent \(Escape.terminal(m.label)) — \(plural(m.tasks.count, "task")) × \(perTask) trial\(perTask == "1" ? "" : "s")"
    out += " (\(plural(m.trials, "trial")), \(plural(errorCount, "error")))\n"
    out += "  first run   \(rate(m.firstRunSuccess, i.firstRunSuccess, color))"
    out += "  sustained (pass^\(m.nMin))  \(rate(m.sustainedSuccess, i.sustainedSuccess, color))"
    out += "  reliability cliff \(m.reliabilityCliff.map { Fmt.percent($0, digits: 0) } ?? "–")\n"
    out += "  success     \(rate(m.successRate, i.successRate, color))"
    out += "  consistency \(Fmt.percent(m.consistency, digits: 0)) \(Fmt.interval(i.consistency))"
    out += "  flaky tasks \(m.flakyTasks.count)\n"
    if m.nMin > 1 {
      let curve = TextReport.curvePoints(m.nMin).map { "\($0):\(Fmt.percent(m.passHatK[$0 - 1], digits: 0))" }
        .joined(separator: " ")
      out += "  pass^k      \(curve)\n"
    }
    var cost =
      "  cost        \(Fmt.usd(m.costTotalUSD)) total, \(Fmt.usd(m.costPerTrialUSD))/trial, \(Fmt.usd(m.costPerSuccessUSD))/success"
    if let cna = m.cna { cost += ", CNA \(Fmt.compact(cna))" }
    if m.costUnknownTrials > 0 { cost += " (\(plural(m.costUnknownTrials, "trial")) of unknown cost)" }
    out += cost + "\n"
    if let judges = m.judgeCostUSD {
      out += "  judges      \(Fmt.usd(judges)) (judge graders; not in the agent's cost)\n"
    }
    out +=
      "  latency     p50 \(Fmt.millis(m.latency.p50))  p95 \(Fmt.millis(m.latency.p95))  p99 \(Fmt.millis(m.latency.p99))"
    if let sla = m.targets.slo.latency {
      out += "        SLA (\(Durations.format(sla))) \(Fmt.percent(m.slaCompliance)) \(Fmt.interval(i.slaCompliance))"
    }
    out += "\n"
    out += "  efficacy    \(Fmt.percent(m.efficacyRate)) \(Fmt.interval(i.efficacyRate)) trials meet every grader"
    if let score = m.efficacyScore { out += String(format: ", mean score %.2f", score) }
    out += "\n"
    out += "  assurance   \(Fmt.percent(m.assuranceRate)) \(Fmt.interval(i.assuranceRate)) trials clean"
    if let adherence = m.policyAdherence {
      out += ", policy adherence \(Fmt.percent(adherence)) \(Fmt.interval(i.policyAdherence))"
    }
    out += ", \(plural(m.violations, "violation"))"
    if !m.violationsByCheck.isEmpty {
      out += " (" + m.violationsByCheck.map { "\(Escape.terminal($0.check)) \($0.count)" }.joined(separator: ", ") + ")"
    }
    out += "\n"
    let clear = m.clear
    if let score = clear.score {
      let dims = clear.dimensions.map { d in d.value.map { String(format: "%@ %.2f", d.name, $0) } ?? "\(d.name) –" }
      var note =
        clear.equalWeights
        ? "equal weights"
        : "weights " + clear.dimensions.map { "\($0.name) \(Fmt.number($0.weight))" }.joined(separator: " ")
      if !clear.missing.isEmpty { note += "; \(clear.missing.joined(separator: ", ")) left out: no data" }
      out += "  CLEAR       \(Fmt.whole(score)) / 100 (\(dims.joined(separator: " · ")); \(note))\n"
    }
    let kinds = ["timeout"] + ErrorKind.allCases.map(\.rawValue)
    let errors = kinds.compactMap { k in m.errors[k].flatMap { $0 > 0 ? "\(k) \($0)" : nil } }
    out += "  errors      \(errors.isEmpty ? "none" : errors.joined(separator: ", "))"
    if (m.errors["grader"] ?? 0) + (m.errors["tool"] ?? 0) > 0 {
      out += "  (grader and tool errors are the suite's side: excluded from the rates)"
    }
    out += "\n"
    if !m.flakyTasks.isEmpty {
      // A terminal line, not a list of thousands: the JSON report and CSV export have them all.
      let shown = m.flakyTasks.prefix(TextReport.flakyNamesShown).map { Escape.terminal($0) }.joined(separator: ", ")
      let more = m.flakyTasks.count - TextReport.flakyNamesShown
      out += "  flaky       \(shown)\(more > 0 ? ", … and \(more) more" : "")\n"
    }
    if !m.shortTasks.isEmpty {
      out +=
        "  short       \(plural(m.shortTasks.count, "task")) with fewer trials than planned: \(m.shortTasks.map { Escape.terminal($0) }.joined(separator: ", "))\n"
    }
    return out
  }

  static func taskTable(_ a: AgentReport, color: Bool) -> String {
    let tasks = a.tasksWorstFirst
    let width = max(4, min(40, tasks.map { $0.taskID.count }.max() ?? 4))
    var out =
      "  " + Fmt.pad("task", width) + "      n  pass  first  pass^n  success (95% CI)      p95        cost  viol  err\n"
    for t in tasks.prefix(TextReport.taskRowsShown) {
      var line = "  " + Fmt.pad(Escape.terminal(String(t.taskID.prefix(40))), width)
      line += Fmt.lpad(t.isShort ? "\(t.trials + t.graderErrors)/\(t.planned)" : "\(t.trials)", 7)
      line += Fmt.lpad("\(t.passes)", 6)
      line += Fmt.lpad(t.trials == 0 ? "–" : t.firstRun ? "yes" : "no", 7)
      line += paint(Fmt.lpad(Fmt.percent(t.passHatN, digits: 0), 8), t.passHatN, color)
      line += Fmt.lpad("\(Fmt.percent(t.successRate, digits: 0)) \(Fmt.interval(t.interval))", 18)
      line += Fmt.lpad(Fmt.millis(t.latencyP95Ms), 9)
      line += Fmt.lpad(Fmt.usd(t.costPerTrialUSD), 12)
      line += Fmt.lpad("\(t.violations)", 6)
      line += Fmt.lpad("\(t.errors)", 5)
      out += line + "\n"
    }
    if tasks.count > TextReport.taskRowsShown {
      out +=
        "  … and \(tasks.count - TextReport.taskRowsShown) more tasks, better ones (every task: --format json, markdown, or export --csv)\n"
    }
    return out
  }
}

/// `1 trial`, `2 trials`.
func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
