import Testing

@testable import EvalhCore

@Suite struct MetricsTests {
  /// A run read in parts is folded per part and merged: the same metrics as one fold, even when a
  /// task's trials fall in two parts (first run, sums, errors, judge cost, latencies).
  @Test func mergedTalliesMeasureLikeOneFold() {
    var facts: [TrialFacts] = []
    for (i, task) in ["A", "B", "C"].enumerated() {
      for t in 1...6 {
        let status: TrialStatus = (t + i) % 3 == 0 ? .fail : (t == 5 ? .timeout : .pass)
        facts.append(
          TrialFacts(
            taskID: task, trial: t, status: t == 4 && i == 1 ? .error : status,
            errorKind: t == 4 && i == 1 ? .grader : nil,
            latencyMs: Double(100 * t + i), costUSD: t % 2 == 0 ? 0.01 * Double(t) : nil, violations: t == 2 ? 1 : 0,
            efficacyPass: status == .pass, efficacyScore: Double(t) / 6, checks: 2, judgeCostUSD: i == 2 ? 0.5 : nil))
      }
    }
    var whole = TrialTally(slaLimitMs: 400)
    for f in facts { whole.add(f) }
    // Trials 1–3 of every task in one part, 4–6 in the other, the later part first.
    var early = TrialTally(slaLimitMs: 400)
    var late = TrialTally(slaLimitMs: 400)
    for f in facts { if f.trial <= 3 { early.add(f) } else { late.add(f) } }
    late.merge(early)
    let a = AgentMetrics(agent: "x", tally: whole, planned: [:], withIntervals: false)
    let b = AgentMetrics(agent: "x", tally: late, planned: [:], withIntervals: false)
    #expect(a.trials == 17 && b.trials == 17)
    #expect(a.firstRunSuccess == b.firstRunSuccess && a.successRate == b.successRate && a.consistency == b.consistency)
    #expect(a.passHatK == b.passHatK && a.passAtK == b.passAtK && a.latencySamples == b.latencySamples)
    #expect(a.costTotalUSD == b.costTotalUSD && a.judgeCostUSD == b.judgeCostUSD && a.errors == b.errors)
    #expect(
      a.policyAdherence == b.policyAdherence && a.efficacyScore == b.efficacyScore && a.slaCompliance == b.slaCompliance
    )
    #expect(
      a.tasks.map(\.firstRun) == b.tasks.map(\.firstRun) && a.tasks.map(\.graderErrors) == b.tasks.map(\.graderErrors))
    #expect(a.tasks.map(\.latencyP50Ms) == b.tasks.map(\.latencyP50Ms))
  }

  /// Task A passes 8/8, B 4/8 (trial 1 fails), C 0/8; plus one grader error on A (not counted).
  func sample() -> AgentMetrics {
    var trials: [TrialFacts] = []
    for t in 1...8 {
      trials.append(TrialFacts(taskID: "A", trial: t, status: .pass, latencyMs: Double(t * 100), costUSD: 0.01))
    }
    trials.append(TrialFacts(taskID: "A", trial: 9, status: .error, errorKind: .grader, latencyMs: 99_999))
    for t in 1...8 {
      trials.append(
        TrialFacts(
          taskID: "B", trial: t, status: t % 2 == 0 ? .pass : .fail, latencyMs: 100, violations: t == 1 ? 1 : 0))
    }
    for t in 1...7 { trials.append(TrialFacts(taskID: "C", trial: t, status: .fail, latencyMs: 100)) }
    trials.append(TrialFacts(taskID: "C", trial: 8, status: .timeout, latencyMs: 5000))
    return AgentMetrics(agent: "x", trials: trials, planned: ["A": 9, "B": 8, "C": 8])
  }

  @Test func headlineRatesByHand() throws {
    let m = sample()
    #expect(m.trials == 24)
    #expect(m.nMin == 8)
    let expectedSuccess: Double = (1 + 0.5 + 0) / 3
    #expect(m.successRate == expectedSuccess)
    #expect(m.firstRunSuccess == 1.0 / 3)
    // pass^8: A 1, B C(4,8)/C(8,8) = 0, C 0.
    #expect(m.sustainedSuccess == 1.0 / 3)
    #expect(m.reliabilityCliff == 0)
    // pass^2: A 1, B C(4,2)/C(8,2) = 6/28, C 0.
    let passHat2: Double = (1 + 6.0 / 28) / 3
    #expect(abs(m.passHatK[1] - passHat2) < 1e-12)
    // pass@2: A 1, B 1 − C(4,2)/C(8,2) = 22/28, C 0.
    let passAt2: Double = (1 + 22.0 / 28) / 3
    #expect(abs(m.passAtK[1] - passAt2) < 1e-12)
    #expect(m.consistency == 2.0 / 3)
    #expect(m.flakyTasks == ["B"])
    #expect(m.violations == 1)
    #expect(m.assuranceRate == 23.0 / 24)
    #expect(m.errors["grader"] == 1 && m.errors["timeout"] == 1)
  }

  /// One trial per task cannot disagree with itself: consistency is unmeasured (no 100%, no
  /// interval, a gate on it fails), while the rates that one trial does measure stay.
  @Test func oneTrialPerTaskMeasuresNoConsistency() {
    let facts = ["A", "B"].map { TrialFacts(taskID: $0, trial: 1, status: $0 == "A" ? .pass : .fail, latencyMs: 1) }
    let m = AgentMetrics(agent: "a", trials: facts, planned: [:])
    #expect(m.nMin == 1 && m.successRate == 0.5)
    #expect(m.consistency == nil && m.intervals.consistency == nil)
    #expect((try? Gate(parsing: "consistency=0.5"))?.failures(in: [m]).isEmpty == false)
    let two = AgentMetrics(
      agent: "a",
      trials: facts
        + facts.map {
          var f = $0
          f.trial = 2
          return f
        }, planned: [:])
    #expect(two.consistency == 1 && two.intervals.consistency != nil)
  }

  @Test func graderErrorsAreExcludedAndShortTasksReported() throws {
    let m = sample()
    let a = try #require(m.tasks.first { $0.taskID == "A" })
    #expect(a.trials == 8 && a.graderErrors == 1)
    // A planned 9 and recorded 9 (one a grader error, recorded but not counted): not short.
    #expect(m.shortTasks.isEmpty)
    let cut = AgentMetrics(
      agent: "x", trials: [TrialFacts(taskID: "A", trial: 1, status: .pass, latencyMs: 1)], planned: ["A": 3])
    #expect(cut.shortTasks == ["A"])
    // The grader error's huge latency is not in the percentiles; the timeout's is.
    #expect(m.latency.max == 5000)
  }

  @Test func costsUseKnownValuesOnly() {
    let m = sample()
    #expect(m.costUnknownTrials == 16)
    #expect(abs(m.costTotalUSD! - 0.08) < 1e-12)
    #expect(abs(m.costPerTrialUSD! - 0.01) < 1e-12)
    // cost_total / passing trials: 0.08 / 12.
    #expect(abs(m.costPerSuccessUSD! - 0.08 / 12) < 1e-12)
  }

  @Test func cliffIsRelativeFallAndNullWithoutFirstRunSuccess() {
    // 60% → 25% is a 58% cliff (metrics.md).
    var trials: [TrialFacts] = []
    // 20 tasks × 2 trials: 12 tasks pass trial 1; 5 of those pass both.
    for i in 0..<20 {
      trials.append(TrialFacts(taskID: "t\(i)", trial: 1, status: i < 12 ? .pass : .fail, latencyMs: 1))
      trials.append(TrialFacts(taskID: "t\(i)", trial: 2, status: i < 5 ? .pass : .fail, latencyMs: 1))
    }
    let m = AgentMetrics(agent: "x", trials: trials, planned: [:])
    #expect(m.firstRunSuccess == 0.6)
    #expect(m.sustainedSuccess == 0.25)
    let cliff: Double = 1 - 0.25 / 0.6
    #expect(abs(m.reliabilityCliff! - cliff) < 1e-12)
    let none = AgentMetrics(
      agent: "y", trials: [TrialFacts(taskID: "a", trial: 1, status: .fail, latencyMs: 1)], planned: [:])
    #expect(none.reliabilityCliff == nil)
    #expect(none.costTotalUSD == nil && none.costPerSuccessUSD == nil)
  }
}
