import EvalhCore
import EvalhStore
import Foundation

/// JUnit XML for CI test tabs: a `<testsuite>` per agent, a `<testcase>` per task (classname:
/// the suite). A task fails when its pass^n is below 1: some trial did not pass.
public enum JUnitReport {
  /// The report as JUnit XML: a test suite per agent, a test case per task.
  public static func render(_ report: RunReport) -> String {
    let suite = Escape.xml(report.run.suite)
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    let failures = report.agents.reduce(0) { $0 + $1.metrics.tasks.filter { $0.passHatN < 1 }.count }
    let tests = report.agents.reduce(0) { $0 + $1.metrics.tasks.count }
    out += "<testsuites name=\"\(suite)\" tests=\"\(tests)\" failures=\"\(failures)\">\n"
    for agent in report.agents {
      let m = agent.metrics
      let failed = m.tasks.filter { $0.passHatN < 1 }.count
      let seconds = m.tasks.isEmpty ? 0 : (m.latency.mean ?? 0) * Double(m.trials) / 1000
      out +=
        "  <testsuite name=\"\(Escape.xml(m.agent))\" tests=\"\(m.tasks.count)\" failures=\"\(failed)\" time=\"\(String(format: "%.3f", seconds))\">\n"
      out += "    <properties>\n"
      for (name, value) in [
        ("run_id", report.run.id), ("first_run_success", Fmt.percent(m.firstRunSuccess)),
        ("sustained_success", Fmt.percent(m.sustainedSuccess)), ("success_rate", Fmt.percent(m.successRate)),
      ] {
        out += "      <property name=\"\(name)\" value=\"\(Escape.xml(value))\"/>\n"
      }
      out += "    </properties>\n"
      for t in m.tasks {
        let time = (t.latencyP50Ms ?? 0) * Double(t.trials) / 1000
        out +=
          "    <testcase classname=\"\(suite)\" name=\"\(Escape.xml(t.taskID))\" time=\"\(String(format: "%.3f", time))\""
        if t.passHatN >= 1 {
          out += "/>\n"
          continue
        }
        var message = "\(t.passes)/\(t.trials) trials passed"
        if t.isShort { message += " (\(t.trials + t.graderErrors) of \(t.planned) planned were recorded)" }
        var detail =
          "success \(Fmt.percent(t.successRate)) [\(Fmt.whole(t.interval.low * 100))–\(Fmt.whole(t.interval.high * 100))%], first run \(t.firstRun ? "passed" : "failed")"
        if t.violations > 0 { detail += ", \(plural(t.violations, "violation"))" }
        if t.errors > 0 { detail += ", \(t.errors) errors or timeouts" }
        out +=
          ">\n      <failure message=\"\(Escape.xml(message))\" type=\"unreliable\">\(Escape.xml(detail))</failure>\n    </testcase>\n"
      }
      out += "  </testsuite>\n"
    }
    out += "</testsuites>\n"
    return out
  }
}
