import EvalhCore
import Foundation

/// GitHub-flavoured Markdown: the text report's content as tables, for pull requests and
/// `$GITHUB_STEP_SUMMARY`. GitHub refuses a step summary over 1 MiB, so the output of any run is
/// kept under `byteBudget`: per-task tables and name lists are cut to the worst ones, saying how
/// many were left out and where the rest is.
public enum MarkdownReport {
  /// Under GitHub's 1 MiB (1,048,576 bytes) step-summary limit, with room for a line of the user's.
  public static let byteBudget = 1_000_000
  /// Task rows per agent, at most (fewer when there are many agents).
  static let taskRows = 50
  /// Names in one list (flaky tasks, short tasks, violated checks), at most.
  static let listedNames = 50

  /// The report as GitHub-flavoured Markdown.
  public static func render(_ report: RunReport) -> String {
    let run = report.run
    var out = "## evalh · \(Escape.markdown(run.suite))\n\n"
    out += "Run `\(run.id)` · \(run.status.rawValue)"
    if let label = run.label { out += " · label \(Escape.markdown(label))" }
    out += " · seed \(run.seed)\n"
    if let reason = run.stopReason { out += "\n> \(Escape.markdown(reason))\n" }
    if let shared = report.sharedServersNote { out += "\n> \(Escape.markdown(shared))\n" }
    if report.agents.count > 1 { out += "\n" + sideBySide(report.agents) }
    let rows = max(10, min(taskRows, 2_000 / max(1, report.agents.count)))
    let closing = "\nThe whole run: `evalh report \(run.id) --format text`, `evalh export \(run.id) --csv DIR`.\n"
    for (index, agent) in report.agents.enumerated() {
      let section = "\n" + section(agent, run: run.id, rows: rows)
      // A section that would pass the budget is left out whole, and the rest with it.
      if out.utf8.count + section.utf8.count + closing.utf8.count + 200 > byteBudget {
        let left = report.agents.count - index
        out +=
          "\nThe sections of \(plural(left, "more agent")) are left out to stay under GitHub's 1 MiB summary limit.\n"
        return out + closing
      }
      out += section
    }
    for robustness in Robustness.sections(report) {
      let section = "\n" + robustness.markdown
      if out.utf8.count + section.utf8.count + closing.utf8.count + 200 > byteBudget { break }
      out += section
    }
    return out
  }

  /// One row per agent with the headline figures, so several agents read side by side.
  static func sideBySide(_ agents: [AgentReport]) -> String {
    var out = "| agent | first run | sustained | cliff | success | cost / trial | latency p95 | errors |\n"
    out += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    for a in agents {
      let m = a.metrics
      let errors = m.errors.filter { $0.key != "grader" && $0.key != "tool" }.values.reduce(0, +)
      out += "| \(Escape.markdown(m.label)) | \(Fmt.percent(m.firstRunSuccess)) | \(Fmt.percent(m.sustainedSuccess)) | "
      out += "\(m.reliabilityCliff.map { Fmt.percent($0, digits: 0) } ?? "–") | \(Fmt.percent(m.successRate)) | "
      out += "\(Fmt.usd(m.costPerTrialUSD)) | \(Fmt.millis(m.latency.p95)) | \(errors) |\n"
    }
    return out
  }

  /// At most `listedNames` names, then how many more there are.
  static func names(_ all: [String], run: String) -> String {
    var text = all.prefix(listedNames).map(Escape.markdown).joined(separator: ", ")
    if all.count > listedNames {
      text += " … and \(all.count - listedNames) more (`evalh export \(run) --csv DIR` lists every task)"
    }
    return text
  }

  static func cell(_ value: Double?, _ interval: (low: Double, high: Double)?) -> String {
    Fmt.percent(value) + " | "
      + (interval.map { "\(Fmt.whole($0.low * 100))–\(Fmt.whole($0.high * 100))%" } ?? "")
  }

  static func section(_ a: AgentReport, run: String, rows: Int) -> String {
    let m = a.metrics
    let i = m.intervals
    let errorCount = m.errors.filter { $0.key != "grader" && $0.key != "tool" }.values.reduce(0, +)
    var out =
      "### Agent \(Escape.markdown(m.label)): \(plural(m.tasks.count, "task")), \(plural(m.trials, "trial")), \(plural(errorCount, "error"))\n\n"
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
        + names(m.violationsByCheck.map { "\($0.check) \($0.count)" }, run: run) + "\n"
    }
    if !m.flakyTasks.isEmpty {
      out +=
        "\nFlaky tasks (\(m.flakyTasks.count)): " + names(m.flakyTasks, run: run) + "\n"
    }
    if !m.shortTasks.isEmpty {
      out +=
        "\nShort tasks (fewer trials than planned): " + names(m.shortTasks, run: run) + "\n"
    }
    let worst = a.tasksWorstFirst
    let shown = worst.prefix(rows)
    let title = shown.count < worst.count ? "The \(shown.count) worst of \(worst.count) tasks" : "Tasks, worst first"
    out += "\n<details><summary>\(title)</summary>\n\n"
    out +=
      "| task | trials | passes | first run | pass^n | success | 95% interval | p95 | cost/trial | violations | errors |\n"
    out += "| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    for t in shown {
      out +=
        "| \(Escape.markdown(t.taskID)) | \(t.isShort ? "\(t.trials + t.graderErrors)/\(t.planned)" : "\(t.trials)") | \(t.passes) | "
      out +=
        "\(t.trials == 0 ? "–" : t.firstRun ? "✓" : "✗") | \(Fmt.percent(t.passHatN, digits: 0)) | \(Fmt.percent(t.successRate, digits: 0)) | "
      out +=
        "\(Fmt.whole(t.interval.low * 100))–\(Fmt.whole(t.interval.high * 100))% | \(Fmt.millis(t.latencyP95Ms)) | "
      out += "\(Fmt.usd(t.costPerTrialUSD)) | \(t.violations) | \(t.errors) |\n"
    }
    if shown.count < worst.count {
      out +=
        "\n\(worst.count - shown.count) more tasks are left out: `evalh export \(run) --csv DIR` (tasks.csv) or `evalh show \(run) --agent \(Escape.markdown(m.agent))` has them all.\n"
    }
    out += "\n</details>\n"
    return out
  }
}
