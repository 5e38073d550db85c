import Foundation
import Testing

@testable import EvalhCore

@Suite struct CompareStatisticsTests {
  @Test func fisherMatchesPublishedValues() {
    // Fisher's tea-tasting table and others, against scipy.stats.fisher_exact
    // (rows: base passes/fails, candidate passes/fails; one-sided: the candidate passes less).
    let cases: [(Int, Int, Int, Int, oneSided: Double, twoSided: Double)] = [
      (3, 4, 1, 4, 0.24285714285714283, 0.48571428571428565),
      (8, 8, 3, 8, 0.012820512820512818, 0.025641025641025644),
      (10, 10, 10, 10, 1.0, 1.0),
      (8, 8, 7, 8, 0.5, 1.0),
      (2, 8, 7, 8, 0.9993006993006993, 0.040559440559440565),
      (16, 16, 9, 16, 0.003398838215300952, 0.006797676430601904),
      (5, 8, 1, 8, 0.05944055944055943, 0.11888111888111888),
      (20, 20, 12, 20, 0.001638001638001638, 0.003276003276003276),
    ]
    for c in cases {
      let one = CompareStatistics.fisherDrop(cBase: c.0, nBase: c.1, cCand: c.2, nCand: c.3)
      let two = CompareStatistics.fisherTwoSided(cBase: c.0, nBase: c.1, cCand: c.2, nCand: c.3)
      #expect(abs(one - c.oneSided) < 1e-9, "\(c)")
      #expect(abs(two - c.twoSided) < 1e-9, "\(c)")
    }
  }

  @Test func holmStepsDown() {
    // Sorted: 0.005 ≤ 0.05/4, 0.01 ≤ 0.05/3, 0.03 > 0.05/2: stop.
    #expect(CompareStatistics.holm([0.01, 0.04, 0.03, 0.005], alpha: 0.05) == [true, false, false, true])
    #expect(CompareStatistics.holm([0.2, 0.001], alpha: 0.05) == [false, true])
    #expect(CompareStatistics.holm([], alpha: 0.05) == [])
  }

  @Test func pairedDifferences() throws {
    // d = [0.1, −0.2, 0, −0.3]: mean −0.1; sd = √(0.1/3); SE = sd/2.
    let p = try #require(CompareStatistics.paired([0.1, -0.2, 0, -0.3]))
    let se: Double = (0.1 / 3).squareRoot() / 2
    #expect(abs(p.mean + 0.1) < 1e-12)
    #expect(abs(p.se - se) < 1e-12)
    // With 3 degrees of freedom: t₀.₉₇₅ = 3.18245; the drop's p = P(T₃ ≤ −1.0954) (SciPy's values).
    #expect(abs(p.low - (-0.1 - 3.1824463052837078 * se)) < 1e-9)
    #expect(abs(p.pDrop - 0.17669373314434889) < 1e-9 && abs(p.pRise - (1 - 0.17669373314434889)) < 1e-9)
    let detectable = try #require(CompareStatistics.detectableDrop(se: p.se, df: p.df, alpha: 0.025))
    #expect(abs(detectable - 0.37983816447141366) < 1e-9)
    let one = try #require(CompareStatistics.paired([-0.5]))
    #expect(one.low == -.infinity && one.pDrop == 1)
    // Differences that do not vary: certain on their side.
    let flat = try #require(CompareStatistics.paired([-0.25, -0.25, -0.25]))
    #expect(flat.pDrop == 0 && flat.pRise == 1)
    let none = try #require(CompareStatistics.paired([0, 0, 0]))
    #expect(none.pDrop == 1 && none.pRise == 1)
  }

  /// A run of one agent whose task i passes with probability `p[i]`, drawn with a seed.
  static func simulate(_ p: [Double], trials: Int, seed: UInt64) -> AgentMetrics {
    var rng = SplitMix64(seed: seed)
    var facts: [TrialFacts] = []
    for (i, probability) in p.enumerated() {
      for t in 1...trials {
        let pass = Double(rng.next() >> 11) / Double(1 << 53) < probability
        facts.append(
          TrialFacts(taskID: "task-\(i)", trial: t, status: pass ? .pass : .fail, latencyMs: 100, costUSD: 0.001))
      }
    }
    return AgentMetrics(agent: "agent", trials: facts, planned: [:], withIntervals: false)
  }

  static let profile: [Double] = (0..<30).map { i in [1, 1, 1, 0.95, 0.9, 0.8, 0.6, 0.97, 1, 0.85][i % 10] }

  /// Reruns of the same agent (30 tasks of mixed reliability, 8 trials): how often does the gate cry wolf?
  /// Measured here and documented in docs/ci.md.
  @Test func rerunsOfTheSameAgentAreQuietAtTheDocumentedRate() async {
    let pairs = 1000
    // Seconds of CPU: on a thread of its own, not the cooperative pool the other tests share.
    let (alarms, metricAlarms, taskAlarms) = await offPool {
      var alarms = [0.02: 0, 0.05: 0]
      var metricAlarms = [CompareMetric.successRate: 0, .passHatK: 0]
      var taskAlarms = 0
      for pair in 0..<pairs {
        let base = Self.simulate(Self.profile, trials: 8, seed: UInt64(2 * pair + 1))
        let candidate = Self.simulate(Self.profile, trials: 8, seed: UInt64(2 * pair + 2))
        for effect in [0.02, 0.05] {
          let c = Comparison(base: [base], candidate: [candidate], minEffect: effect)
          if c.regressed { alarms[effect, default: 0] += 1 }
          if effect == 0.02 {
            for m in c.agents[0].metrics where m.gated && m.verdict == .regressed {
              metricAlarms[m.metric, default: 0] += 1
            }
            taskAlarms += c.agents[0].regressedTasks.isEmpty ? 0 : 1
          }
        }
      }
      return (alarms, metricAlarms, taskAlarms)
    }
    func rate(_ n: Int) -> String { String(format: "%.1f%%", 100 * Double(n) / Double(pairs)) }
    print(
      "compare false alarms over \(pairs) reruns: success_rate \(rate(metricAlarms[.successRate]!)), pass_hat_k \(rate(metricAlarms[.passHatK]!)), either (exit 1) \(rate(alarms[0.02]!)); with --min-effect 0.05: \(rate(alarms[0.05]!)); some task flagged by Fisher/Holm: \(rate(taskAlarms))"
    )
    // At most alpha (0.05), with room for the simulation's own noise: 1,000 reruns at a true 5% see
    // at most 6.1% about 19 times in 20 (docs/ci.md).
    #expect(Double(alarms[0.02]!) / Double(pairs) <= 0.061)
    #expect(Double(alarms[0.05]!) / Double(pairs) <= 0.061)
    #expect(Double(taskAlarms) / Double(pairs) <= 0.01)
  }

  /// The trials a run says `compare` needs: the formula by hand, then checked by simulation (at
  /// that many trials the drop is caught about 4 times in 5; at a third of them, far less often).
  @Test func trialsToDetectIsHandComputedAndHoldsInSimulation() async throws {
    // 30 tasks at 6/8: p = 6.5/9, q = p − 0.1; n = (t₀.₉₇₅,₂₉ + t₀.₈,₂₉)² · 30·[p(1−p) + q(1−q)] / (30² · 0.1²).
    let tasks = (0..<30).map {
      TaskMetrics(
        taskID: "t\($0)", trials: 8, passes: 6, planned: 8, firstRun: true, successRate: 0.75, passHatN: 0,
        interval: (0, 1), latencyP50Ms: nil, latencyP95Ms: nil, costPerTrialUSD: nil, violations: 0, errors: 0,
        graderErrors: 0)
    }
    #expect(CompareStatistics.trialsToDetect(drop: 0.1, tasks: tasks) == 13)  // 12.209 rounded up
    #expect(CompareStatistics.trialsToDetect(drop: 0.1, tasks: Array(tasks.prefix(1))) == nil)
    let middling: [Double] = (0..<30).map { 0.5 + 0.4 * Double($0 % 5) / 4 }
    let needed = try #require(
      CompareStatistics.trialsToDetect(drop: 0.1, tasks: Self.simulate(middling, trials: 8, seed: 3).tasks))
    let (atNeeded, atThird) = await offPool {
      var counts = [0, 0]
      for (slot, trials) in [needed, max(1, needed / 3)].enumerated() {
        for pair in 0..<200 {
          let c = Comparison(
            base: [Self.simulate(middling, trials: trials, seed: UInt64(300_000 + 2 * pair))],
            candidate: [Self.simulate(middling.map { $0 - 0.1 }, trials: trials, seed: UInt64(300_001 + 2 * pair))])
          if c.regressed { counts[slot] += 1 }
        }
      }
      return (counts[0], counts[1])
    }
    print(
      "trials to detect a 10-point drop (tasks 50-90%): \(needed); caught \(atNeeded)/200 there, \(atThird)/200 at a third"
    )
    #expect(atNeeded >= 150 && atNeeded <= 190)
    #expect(atThird < atNeeded - 40)
  }

  /// The gate's power: a 10-point drop on every task of 30, 8 trials each, is caught at least 80%
  /// of the time (docs/ci.md), and the gate says beforehand how large a drop it can see.
  @Test func aTenPointDropIsCaughtFourTimesInFive() async {
    let pairs = 400
    // A middling agent too: tasks from 50% to 90%, where trial noise is largest.
    let middling: [Double] = (0..<30).map { 0.5 + 0.4 * Double($0 % 5) / 4 }
    let (caught, detectable, caughtMiddling) = await offPool {
      var caught = 0
      var caughtMiddling = 0
      var detectable: [Double] = []
      for pair in 0..<pairs {
        let middle = Comparison(
          base: [Self.simulate(middling, trials: 8, seed: UInt64(70_000 + 2 * pair))],
          candidate: [Self.simulate(middling.map { $0 - 0.10 }, trials: 8, seed: UInt64(70_001 + 2 * pair))])
        if middle.regressed { caughtMiddling += 1 }
        let base = Self.simulate(Self.profile, trials: 8, seed: UInt64(90_000 + 2 * pair))
        let candidate = Self.simulate(
          Self.profile.map { max(0, $0 - 0.10) }, trials: 8, seed: UInt64(90_001 + 2 * pair))
        let c = Comparison(base: [base], candidate: [candidate])
        if c.regressed { caught += 1 }
        if let d = c.agents[0].metrics.first(where: { $0.metric == .successRate })?.detectableDrop {
          detectable.append(d)
        }
      }
      return (caught, detectable, caughtMiddling)
    }
    let meanDetectable = detectable.reduce(0, +) / Double(max(1, detectable.count))
    print(
      "compare power: a 10-point drop on 30 tasks × 8 trials caught \(caught)/\(pairs) (tasks 50-90%: \(caughtMiddling)/\(pairs)); detectable success_rate drop (80% power) \(String(format: "%.1f", meanDetectable * 100)) points on average"
    )
    #expect(Double(caught) / Double(pairs) >= 0.80)
    // Tasks at 50-90% carry the most trial noise: even a z test that knew the variance, one-sided at
    // 5% with no second metric, would catch this drop only about 77% of the time (SE ≈ 0.042 for
    // d̄), so the gate's two metrics reach about 68% (docs/ci.md says so beside the detectable drop).
    #expect(Double(caughtMiddling) / Double(pairs) >= 0.60)
    // What the gate says it can see agrees with what it caught: a 10-point drop is within reach.
    #expect(meanDetectable > 0.03 && meanDetectable < 0.10)
  }

  /// A broad degradation (every task a quarter less reliable) fails the gate; a sparse one
  /// (three tasks collapse) is named task by task even when the suite mean barely moves.
  @Test func aRealDegradationIsCaughtAndNamed() async {
    let (caught, named, namedAt8, strays) = await offPool { Self.degradations() }
    print(
      "compare power over 50 pairs: broad degradation (8 trials) caught \(caught)/50; sparse degradation's three tasks all named \(namedAt8)/50 at 8 trials, \(named)/50 at 16"
    )
    #expect(strays.isEmpty, "an untouched task was flagged: \(strays)")
    #expect(caught >= 47)
    #expect(named >= 45)
  }

  static func degradations() -> (caught: Int, named: Int, namedAt8: Int, strays: Set<String>) {
    var caught = 0
    var named = 0
    var namedAt8 = 0
    var strays: Set<String> = []
    for pair in 0..<50 {
      let broad = Self.profile.map { $0 * 0.75 }
      let c = Comparison(
        base: [Self.simulate(Self.profile, trials: 8, seed: UInt64(1000 + pair))],
        candidate: [Self.simulate(broad, trials: 8, seed: UInt64(5000 + pair))])
      if c.regressed { caught += 1 }
      var sparse = Self.profile
      for i in [0, 1, 2] { sparse[i] = 0.2 }
      for trials in [8, 16] {
        let s = Comparison(
          base: [Self.simulate(Self.profile, trials: trials, seed: UInt64(9000 + pair))],
          candidate: [Self.simulate(sparse, trials: trials, seed: UInt64(13000 + pair))])
        let flagged = Set(s.agents[0].regressedTasks.map(\.taskID))
        if flagged.isSuperset(of: ["task-0", "task-1", "task-2"]) {
          if trials == 16 { named += 1 } else { namedAt8 += 1 }
        }
        strays.formUnion(flagged.subtracting(["task-0", "task-1", "task-2"]))
      }
    }
    return (caught, named, namedAt8, strays)
  }

  /// One shared task leaves nothing to pair over: the gate tests that task's trials with Fisher's
  /// exact test (scipy: 4/4 → 0/4 one-sided p = 0.014286), so a smoke suite of one task can go red.
  @Test func oneSharedTaskIsJudgedByFishersExactTest() throws {
    func run(_ passes: Int, of trials: Int) -> AgentMetrics {
      let facts = (1...trials).map {
        TrialFacts(taskID: "only", trial: $0, status: $0 <= passes ? .pass : .fail, latencyMs: 100)
      }
      return AgentMetrics(agent: "agent", trials: facts, planned: [:], withIntervals: false)
    }
    let broken = Comparison(base: [run(4, of: 4)], candidate: [run(0, of: 4)])
    let success = try #require(broken.agents[0].metrics.first { $0.metric == .successRate })
    #expect(abs((success.pValue ?? 1) - 0.014285714285714285) < 1e-9)
    // Holm over the two gated rates: 0.0143 ≤ 0.05 / 2, then ≤ 0.05.
    #expect(success.verdict == .regressed && broken.regressed)
    // 8/8 → 7/8 is p = 0.5: no verdict; 8/8 → 8/8 none either; 0/8 → 8/8 is an improvement.
    #expect(!Comparison(base: [run(8, of: 8)], candidate: [run(7, of: 8)]).regressed)
    #expect(!Comparison(base: [run(8, of: 8)], candidate: [run(8, of: 8)]).regressed)
    let fixed = Comparison(base: [run(0, of: 8)], candidate: [run(8, of: 8)])
    #expect(fixed.agents[0].metrics.first { $0.metric == .successRate }?.verdict == .improved)
  }

  @Test func verdictsFlagsAndSuiteDifferences() {
    let base = Self.simulate([1, 1, 1, 1], trials: 8, seed: 1)
    var candidateFacts: [TrialFacts] = []
    for i in 0..<4 {
      for t in 1...8 {
        candidateFacts.append(
          TrialFacts(
            taskID: "task-\(i + 1)", trial: t, status: i == 1 && t > 6 ? .fail : .pass, latencyMs: 300, costUSD: 0.002))
      }
    }
    let candidate = AgentMetrics(agent: "agent", trials: candidateFacts, planned: [:], withIntervals: false)
    let c = Comparison(base: [base], candidate: [candidate], gated: [.successRate, .costPerTrial])
    let a = c.agents[0]
    #expect(a.sharedTasks == 3 && a.onlyInBase == ["task-0"] && a.onlyInCandidate == ["task-4"])
    // task-2 went from 8/8 to 6/8: newly flaky, not significant.
    #expect(a.newlyFlaky == ["task-2"] && a.regressedTasks.isEmpty)
    #expect(a.flags == ["cost per trial up 100% ($0.0010 → $0.0020)", "latency p95 up 200% (100 ms → 300 ms)"])
    // Cost is gated here, and doubled: a regression.
    #expect(a.metrics.first { $0.metric == .costPerTrial }?.verdict == .regressed)
    #expect(c.regressed)
    let quiet = Comparison(base: [base], candidate: [candidate])
    #expect(!quiet.regressed)
  }
}

@Suite struct ShardTests {
  @Test func partitionIsStableAndComplete() {
    let ids = (0..<500).map { "task-\($0)" }
    for n in 1...8 {
      let shards = (1...n).map { Shard("\($0)/\(n)")! }
      for id in ids {
        #expect(shards.filter { $0.contains(id) }.count == 1, "\(id) with \(n) shards")
      }
      // Roughly balanced.
      let sizes = shards.map { s in ids.filter(s.contains).count }
      #expect(sizes.min()! > 500 / n / 2)
    }
    // Stable across versions and machines: pinned values.
    #expect(Shard.bucket(of: "refund-status", count: 4) == Shard.bucket(of: "refund-status", count: 4))
    #expect((0..<8).map { Shard.bucket(of: "task-\($0)", count: 3) } == [0, 2, 1, 0, 1, 0, 2, 1])
    #expect(Shard("0/3") == nil && Shard("4/3") == nil && Shard("x") == nil && Shard("2/3")?.description == "2/3")
  }
}

/// Runs blocking work on a thread of its own and awaits its result.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    let thread = Thread { continuation.resume(returning: work()) }
    thread.start()
  }
}
