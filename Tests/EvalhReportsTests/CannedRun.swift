import EvalhCore
import EvalhStore
import Foundation
import Testing

@testable import EvalhReports

/// Hostile text, in every field an agent or a suite controls: markup, a CDATA end, a formula,
/// a terminal escape, a control character, quotes, a pipe and a newline.
let hostile = "<script>alert(1)</script> ]]> =HYPERLINK(\"x\") \u{1B}[31mred\u{07} | a\nb & 'q'"

/// A fixed run: two agents, four tasks, eight trials each, with every outcome kind.
func cannedReport() -> (RunReport, TrialGrid) {
  let started = Date(timeIntervalSince1970: 1_795_000_000)
  let plan = RunPlan(
    agents: ["small", hostile], tasks: ["refund", "lookup", "escalate", "policy"].map { .init(id: $0, trials: 8) })
  let config = JSONValue.parse(
    #"{"name":"canned","slo":{"latency":"2s","cost":0.002},"clear":{"weights":{"cost":1,"latency":1,"efficacy":2,"assurance":1,"reliability":3}}}"#
  )!
  let run = RunRecord(
    id: "r-20261122-abc123", suite: "support \(hostile)", suitePath: "/x/suite.yaml", suiteSHA256: "0",
    label: "=cmd|' /C calc'!A0",
    seed: 42, trials: 8, status: .completed, startedAt: started, finishedAt: started + 65, evalhVersion: "0.1.0",
    host: "h", gitCommit: nil, configJSON: config.compactText, plan: plan)
  var statuses: [String: [String: [Int: TrialStatus]]] = [:]
  var latencies: [String: [Double]] = [:]
  var agents: [AgentReport] = []
  for (a, agent) in plan.agents.enumerated() {
    var facts: [TrialFacts] = []
    for (t, task) in plan.tasks.enumerated() {
      for trial in 1...8 {
        // A deterministic pattern: task 0 always passes, task 1 fails every third trial, task 2
        // times out on trial 2 and errors on trial 5, task 3 passes half with a violation otherwise.
        var status = TrialStatus.pass
        var kind: ErrorKind?
        var violations = 0
        switch t {
        case 1 where (trial + a) % 3 == 0: status = .fail
        case 2 where trial == 2: status = .timeout
        case 2 where trial == 5:
          status = .error
          kind = .agentExit
        case 3 where trial % 2 == 0:
          status = .fail
          violations = 1
        default: break
        }
        let latency = status == .timeout ? 2000 : Double(100 + 37 * ((trial * 7 + t * 13 + a * 5) % 23))
        facts.append(
          TrialFacts(
            taskID: task.id, trial: trial, status: status, errorKind: kind, latencyMs: latency,
            costUSD: status == .error ? nil : 0.001 * Double(1 + a), violations: violations,
            efficacyPass: status == .pass ? true : status == .fail ? violations == 0 ? false : true : nil,
            efficacyScore: status == .pass ? 1 : status == .fail ? 0.5 : nil, checks: 2))
        statuses[agent, default: [:]][task.id, default: [:]][trial] = status
        latencies[agent, default: []].append(latency)
      }
    }
    let metrics = AgentMetrics(
      agent: agent, trials: facts, planned: plan.plannedByTask, targets: MetricTargets(config: config),
      violationsByCheck: [(check: "no_pii \(hostile)", count: 4)])
    agents.append(AgentReport(metrics))
  }
  return (RunReport(run: run, agents: agents), TrialGrid(statuses: statuses, latencies: latencies))
}

/// Compares `text` with the checked-in golden file; `EVALH_RECORD=1` (re)writes it.
func assertGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
  let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)").path
  if ProcessInfo.processInfo.environment["EVALH_RECORD"] != nil {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return
  }
  guard let expected = FileManager.default.contents(atPath: path) else {
    Issue.record(
      "no golden file \(name): run the tests with EVALH_RECORD=1 to create it", sourceLocation: sourceLocation)
    return
  }
  let expectedText = String(decoding: expected, as: UTF8.self)
  if expectedText != text {
    let a = expectedText.split(separator: "\n", omittingEmptySubsequences: false)
    let b = text.split(separator: "\n", omittingEmptySubsequences: false)
    let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    Issue.record(
      "\(name) differs from its golden file at line \(line + 1):\n- \(line < a.count ? String(a[line]) : "(end)")\n+ \(line < b.count ? String(b[line]) : "(end)")\n(re-record with EVALH_RECORD=1 if the change is intended)",
      sourceLocation: sourceLocation)
  }
}
