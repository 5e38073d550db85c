import EvalhStore
import Foundation
import Testing

@testable import EvalhCore
@testable import EvalhReports

/// A table-driven agent under three conditions, stored in a real database: each trial's outcome and
/// calls are written out below, so every figure of the robustness section can be computed by hand.
enum ConditionRun {
  static let started = Date(timeIntervalSince1970: 1_795_000_000)
  static let config =
    #"{"name":"desk","tools":{"lookup_order":{"annotations":{"read_only":true}},"issue_refund":{}},"tasks":[{"id":"refund","variants":["Refund A1 please"]}]}"#

  /// A call: tool, fault (nil: clean), whether the agent saw an error.
  typealias Call = (tool: String, fault: String?, error: Bool)
  static let lookup: Call = ("lookup_order", nil, false)
  static let refund: Call = ("issue_refund", nil, false)

  /// (condition, task, trial) → passed, calls. `flaky` is the only condition with faults.
  static func outcome(_ condition: String, _ task: String, _ trial: Int, worse: Bool) -> (Bool, [Call]) {
    switch (condition, task, trial) {
    case ("flaky", "refund", 1): (true, [("lookup_order", "unavailable", true), lookup, refund])
    case ("flaky", "refund", 2): (false, [lookup, ("issue_refund", "lost_response", true), refund])
    case ("flaky", "refund", 4): (false, [lookup, ("issue_refund", "timeout", true)])
    case ("flaky", "lookup", 1): (!worse, [("lookup_order", "unavailable", true), lookup])
    case ("typos", "refund", 3): (false, [lookup, refund])
    case (_, "lookup", 4): (false, [lookup])
    case (_, "refund", _): (true, [lookup, refund])
    default: (true, [lookup])
    }
  }

  /// The run stored in a fresh database; `worse` makes the flaky lookup of trial 1 fail (a candidate).
  static func store(id: String = "r-cond", worse: Bool = false) throws -> (ResultStore, RunRecord) {
    let path = NSTemporaryDirectory() + "evalh-cond-" + UUID().uuidString + ".sqlite"
    let store = try ResultStore(path: path, create: true)
    let plan = RunPlan(
      agents: ["bot"], conditions: ["clean", "flaky", "typos"],
      tasks: [.init(id: "refund", trials: 4), .init(id: "lookup", trials: 4)])
    let run = RunRecord(
      id: id, suite: "desk", suitePath: "/x/desk.yaml", suiteSHA256: "0", label: nil, seed: 7, trials: 4,
      status: .completed, startedAt: started, finishedAt: started + 30, evalhVersion: "0.1.0", host: "h",
      gitCommit: nil, configJSON: config, plan: plan)
    try store.createRun(run, tasks: [])
    var records: [TrialRecord] = []
    for condition in plan.conditions {
      for task in ["refund", "lookup"] {
        for trial in 1...4 {
          let (passed, calls) = outcome(condition, task, trial, worse: worse)
          var r = TrialRecord(
            runID: id, agent: "bot", taskID: task, trial: trial, status: passed ? .pass : .fail, efficacyPass: passed,
            efficacyScore: passed ? 1 : 0, latencyMs: 100 + Double(trial), costUSD: 0.01, seed: Int64(trial),
            outputJSON: #""ok""#, startedAt: started, finishedAt: started + 1,
            grades: [Grade(kind: .expect, grader: "done", passed: passed)])
          r.condition = condition
          if task == "refund" { r.variant = (trial - 1) % 2 }
          if condition == "typos" { r.inputJSON = #""Refnud A1""# }
          r.toolCalls = calls.enumerated().map { i, c in
            ObservedCall(
              seq: i + 1, tool: c.tool, arguments: .object(["order_id": .string("A1")]),
              result: .object(["ok": .bool(!c.error)]), isError: c.error, fault: c.fault, latencyMs: 1,
              startedAt: started)
          }
          r.phantomCalls = 0
          records.append(r)
        }
      }
    }
    try store.insertNow(records[0])
    for r in records.dropFirst() { try store.insertNow(r) }
    return (store, try #require(try store.run(id: id)))
  }
}

@Suite struct ConditionReportTests {
  @Test func everyFigureOfTheRobustnessSectionAsComputedByHand() throws {
    let (store, run) = try ConditionRun.store()
    let report = try RunReport.load(run, from: store)
    #expect(report.agents.map(\.metrics.label) == ["bot @ clean", "bot @ flaky", "bot @ typos"])
    let m = Dictionary(uniqueKeysWithValues: report.agents.map { ($0.metrics.condition, $0) })
    // clean: refund 4/4, lookup 3/4; flaky: refund 2/4, lookup 3/4; typos: refund 3/4, lookup 3/4.
    #expect(m["clean"]?.metrics.successRate == 0.875)
    #expect(m["flaky"]?.metrics.successRate == 0.625)
    #expect(m["typos"]?.metrics.successRate == 0.75)
    // pass^4: clean (1 + 0) / 2; the others 0: the cliff against clean is 1 − 0 / 0.5.
    #expect(m["clean"]?.metrics.sustainedSuccess == 0.5)
    #expect(m["flaky"]?.metrics.sustainedSuccess == 0 && m["flaky"]?.metrics.faultCliff == 1)
    #expect(m["clean"]?.metrics.faultCliff == nil && m["typos"]?.metrics.faultCliff == 1)
    // Faults fired in 4 trials (refund 1, 2, 4 and lookup 1); 2 of them passed.
    #expect(m["flaky"]?.metrics.recoveryRate == 0.5)
    #expect(m["clean"]?.metrics.recoveryRate == nil)
    let use = try #require(m["flaky"]?.toolUse)
    #expect(use.calls == 15 && use.callsPerTrial == 15.0 / 8)
    #expect(use.faultedCalls == 4 && use.retriesAfterFault == 3)
    // The refund retried after its response was lost: a repeated write, the one after lost_response.
    #expect(use.repeatedWrites == 1 && use.repeatsAfterLostResponse == 1)
    #expect(m["clean"]?.toolUse?.repeatedWrites == 0 && m["clean"]?.toolUse?.callsPerTrial == 1.5)

    let section = try #require(Robustness.sections(report).first)
    #expect(section.conditions.map(\.metrics.condition) == ["clean", "flaky", "typos"])
    #expect(section.recovery.map(\.kind) == ["unavailable", "timeout", "lost_response"])
    #expect(
      section.recovery.map(\.count) == [
        PassCount(trials: 2, passed: 2), PassCount(trials: 1, passed: 0), PassCount(trials: 1, passed: 0),
      ])
    // Wilson 95% for 2/2 and 0/1, by hand: (0.3424, 1) and (0, 0.7935).
    let unavailable = try #require(section.recovery[0].interval)
    #expect(abs(unavailable.low - 0.342380227507) < 1e-9 && unavailable.high == 1)
    let timeout = try #require(section.recovery[1].interval)
    #expect(timeout.low == 0 && abs(timeout.high - 0.793450685623) < 1e-9)
    // The refund's variants over the three conditions: #0 (trials 1, 3) 5/6, #1 (trials 2, 4) 4/6.
    let variants = try #require(section.variants.first)
    #expect(variants.task == "refund" && variants.worst == 1)
    #expect(variants.variants.map(\.count) == [PassCount(trials: 6, passed: 5), PassCount(trials: 6, passed: 4)])
  }

  @Test func everyFormatMatchesItsGoldenFile() throws {
    let (store, run) = try ConditionRun.store()
    let report = try RunReport.load(run, from: store)
    try assertGolden(TextReport.render(report), "conditions.txt")
    try assertGolden(MarkdownReport.render(report), "conditions.md")
    try assertGolden(JSONReport.render(report), "conditions.json")
    try assertGolden(JUnitReport.render(report), "conditions-junit.xml")
    try assertGolden(Robustness.csv(report), "robustness.csv")
    try assertGolden(HTMLReport.render(report, grid: try TrialGrid.load(report, from: store)), "conditions.html")
    // JUnit: a test case per (agent, condition, task).
    let junit = JUnitReport.render(report)
    #expect(junit.components(separatedBy: "<testcase ").count - 1 == 6)
    #expect(junit.contains(#"classname="desk.bot.flaky""#))
  }

  @Test func exportWritesToolCallsAndRobustnessFromOneReadWithIntervals() throws {
    let (store, run) = try ConditionRun.store()
    let folder = NSTemporaryDirectory() + "evalh-cond-csv-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try CSVExport.write(run, store: store, to: folder)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
        "passk.csv", "robustness.csv", "summary.csv", "tasks.csv", "tool_calls.csv", "trials.csv",
      ])
    // The same figures as the report's, the intervals included.
    let report = try RunReport.load(run, from: store)
    #expect(try String(contentsOfFile: folder + "/robustness.csv", encoding: .utf8) == Robustness.csv(report))
    #expect(try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8) == CSVExport.summary(report))
    let clean = try #require(report.agents.first?.metrics.intervals.successRate)
    #expect(clean.low > 0 && clean.high <= 1)
  }

  @Test func gatesNameAConditionAndRecoveryAndTheCliffAreGateable() throws {
    let (store, run) = try ConditionRun.store()
    let metrics = try RunReport.load(run, from: store).agents.map(\.metrics)
    func failures(_ text: String, _ bound: Gate.Bound = .lower) throws -> [String] {
      try Gate(parsing: text, bound: bound).failures(in: metrics)
    }
    #expect(try failures("success_rate@clean=0.85").isEmpty)
    #expect(
      try failures("success_rate=0.85") == [
        "agent bot @ flaky: success_rate 0.625 is below 0.850", "agent bot @ typos: success_rate 0.750 is below 0.850",
      ])
    #expect(try failures("recovery_rate@flaky=60%") == ["agent bot @ flaky: recovery_rate 0.500 is below 0.600"])
    // Without a condition, recovery is gated where faults fired.
    #expect(try failures("recovery_rate=0.5").isEmpty)
    #expect(
      try failures("recovery_rate@clean=0.5") == [
        "agent bot @ clean: recovery_rate cannot be measured for this run (no fault fired in its trials), so --fail-under recovery_rate fails"
      ])
    #expect(try failures("fault_cliff@flaky=0.3", .upper) == ["agent bot @ flaky: fault_cliff 1.000 is above 0.300"])
    #expect(
      try failures("success_rate@nope=0.5") == [
        "--fail-under success_rate@nope: the run has no condition 'nope' (conditions: clean, flaky, typos)"
      ])
    #expect(throws: GateError.self) { try Gate(parsing: "fault_cliff=0.3") }
    #expect(throws: GateError.self) { try Gate(parsing: "success_rate=0.3", bound: .upper) }
  }

  @Test func compareGatesEachConditionOnItsOwn() throws {
    let (baseStore, baseRun) = try ConditionRun.store(id: "r-base")
    let (candStore, candRun) = try ConditionRun.store(id: "r-cand", worse: true)
    let base = try RunReport.load(baseRun, from: baseStore).agents.map(\.metrics)
    var candidate = try RunReport.load(candRun, from: candStore).agents.map(\.metrics)
    let same = Comparison(base: base, candidate: base)
    #expect(same.agents.map(\.agent) == ["bot @ clean", "bot @ flaky", "bot @ typos"])
    #expect(!same.regressed)
    let worse = Comparison(base: base, candidate: candidate)
    // Only flaky changed: its lookup lost a pass; the other conditions pair with themselves.
    let deltas = Dictionary(uniqueKeysWithValues: worse.agents.map { ($0.agent, $0.sharedTasks) })
    #expect(deltas == ["bot @ clean": 2, "bot @ flaky": 2, "bot @ typos": 2])
    // A condition the candidate did not run is missing, never passed.
    candidate.removeAll { $0.condition == "typos" }
    let partial = Comparison(base: base, candidate: candidate)
    #expect(partial.onlyInBase == ["bot @ typos"] && partial.regressed)
  }
}
