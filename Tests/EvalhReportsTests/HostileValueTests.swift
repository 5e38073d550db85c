import EvalhCore
import EvalhStore
import Foundation
import Testing

@testable import EvalhReports

/// Values another tool (or an old evalh) may have stored: every formatter and every renderer takes
/// them without trapping (issue 14: 3, 4).
@Suite struct HostileValueTests {
  @Test func formattersNeverTrap() {
    for x in [-1.5, -0.0, .infinity, -.infinity, .nan, 1e308, -1e308, 9.3e18, -9.3e18, .leastNonzeroMagnitude] {
      _ = Fmt.usd(x)
      _ = Fmt.millis(x)
      _ = Fmt.interval((x, x))
      _ = Fmt.whole(x)
      _ = Fmt.plain(x)
      _ = Fmt.number(x)
      _ = Fmt.compact(x)
      _ = Fmt.percent(x)
      _ = Durations.format(x)
    }
    #expect(Fmt.usd(-1.5) == "-$1.50" && Fmt.usd(.infinity) == "$inf")
    #expect(Fmt.whole(.nan) == 0 && Fmt.whole(1e300) == Int.max && Fmt.whole(-1e300) == Int.min)
  }

  /// A report of trials with negative, enormous and infinite total costs, in every format.
  @Test func everyFormatRendersCostsNoAgentShouldReport() {
    let plan = RunPlan(agents: ["a"], tasks: [.init(id: "t", trials: 3)])
    let run = RunRecord(
      id: "r-x", suite: "s", suitePath: nil, suiteSHA256: "0", label: nil, seed: 1, trials: 3, status: .completed,
      startedAt: Date(timeIntervalSince1970: 0), finishedAt: nil, evalhVersion: nil, host: nil, gitCommit: nil,
      configJSON: #"{"slo":{"cost":0.01}}"#, plan: plan)
    let facts = [
      TrialFacts(taskID: "t", trial: 1, status: .pass, latencyMs: 5, costUSD: 1e308, judgeCostUSD: -2),
      TrialFacts(taskID: "t", trial: 2, status: .pass, latencyMs: 6, costUSD: 1e308),
      TrialFacts(taskID: "t", trial: 3, status: .fail, latencyMs: 7, costUSD: -1.5),
    ]
    let metrics = AgentMetrics(
      agent: "a", trials: facts, planned: ["t": 3],
      targets: MetricTargets(config: JSONValue.parse(run.configJSON) ?? .null))
    #expect(metrics.costTotalUSD == .infinity)
    let report = RunReport(run: run, agents: [AgentReport(metrics)])
    let grid = TrialGrid(statuses: ["a": ["t": [1: .pass, 2: .pass, 3: .fail]]], latencies: ["a": [5, 6, 7]])
    #expect(!TextReport.render(report, color: false).isEmpty)
    #expect(!MarkdownReport.render(report).isEmpty)
    #expect(JSONValue.parse(JSONReport.render(report)) != nil)
    #expect(HTMLReport.render(report, grid: grid).contains("</html>"))
    #expect(!JUnitReport.render(report).isEmpty)
    #expect(!CSVExport.summary(report).isEmpty)
  }
}
