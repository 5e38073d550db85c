import EvalhCore
import Foundation

/// GitHub-flavoured Markdown: the text report's content as tables, for pull requests and
/// `$GITHUB_STEP_SUMMARY`.
public enum MarkdownReport {
  /// The report as GitHub-flavoured Markdown.
  public static func render(_ report: RunReport) -> String {
    let run = report.run
    var out = "## evalh · \(Escape.markdown(run.suite))\n\n"
    out += "Run `\(run.id)` · \(run.status.rawValue)"
    if let label = run.label { out += " · label \(Escape.markdown(label))" }
    out += " · seed \(run.seed)\n"
    if let reason = run.stopReason { out += "\n> \(Escape.markdown(reason))\n" }
    if let shared = report.sharedServersNote { out += "\n> \(Escape.markdown(shared))\n" }
    for agent in report.agents { out += "\n" + section(agent) }
    return out
  }

  static func cell(_ value: Double?, _ interval: (low: Double, high: Double)?) -> String {
    Fmt.percent(value) + " | "
      + (interval.map { "\(Fmt.whole($0.low * 100))–\(Fmt.whole($0.high * 100))%" } ?? "")
  }

  static func section(_ a: AgentReport) -> String {
    let m = a.metrics
    let i = m.intervals
    let errorCount = m.errors.filter { $0.key != "grader" && $0.key != "tool" }.values.reduce(0, +)
    var out =
      "### Agent \(Escape.markdown(m.agent)): \(plural(m.tasks.count, "task")), \(plural(m.trials, "trial")), \(plural(errorCount, "error"))\n\n"
    out += "| metric | value | 95% interval |\n| --- | ---: | ---: |\n"
    out += "| first-run success | \(cell(m.firstRunSuccess, i.firstRunSuccess)) |\n"
    out += "| **sustained success (pass^\(m.nMin))** | \(cell(m.sustainedSuccess, i.sustainedSuccess)) |\n"
    out += "| reliability cliff | \(m.reliabilityCliff.map { Fmt.percent($0, digits: 0) } ?? "–") | |\n"
    out += "| success rate | \(cell(m.successRate, i.successRate)) |\n"
    out += "| consistency | \(cell(m.consistency, i.consistency)) |\n"
    out += "| efficacy | \(cell(m.efficacyRate, i.efficacyRate)) |\n"
    out += "| assurance (clean trials) | \(cell(m.assuranceRate, i.assuranceRate)) |\n"
    if m.policyAdherence != nil { out += "| policy adherence | \(cell(m.policyAdherence, i.policyAdherence)) |\n" }
    if let sla = m.targets.slo.latency {
      out += "| SLA compliance (\(Durations.format(sla))) | \(cell(m.slaCompliance, i.slaCompliance)) |\n"
    }
    out +=
      "| latency p50 / p95 / p99 | \(Fmt.millis(m.latency.p50)) / \(Fmt.millis(m.latency.p95)) / \(Fmt.millis(m.latency.p99)) | |\n"
    out +=
      "| cost total / per trial / per success | \(Fmt.usd(m.costTotalUSD)) / \(Fmt.usd(m.costPerTrialUSD)) / \(Fmt.usd(m.costPerSuccessUSD)) | |\n"
    if let judges = m.judgeCostUSD { out += "| judge graders' cost (not in the agent's) | \(Fmt.usd(judges)) | |\n" }
    if let score = m.clear.score {
      let dims = m.clear.dimensions.map { d in d.value.map { String(format: "%@ %.2f", d.name, $0) } ?? "\(d.name) –" }
      out += "| CLEAR | \(Fmt.whole(score)) / 100 | \(dims.joined(separator: " · ")) |\n"
    }
    if m.nMin > 1 {
      out += "\n| k | " + (1...m.nMin).map(String.init).joined(separator: " | ") + " |\n"
      out += "| --- |" + String(repeating: " ---: |", count: m.nMin) + "\n"
      out += "| pass^k | " + m.passHatK.map { Fmt.percent($0, digits: 0) }.joined(separator: " | ") + " |\n"
      out += "| pass@k | " + m.passAtK.map { Fmt.percent($0, digits: 0) }.joined(separator: " | ") + " |\n"
    }
    if let use = a.toolUse { out += "\nServed tools: " + Escape.markdown(use.sentence) + "\n" }
    if !m.violationsByCheck.isEmpty {
      out +=
        "\nViolations: "
        + m.violationsByCheck.map { "\(Escape.markdown($0.check)) \($0.count)" }.joined(separator: ", ") + "\n"
    }
    if !m.flakyTasks.isEmpty {
      out +=
        "\nFlaky tasks (\(m.flakyTasks.count)): " + m.flakyTasks.map(Escape.markdown).joined(separator: ", ") + "\n"
    }
    if !m.shortTasks.isEmpty {
      out +=
        "\nShort tasks (fewer trials than planned): " + m.shortTasks.map(Escape.markdown).joined(separator: ", ") + "\n"
    }
    out += "\n<details><summary>Tasks, worst first</summary>\n\n"
    out +=
      "| task | trials | passes | first run | pass^n | success | 95% interval | p95 | cost/trial | violations | errors |\n"
    out += "| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    for t in a.tasksWorstFirst {
      out +=
        "| \(Escape.markdown(t.taskID)) | \(t.isShort ? "\(t.trials + t.graderErrors)/\(t.planned)" : "\(t.trials)") | \(t.passes) | "
      out +=
        "\(t.trials == 0 ? "–" : t.firstRun ? "✓" : "✗") | \(Fmt.percent(t.passHatN, digits: 0)) | \(Fmt.percent(t.successRate, digits: 0)) | "
      out +=
        "\(Fmt.whole(t.interval.low * 100))–\(Fmt.whole(t.interval.high * 100))% | \(Fmt.millis(t.latencyP95Ms)) | "
      out += "\(Fmt.usd(t.costPerTrialUSD)) | \(t.violations) | \(t.errors) |\n"
    }
    out += "\n</details>\n"
    return out
  }
}
