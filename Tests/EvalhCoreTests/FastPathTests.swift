import Testing

@testable import EvalhCore

/// The shortcuts taken for speed agree with the slow, obvious paths.
@Suite struct FastPathTests {
  @Test func stringLiteralsDecodeLikeTheJSONParser() {
    let cases = [
      #""plain""#, #""""#, #""tab\tnew\nline \"quoted\" back\\slash \/ \b\f\r""#, #""snow \u2603 and \ud83d\ude00""#,
      #""é — 中文""#,
    ]
    for json in cases {
      #expect(JSONValue.stringLiteral(json) == JSONValue.parse(json)?.stringValue ?? "\u{FFFD}", "\(json)")
    }
    // Foundation's parser refuses a lone surrogate; the export keeps the rest of the text.
    #expect(JSONValue.stringLiteral(#""lone \ud800 surrogate""#) == "lone \u{FFFD} surrogate")
    for notALiteral in [#"{"a":1}"#, "42", #""a" "b""#, #""bad \q escape""#, #""cut \u12""#, "\"", "null"] {
      #expect(JSONValue.stringLiteral(notALiteral) == nil, "\(notALiteral)")
    }
  }

  @Test func foldedTrialsGiveTheSameMetricsInAnyOrder() {
    var rng = SplitMix64(seed: 7)
    var facts: [TrialFacts] = []
    for task in 0..<40 {
      for trial in 1...6 {
        let roll = Double(rng.next() >> 11) / Double(1 << 53)
        let status: TrialStatus = roll < 0.05 ? .timeout : roll < 0.1 ? .error : roll < 0.6 ? .pass : .fail
        facts.append(
          TrialFacts(
            taskID: "t\(task)", trial: trial, status: status,
            errorKind: status == .error ? (trial == 2 ? .grader : .agentExit) : nil,
            latencyMs: 100 + Double(rng.next() % 900), costUSD: trial == 3 ? nil : 0.001 * Double(trial),
            violations: status == .fail && trial % 2 == 0 ? 1 : 0,
            efficacyPass: status == .pass || status == .fail ? status == .pass : nil,
            efficacyScore: status == .pass ? 1 : 0, checks: 2, judgeCostUSD: trial == 1 ? 0.0001 : nil))
      }
    }
    let targets = MetricTargets(slo: SLO(latency: 0.5, cost: 0.01))
    let ordered = AgentMetrics(agent: "a", trials: facts, planned: [:], targets: targets, withIntervals: true)
    let shuffled = AgentMetrics(
      agent: "a", trials: facts.shuffled(using: &rng), planned: [:], targets: targets, withIntervals: true)
    #expect(ordered.successRate == shuffled.successRate && ordered.firstRunSuccess == shuffled.firstRunSuccess)
    #expect(ordered.passHatK == shuffled.passHatK && ordered.errors == shuffled.errors)
    #expect(ordered.latency == shuffled.latency && ordered.slaCompliance == shuffled.slaCompliance)
    #expect(abs(ordered.costTotalUSD! - shuffled.costTotalUSD!) < 1e-12)
    #expect(abs(ordered.judgeCostUSD! - 40 * 0.0001) < 1e-12)
    #expect(ordered.intervals.successRate! == shuffled.intervals.successRate!)
    // First run is the lowest trial number, whatever order the rows came in.
    let firstRuns = Dictionary(grouping: facts.filter(\.isCounted), by: \.taskID).mapValues {
      $0.min { $0.trial < $1.trial }!.status == .pass
    }
    #expect(Dictionary(uniqueKeysWithValues: shuffled.tasks.map { ($0.taskID, $0.firstRun) }) == firstRuns)
  }
}
