import Foundation

/// The statistics of `evalh compare` (metrics.md, "compare: regression").
public enum CompareStatistics {
  /// log C(n, k), exact enough for any trial count.
  static func logChoose(_ n: Int, _ k: Int) -> Double {
    lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
  }

  /// Fisher's exact test, one-sided for a drop: the chance, with the margins fixed, that the
  /// candidate passes `cCand` times or fewer (hypergeometric lower tail).
  public static func fisherDrop(cBase: Int, nBase: Int, cCand: Int, nCand: Int) -> Double {
    let total = nBase + nCand
    let passes = cBase + cCand
    let lowest = max(0, nCand - (total - passes))
    guard cCand >= lowest else { return 0 }
    var p = 0.0
    for x in lowest...cCand {
      p += exp(logChoose(passes, x) + logChoose(total - passes, nCand - x) - logChoose(total, nCand))
    }
    return min(1, p)
  }

  /// Fisher's exact test, two-sided: the total chance of tables no more likely than the one observed.
  public static func fisherTwoSided(cBase: Int, nBase: Int, cCand: Int, nCand: Int) -> Double {
    let total = nBase + nCand
    let passes = cBase + cCand
    let lowest = max(0, nCand - (total - passes))
    let highest = min(nCand, passes)
    func probability(_ x: Int) -> Double {
      exp(logChoose(passes, x) + logChoose(total - passes, nCand - x) - logChoose(total, nCand))
    }
    let observed = probability(cCand)
    var p = 0.0
    for x in lowest...highest {
      let px = probability(x)
      if px <= observed * (1 + 1e-7) { p += px }
    }
    return min(1, p)
  }

  /// Holm's step-down correction: which hypotheses are rejected at family-wise level `alpha`.
  public static func holm(_ pValues: [Double], alpha: Double) -> [Bool] {
    let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
    var rejected = [Bool](repeating: false, count: pValues.count)
    for (rank, index) in order.enumerated() {
      guard pValues[index] <= alpha / Double(pValues.count - rank) else { break }
      rejected[index] = true
    }
    return rejected
  }

  /// The paired t test of per-task differences d (candidate − base): their mean, SE = sd/√m (sd
  /// with m − 1), the interval mean ± t₁₋ₐ,ₘ₋₁·SE (two-sided 1 − 2a, so each end is a one-sided test
  /// at a; 95% by default), and the one-sided p-values of a drop (P(T ≤ t)) and of a rise.
  /// Differences that do not vary are certain (p 0 on their side, 1 on the other; both 1 when they
  /// are all 0); with one pair nothing is known (p 1, the interval unbounded).
  public static func paired(_ d: [Double], oneSided a: Double = 0.025) -> PairedTest? {
    guard !d.isEmpty else { return nil }
    let m = Double(d.count)
    let mean = d.reduce(0, +) / m
    guard d.count > 1 else {
      return PairedTest(mean: mean, se: .infinity, low: -.infinity, high: .infinity, pDrop: 1, pRise: 1, df: 0)
    }
    let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (m - 1)
    let se = variance.squareRoot() / m.squareRoot()
    let df = m - 1
    let t = StudentT.quantile(1 - a, df: df)
    guard se > 1e-15 else {
      let drop: Double = mean < -1e-15 ? 0 : 1
      let rise: Double = mean > 1e-15 ? 0 : 1
      return PairedTest(mean: mean, se: 0, low: mean, high: mean, pDrop: drop, pRise: rise, df: df)
    }
    let statistic = mean / se
    return PairedTest(
      mean: mean, se: se, low: mean - t * se, high: mean + t * se, pDrop: StudentT.cdf(statistic, df: df),
      pRise: StudentT.cdf(-statistic, df: df), df: df)
  }

  /// The smallest drop a one-sided test at `alpha` catches with 80% power, given the SE of the mean
  /// difference: (t₁₋α + t₀.₈) · SE with m − 1 degrees of freedom. Nil when it cannot be said.
  public static func detectableDrop(se: Double, df: Double, alpha: Double) -> Double? {
    guard df >= 1, se.isFinite, alpha > 0, alpha < 1 else { return nil }
    return (StudentT.quantile(1 - alpha, df: df) + StudentT.quantile(0.8, df: df)) * se
  }
}

extension CompareStatistics {
  /// How many trials per task `compare` needs to catch a `drop` in success rate on every task 4 times
  /// in 5, gating `gatedRates` rates at `alpha`: the n at which (t₁₋α/g + t₀.₈)·SE(d̄) ≤ drop, where
  /// a task's paired difference has variance [p(1 − p) + q(1 − q)] / n, p its pass rate now
  /// ((c + ½) / (n + 1), so a task that always passed still varies) and q = p − drop. Nil without tasks.
  public static func trialsToDetect(drop: Double, tasks: [TaskMetrics], alpha: Double = 0.05, gatedRates: Int = 2)
    -> Int?
  {
    let measured = tasks.filter { $0.trials > 0 }
    guard measured.count > 1, drop > 0, drop < 1 else { return nil }
    let m = Double(measured.count)
    let variance = measured.reduce(0.0) { sum, t in
      let p = (Double(t.passes) + 0.5) / (Double(t.trials) + 1)
      let q = max(0, p - drop)
      return sum + p * (1 - p) + q * (1 - q)
    }
    let df = m - 1
    let factor =
      StudentT.quantile(1 - alpha / Double(max(1, gatedRates)), df: df) + StudentT.quantile(0.8, df: df)
    let needed = factor * factor * variance / (m * m * drop * drop)
    guard needed.isFinite else { return nil }
    return max(1, Int(needed.rounded(.up)))
  }
}

/// `CompareStatistics.paired`'s result.
public struct PairedTest: Sendable, Hashable {
  /// Mean difference (candidate − base).
  public var mean: Double
  /// Its standard error.
  public var se: Double
  /// The interval, with t critical values.
  public var low: Double
  public var high: Double
  /// One-sided p-values: of a drop, of a rise.
  public var pDrop: Double
  public var pRise: Double
  /// Degrees of freedom, m − 1.
  public var df: Double
}

/// A metric `compare` can gate on.
public enum CompareMetric: String, Sendable, CaseIterable {
  case successRate = "success_rate"
  case passHatK = "pass_hat_k"
  case firstRunSuccess = "first_run_success"
  case costPerTrial = "cost_per_trial_usd"
  case latencyP95 = "latency_p95_ms"

  /// Gated when `--metric` names none.
  public static let defaultGated: [CompareMetric] = [.successRate, .passHatK]

  /// A rate over tasks, tested paired by task (cost and latency are compared as ratios).
  public var isRate: Bool { self == .successRate || self == .passHatK || self == .firstRunSuccess }
}

/// `regressed`, `improved` or `no significant change`.
public enum Verdict: String, Sendable {
  case regressed
  case improved
  case unchanged = "no significant change"
}

/// One metric, base → candidate, over the shared tasks.
public struct MetricComparison: Sendable {
  /// Which metric.
  public var metric: CompareMetric
  /// pass^k's k (the smaller n_min of the two runs); nil for other metrics.
  public var k: Int?
  /// The base run's value.
  public var base: Double?
  /// The candidate run's value.
  public var candidate: Double?
  /// Mean paired difference (candidate − base); for cost and latency, the ratio candidate / base.
  public var delta: Double?
  /// Interval of candidate − base, paired by task: two-sided 1 − 2·alpha (90% at the default alpha),
  /// so that its upper end is the one-sided test of a drop.
  public var interval: (low: Double, high: Double)?
  /// What the difference means.
  public var verdict: Verdict
  /// Whether a regression of it fails `compare`.
  public var gated: Bool
  /// One-sided p-value of a drop (paired t test); nil for cost and latency.
  public var pValue: Double? = nil
  /// The smallest drop this gate catches with 80% power at this suite's size and noise.
  public var detectableDrop: Double? = nil
}

/// A task whose pass count dropped significantly (Fisher, Holm-corrected).
public struct TaskRegression: Sendable, Hashable {
  /// The task's id.
  public var taskID: String
  /// The base run's value.
  public var base: (passes: Int, trials: Int)
  /// The candidate run's value.
  public var candidate: (passes: Int, trials: Int)
  /// One-sided p-value of the drop (Fisher exact).
  public var pValue: Double

  /// Regressions are the same task.
  public static func == (a: TaskRegression, b: TaskRegression) -> Bool { a.taskID == b.taskID && a.pValue == b.pValue }
  /// Hashes the task id.
  public func hash(into h: inout Hasher) { h.combine(taskID) }
}

/// One agent's comparison.
public struct AgentComparison: Sendable {
  /// The agent's name, with its condition when the run has conditions (`AgentMetrics.label`).
  public var agent: String
  /// Tasks measured in both runs.
  public var sharedTasks: Int
  /// Tasks only one run has (suites that differ are compared on what they share).
  public var onlyInBase: [String]
  /// Task ids measured only in the candidate.
  public var onlyInCandidate: [String]
  /// Each metric compared.
  public var metrics: [MetricComparison]
  /// Tasks whose success dropped significantly, most significant first.
  public var regressedTasks: [TaskRegression]
  /// Tasks that went from all-pass to some-fail, significant or not.
  public var newlyFlaky: [String]
  /// Human-readable flags for cost (> 10% worse) and latency p95 (> 20% worse).
  public var flags: [String]

  /// Whether a gated metric regressed.
  public var regressed: Bool { metrics.contains { $0.gated && $0.verdict == .regressed } }
}

/// `evalh compare`: per agent, per metric deltas with intervals and verdicts.
public struct Comparison: Sendable {
  /// Each agent in both runs.
  public var agents: [AgentComparison]
  /// Agents only one run has.
  public var onlyInBase: [String]
  /// Task ids measured only in the candidate.
  public var onlyInCandidate: [String]
  /// The significance level used.
  public var alpha: Double
  /// The smallest drop that counts as a regression.
  public var minEffect: Double

  /// Whether any gated metric regressed for any agent, or an agent of the base run is missing from
  /// the candidate (nothing vouches for it): exit 1.
  public var regressed: Bool { agents.contains(where: \.regressed) || !onlyInBase.isEmpty }

  /// Compares every (agent, condition) the two runs share: trials pair by agent, condition and task.
  public init(
    base: [AgentMetrics], candidate: [AgentMetrics], alpha: Double = 0.05, minEffect: Double = 0.02,
    gated: [CompareMetric] = CompareMetric.defaultGated
  ) {
    self.alpha = alpha
    self.minEffect = minEffect
    let baseByPair = Dictionary(base.map { ($0.pair, $0) }, uniquingKeysWith: { a, _ in a })
    let candidatePairs = Set(candidate.map(\.pair))
    onlyInBase = base.filter { !candidatePairs.contains($0.pair) }.map(\.label)
    onlyInCandidate = candidate.filter { baseByPair[$0.pair] == nil }.map(\.label)
    agents = candidate.compactMap { cand in
      baseByPair[cand.pair].map {
        Comparison.compare(base: $0, candidate: cand, alpha: alpha, minEffect: minEffect, gated: gated)
      }
    }
  }

  static func compare(
    base: AgentMetrics, candidate: AgentMetrics, alpha: Double, minEffect: Double, gated: [CompareMetric]
  )
    -> AgentComparison
  {
    let baseTasks = Dictionary(
      base.tasks.filter { $0.trials > 0 }.map { ($0.taskID, $0) }, uniquingKeysWith: { a, _ in a })
    let candTasks = Dictionary(
      candidate.tasks.filter { $0.trials > 0 }.map { ($0.taskID, $0) }, uniquingKeysWith: { a, _ in a })
    let pairs = baseTasks.keys.sorted().compactMap { id in
      baseTasks[id].flatMap { b in candTasks[id].map { (b, $0) } }
    }
    let k = max(1, min(pairs.map { $0.0.trials }.min() ?? 1, pairs.map { $0.1.trials }.min() ?? 1))

    // The gated rates are one family: Holm over their one-sided p-values bounds the chance that an
    // unchanged agent fails any of them (below).
    let gatedRates = max(1, gated.filter(\.isRate).count)
    func rateComparison(
      _ metric: CompareMetric, k: Int? = nil, counts: (TaskMetrics) -> (passes: Int, trials: Int),
      _ value: (TaskMetrics) -> Double
    ) -> (MetricComparison, PairedTest?) {
      let d = pairs.map { value($0.1) - value($0.0) }
      var test = CompareStatistics.paired(d, oneSided: alpha)
      // One shared task leaves nothing to pair over: its own trials are the evidence, and Fisher's
      // exact test on them is the small-sample-correct test (a gate that could not see would be green).
      if pairs.count == 1, let (b, c) = pairs.first.map({ (counts($0.0), counts($0.1)) }) {
        test?.pDrop = CompareStatistics.fisherDrop(cBase: b.passes, nBase: b.trials, cCand: c.passes, nCand: c.trials)
        test?.pRise = CompareStatistics.fisherDrop(cBase: c.passes, nBase: c.trials, cCand: b.passes, nCand: b.trials)
      }
      let comparison = MetricComparison(
        metric: metric, k: k, base: Statistics.mean(pairs.map { value($0.0) }),
        candidate: Statistics.mean(pairs.map { value($0.1) }), delta: test?.mean,
        interval: test.map { ($0.low, $0.high) }, verdict: .unchanged, gated: gated.contains(metric),
        pValue: test?.pDrop,
        detectableDrop: test.flatMap {
          CompareStatistics.detectableDrop(se: $0.se, df: $0.df, alpha: alpha / Double(gatedRates))
        })
      return (comparison, test)
    }
    let trials: (TaskMetrics) -> (passes: Int, trials: Int) = { ($0.passes, $0.trials) }
    let firstTrial: (TaskMetrics) -> (passes: Int, trials: Int) = { ($0.firstRun ? 1 : 0, 1) }
    var rates = [
      rateComparison(.successRate, counts: trials) { $0.successRate },
      rateComparison(.passHatK, k: k, counts: trials) {
        Statistics.passHatK(n: $0.trials, c: $0.passes, k: min(k, $0.trials))
      },
      rateComparison(.firstRunSuccess, counts: firstTrial) { $0.firstRun ? 1 : 0 },
    ]
    // A verdict needs significance and a change of at least --min-effect. A drop is tested one-sided
    // at alpha (a rise likewise), as the interval shown beside it is bounded (1 − 2·alpha two-sided):
    // a metric alone is regressed exactly when its interval is below zero; the gated ones step down
    // by Holm, so that together an unchanged agent fails the gate at most alpha of the time.
    let sideAlpha = alpha
    let family = rates.indices.filter { rates[$0].0.gated }
    let drops = CompareStatistics.holm(family.map { rates[$0].1?.pDrop ?? 1 }, alpha: sideAlpha)
    let rises = CompareStatistics.holm(family.map { rates[$0].1?.pRise ?? 1 }, alpha: sideAlpha)
    for i in rates.indices {
      guard let test = rates[i].1 else { continue }
      let slot = family.firstIndex(of: i)
      let dropped = slot.map { drops[$0] } ?? (test.pDrop <= sideAlpha)
      let rose = slot.map { rises[$0] } ?? (test.pRise <= sideAlpha)
      if dropped && -test.mean >= minEffect { rates[i].0.verdict = .regressed }
      if rose && test.mean >= minEffect { rates[i].0.verdict = .improved }
    }

    func ratioComparison(_ metric: CompareMetric, _ b: Double?, _ c: Double?, worseAbove: Double) -> MetricComparison {
      var verdict = Verdict.unchanged
      var ratio: Double?
      if let b, let c, b > 0 {
        ratio = c / b
        if c / b > worseAbove { verdict = .regressed } else if c / b < 1 / worseAbove { verdict = .improved }
      }
      return MetricComparison(
        metric: metric, k: nil, base: b, candidate: c, delta: ratio, interval: nil, verdict: verdict,
        gated: gated.contains(metric))
    }

    var metrics = rates.map(\.0)
    let cost = ratioComparison(.costPerTrial, base.costPerTrialUSD, candidate.costPerTrialUSD, worseAbove: 1.10)
    let latency = ratioComparison(.latencyP95, base.latency.p95, candidate.latency.p95, worseAbove: 1.20)
    metrics += [cost, latency]
    var flags: [String] = []
    if cost.verdict == .regressed, let r = cost.delta {
      flags.append(
        String(format: "cost per trial up %.0f%% (%@ → %@)", (r - 1) * 100, Fmt.usd(cost.base), Fmt.usd(cost.candidate))
      )
    }
    if latency.verdict == .regressed, let r = latency.delta {
      flags.append(
        String(
          format: "latency p95 up %.0f%% (%.0f ms → %.0f ms)", (r - 1) * 100, latency.base ?? 0, latency.candidate ?? 0)
      )
    }

    let pValues = pairs.map {
      CompareStatistics.fisherDrop(cBase: $0.0.passes, nBase: $0.0.trials, cCand: $0.1.passes, nCand: $0.1.trials)
    }
    let rejected = CompareStatistics.holm(pValues, alpha: alpha)
    var regressedTasks: [TaskRegression] = []
    for (i, pair) in pairs.enumerated() where rejected[i] {
      regressedTasks.append(
        TaskRegression(
          taskID: pair.0.taskID, base: (pair.0.passes, pair.0.trials), candidate: (pair.1.passes, pair.1.trials),
          pValue: pValues[i]))
    }
    let newlyFlaky = pairs.filter { $0.0.passes == $0.0.trials && $0.1.passes < $0.1.trials }.map(\.0.taskID)
    return AgentComparison(
      agent: candidate.label, sharedTasks: pairs.count,
      onlyInBase: baseTasks.keys.filter { candTasks[$0] == nil }.sorted(),
      onlyInCandidate: candTasks.keys.filter { baseTasks[$0] == nil }.sorted(), metrics: metrics,
      regressedTasks: regressedTasks.sorted { $0.pValue < $1.pValue }, newlyFlaky: newlyFlaky, flags: flags)
  }
}

/// Shared number formatting for Core's own messages.
enum Fmt {
  static func usd(_ x: Double?) -> String {
    guard let x else { return "–" }
    return x >= 1 ? String(format: "$%.2f", x) : String(format: "$%.4f", x)
  }
}
