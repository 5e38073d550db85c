import EvalhCore
import EvalhStore
import Foundation

/// JUnit XML for CI test tabs: a `<testsuite>` per agent (per agent and condition when the run has
/// conditions), a `<testcase>` per task with classname `suite.agent` (`suite.agent.condition`), so
/// two agents' tasks never collide. A task passes when every trial passed; one
/// some of whose trials answered wrongly is a `<failure>`; one whose only misses were errors or
/// timeouts is an `<error>` (nothing was answered to judge); one with no gradable trial is skipped.
public enum JUnitReport {
  /// The report as JUnit XML.
  public static func render(_ report: RunReport) -> String {
    let suites = report.agents.map { agent -> JUnitXML.TestSuite in
      let m = agent.metrics
      let classname = "\(report.run.suite).\(m.agent)" + (m.showsCondition ? ".\(m.condition)" : "")
      let cases = m.tasks.map { task in
        JUnitXML.TestCase(
          classname: classname, name: task.taskID, seconds: (task.latencyP50Ms ?? 0) * Double(task.trials) / 1000,
          outcome: outcome(task))
      }
      return JUnitXML.TestSuite(
        name: m.label, package: report.run.suite,
        seconds: m.tasks.isEmpty ? 0 : (m.latency.mean ?? 0) * Double(m.trials) / 1000,
        timestamp: report.run.startedAt, hostname: report.run.host,
        properties: [
          ("run_id", report.run.id), ("run_status", report.run.status.rawValue), ("seed", String(report.run.seed)),
          ("condition", m.condition),
          ("first_run_success", JUnitXML.number(m.firstRunSuccess)),
          ("sustained_success", JUnitXML.number(m.sustainedSuccess)),
          ("success_rate", JUnitXML.number(m.successRate)),
        ],
        cases: cases)
    }
    return JUnitXML(suites: suites).render()
  }

  static func outcome(_ t: TaskMetrics) -> JUnitXML.Outcome {
    if t.trials == 0 {
      return .skipped(message: "no trial could be graded (\(plural(t.graderErrors, "harness-side error")))")
    }
    if t.passHatN >= 1 { return .passed }
    var message = "\(t.passes)/\(t.trials) trials passed"
    if t.isShort { message += " (\(t.trials + t.graderErrors) of \(t.planned) planned were recorded)" }
    var detail =
      "success \(Fmt.percent(t.successRate)) [\(Fmt.whole(t.interval.low * 100))–\(Fmt.whole(t.interval.high * 100))%], first run \(t.firstRun ? "passed" : "failed")"
    if t.violations > 0 { detail += ", \(plural(t.violations, "violation"))" }
    if t.errors > 0 { detail += ", \(t.errors) errors or timeouts" }
    let answeredWrong = t.trials - t.passes - t.errors
    return answeredWrong > 0
      ? .failure(type: "unreliable", message: message, detail: detail)
      : .error(type: "agent_error", message: message, detail: detail)
  }
}
