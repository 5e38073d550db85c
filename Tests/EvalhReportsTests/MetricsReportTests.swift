import EvalhStore
import Foundation
import Testing

@testable import EvalhCore
@testable import EvalhReports

@Suite struct CannedMetricsTests {
  /// Every figure of the canned run's first agent, computed by hand from its pattern.
  @Test func handComputedFigures() throws {
    let m = cannedReport().0.agents[0].metrics
    // Tasks: refund 8/8, lookup 6/8, escalate 6/8 (a timeout and an exit error), policy 4/8.
    #expect(m.successRate == (1 + 0.75 + 0.75 + 0.5) / 4)
    #expect(m.firstRunSuccess == 1)
    #expect(m.sustainedSuccess == 0.25)
    #expect(m.reliabilityCliff == 0.75)
    // pass^2 = mean of C(c,2)/C(8,2): (28 + 15 + 15 + 6) / 28 / 4.
    #expect(abs(m.passHatK[1] - 64.0 / 28 / 4) < 1e-12)
    #expect(m.consistency == 0.25)
    // Efficacy: every trial but lookup's 2 failures, the timeout and the error: 28/32.
    #expect(m.efficacyRate == 28.0 / 32)
    #expect(m.assuranceRate == 28.0 / 32)
    // 2 checks on each of 32 trials, 4 violated.
    #expect(m.policyAdherence == 60.0 / 64)
    #expect(abs(m.costTotalUSD! - 0.031) < 1e-12)
    #expect(abs(m.costPerSuccessUSD! - 0.031 / 24) < 1e-12)
    #expect(abs(m.cna! - 75_000) < 1e-6)
    #expect(m.costUnknownTrials == 1)
    #expect(m.slaCompliance == 1)
    // CLEAR with weights C1 L1 E2 A1 R3: (1 + 1 + 2·0.875 + 0.875 + 3·0.25) / 8.
    #expect(abs(m.clear.score! - 100 * 5.375 / 8) < 1e-9)
    #expect(m.errors["timeout"] == 1 && m.errors["agent_exit"] == 1)
  }

  @Test func clearLeavesOutWhatItCannotMeasure() {
    var trials: [TrialFacts] = []
    for t in 1...4 {
      trials.append(
        TrialFacts(taskID: "a", trial: t, status: t == 1 ? .fail : .pass, latencyMs: 100, efficacyPass: t != 1))
    }
    let m = AgentMetrics(agent: "x", trials: trials, planned: [:])
    // No slo (no C, no L): the score uses E, A and R with equal weights.
    #expect(m.clear.missing == ["C", "L"])
    let expected: Double = 100 * (0.75 + 1 + 0) / 3
    #expect(abs(m.clear.score! - expected) < 1e-9)
    #expect(m.slaCompliance == nil && m.intervals.slaCompliance == nil)
  }

  @Test func intervalsComeFromTheTaskLevelFormula() throws {
    let m = cannedReport().0.agents[0].metrics
    let success = try #require(m.intervals.successRate)
    // The suite interval of the per-task success rates, with the trials as its most units.
    let direct = try #require(
      SuiteInterval.of(
        numerators: m.tasks.map(\.successRate), denominators: m.tasks.map { _ in 1 },
        units: Double(m.tasks.reduce(0) { $0 + $1.trials })))
    #expect(success.low == direct.low && success.high == direct.high)
    #expect(success.low <= m.successRate! && m.successRate! <= success.high)
    // Reproducible: a second computation gives the same bounds.
    let again = cannedReport().0.agents[0].metrics.intervals
    #expect(again.sustainedSuccess?.low == m.intervals.sustainedSuccess?.low)
    #expect(m.intervals.passHatK.count == 8 && m.intervals.passAtK.count == 8)
  }

  @Test func targetsAreReadFromTheStoredSuite() {
    let t = MetricTargets(
      config: JSONValue.parse(#"{"slo":{"latency":"250ms","cost":0.01},"clear":{"weights":{"reliability":0.5}}}"#)!)
    #expect(t.slo == SLO(latency: 0.25, cost: 0.01))
    #expect(t.weights.reliability == 0.5 && t.weights.cost == 0.2)
    #expect(MetricTargets(config: JSONValue.parse(#"{"slo":{"latency":3}}"#)!).slo.latency == 3)
  }

  @Test func gates() throws {
    let m = cannedReport().0.agents[0].metrics
    #expect(
      try Gate(parsing: "sustained_success=0.5").failure(for: m)
        == "agent small: sustained_success 0.250 is below 0.500")
    #expect(try Gate(parsing: "success_rate=70%").failure(for: m) == nil)
    #expect(try Gate(parsing: "clear_score=70").failure(for: m) == "agent small: clear_score 67.2 is below 70.0")
    #expect(try Gate(parsing: "clear_score=60").failure(for: m) == nil)
    let noSLO = AgentMetrics(
      agent: "y", trials: [TrialFacts(taskID: "a", trial: 1, status: .pass, latencyMs: 1)], planned: [:])
    #expect(try Gate(parsing: "sla_compliance=0.9").failure(for: noSLO)?.contains("has no slo.latency") == true)
    do {
      _ = try Gate(parsing: "sustained=0.5")
      Issue.record("accepted an unknown metric")
    } catch {
      #expect(error.description.hasPrefix("unknown metric 'sustained' in --fail-under"))
    }
    #expect(throws: GateError.self) { try Gate(parsing: "success_rate") }
    #expect(throws: GateError.self) { try Gate(parsing: "success_rate=1.5") }
    #expect(throws: GateError.self) { try Gate(parsing: "success_rate=abc") }
    // clear_score is 0–100: a rate-like 0.9 is refused with the likely meaning, 90% and 0 are not.
    do {
      _ = try Gate(parsing: "clear_score=0.9")
      Issue.record("accepted clear_score=0.9")
    } catch {
      #expect(error.description.contains("did you mean clear_score=90?"), "\(error)")
    }
    #expect(throws: GateError.self) { try Gate(parsing: "clear_score=1") }
    #expect(throws: GateError.self) { try Gate(parsing: "clear_score=101") }
    #expect(try Gate(parsing: "clear_score=90%").threshold == 90)
    #expect(try Gate(parsing: "clear_score=0").threshold == 0)
    #expect(try Gate(parsing: "clear_score=1.5").threshold == 1.5)
  }
}

/// Small truths the outputs must tell the same way everywhere.
@Suite struct OutputTruthTests {
  /// An agent whose trials report no cost, beside one that does.
  func reportWithAnUnpricedAgent() -> RunReport {
    let (canned, _) = cannedReport()
    let facts = (1...4).map { trial in
      TrialFacts(
        taskID: "refund", trial: trial, status: trial == 1 ? .fail : .pass, errorKind: nil, latencyMs: 100,
        costUSD: nil, violations: 0, efficacyPass: trial != 1, efficacyScore: nil, checks: 0)
    }
    let unpriced = AgentMetrics(agent: "unpriced", trials: facts, planned: ["refund": 4], targets: MetricTargets())
    return RunReport(run: canned.run, agents: [canned.agents[0], AgentReport(unpriced)])
  }

  @Test func theHTMLCliffReadsAsTheTextDoes() {
    let (report, grid) = cannedReport()
    let html = HTMLReport.render(report, grid: grid)
    #expect(html.contains("<b class=\"cliff\">75%</b>"))
    #expect(!html.contains("−75%"))
    #expect(TextReport.render(report).contains("reliability cliff 75%"))
  }

  @Test func theCostChartSaysWhoItLeavesOut() {
    let report = reportWithAnUnpricedAgent()
    let html = HTMLReport.render(report, grid: TrialGrid(statuses: [:], latencies: [:]))
    #expect(html.contains("unpriced is not shown: its cost is unknown"))
    #expect(html.contains("small is placed on the 31 trials of known cost (1 unknown)"))
  }

  @Test func floatResidueIsZeroInCSVAndJSON() {
    let residue = 1 - 0.9444444444444444 - 0.05555555555555547  // about 5.6e-17
    #expect(residue != 0)
    #expect(CSVExport.Cell.number(residue).rendered == "0")
    #expect(CSVExport.Cell.number(5.551115123125783e-17).rendered == "0")
    #expect(JSONReport.number(5.551115123125783e-17) == .number(0))
    // Real small values survive.
    #expect(
      CSVExport.Cell.number(0.0000012).rendered == "0.0000012" || CSVExport.Cell.number(0.0000012).rendered == "1.2e-06"
    )
    #expect(JSONReport.number(0.0000012) == .number(0.0000012))
  }

  @Test func summaryCSVCarriesIntervalsSeedAndUnknownCost() throws {
    let report = reportWithAnUnpricedAgent()
    let records = try CSVRecord.parse(CSVExport.summary(report))
    let header = try #require(records.first?.fields)
    let row = try #require(records.last?.fields)
    func cell(_ name: String) -> String? { header.firstIndex(of: name).map { row[$0] } }
    #expect(cell("seed") == "42")
    #expect(cell("cost_unknown_trials") == "4")
    let low = try #require(Double(cell("success_rate_low") ?? ""))
    let high = try #require(Double(cell("success_rate_high") ?? ""))
    #expect(low <= 0.75 && 0.75 <= high)
  }
}

/// `report --format markdown` always fits GitHub's 1 MiB step summary.
@Suite struct StepSummarySizeTests {
  /// `agents` agents over `tasks` tasks with 200-byte ids, half of them flaky, 8 trials each.
  func bigReport(agents: Int, tasks: Int) -> RunReport {
    let ids = (0..<tasks).map { i in String(format: "task-%06d-", i) + String(repeating: "x|*_", count: 47) }
    let plan = RunPlan(agents: (0..<agents).map { "agent-\($0)" }, tasks: ids.map { .init(id: $0, trials: 8) })
    let run = RunRecord(
      id: "r-big", suite: "big", suitePath: nil, suiteSHA256: "0", label: nil, seed: 7, trials: 8, status: .completed,
      startedAt: Date(timeIntervalSince1970: 0), evalhVersion: nil, host: nil, gitCommit: nil, configJSON: "{}",
      plan: plan)
    let reports = plan.agents.map { agent in
      var tally = TrialTally(slaLimitMs: nil)
      for (t, id) in ids.enumerated() {
        for trial in 1...8 {
          tally.add(
            TrialFacts(
              taskID: id, trial: trial, status: t % 2 == 0 && trial == 3 ? .fail : .pass, errorKind: nil,
              latencyMs: 10, costUSD: 0.001, violations: 0, efficacyPass: nil, efficacyScore: nil, checks: 0))
        }
      }
      return AgentReport(
        AgentMetrics(agent: agent, tally: tally, planned: plan.plannedByTask, withIntervals: false))
    }
    return RunReport(run: run, agents: reports)
  }

  @Test func twoAgentsOfTenThousandTasksFit() {
    let md = MarkdownReport.render(bigReport(agents: 2, tasks: 10_000))
    #expect(md.utf8.count < 100_000, "\(md.utf8.count) bytes")  // docs/reading-the-report.md: about 78 KB
    #expect(md.contains("The 50 worst of 10000 tasks"))
    #expect(md.contains("9950 more tasks are left out: `evalh export r-big --csv DIR`"))
    #expect(md.contains("Flaky tasks (5000): ") && md.contains(" … and 4950 more"))
    // Side by side: one row per agent before the sections.
    #expect(md.contains("| agent | first run | sustained |") && md.contains("| agent-1 | "))
  }

  @Test func manyAgentsStillFit() {
    let md = MarkdownReport.render(bigReport(agents: 300, tasks: 60))
    #expect(md.utf8.count <= MarkdownReport.byteBudget, "\(md.utf8.count) bytes")
    #expect(md.contains("more agents are left out to stay under GitHub's 1 MiB summary limit"))
    #expect(md.contains("### Agent agent-0") && !md.contains("### Agent agent-299"))
  }
}

/// The HTML drill-down stays bounded whatever the agents wrote.
@Suite struct DrillDownSizeTests {
  @Test func hostileTrialsCannotInflateThePage() {
    let hostileText = String(repeating: "<&>\"", count: 5_000)
    let grades = (0..<40).map {
      Grade(kind: .expect, grader: "g\($0)", passed: $0 % 2 == 0, detail: String(repeating: "<", count: 3_000))
    }
    let trials = (1...50).map {
      TrialRecord(
        runID: "r", agent: "a", taskID: "t", trial: $0, status: $0 % 3 == 0 ? .pass : .fail, error: hostileText,
        latencyMs: 1, seed: 1, outputJSON: JSONValue.string(hostileText).compactText, stderrTail: hostileText,
        startedAt: Date(), finishedAt: Date(), grades: grades)
    }
    let task = cannedReport().0.agents[0].metrics.tasks[1]
    let details = (0..<300).map { _ in TaskDetail(agent: "a", task: task, trials: trials) }
    let html = TrialDetails.html(details, leftOut: 0, runID: "r")
    #expect(html.utf8.count <= TrialDetails.byteBudget + 2_000, "\(html.utf8.count)")
    #expect(html.contains("more failing or flaky tasks are left out"))
    // Each task shows its failing trials first, at most eight, and says how many more there are.
    #expect(html.contains("42 more trials: <code>evalh show r --task lookup</code>"))
    #expect(html.contains("… 28 more</li>"))  // grades past twelve
    #expect(!html.contains("<&>"))
  }
}
