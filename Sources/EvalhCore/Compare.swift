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

  /// Mean of paired differences, SE = sd/√m (sd with m − 1), and the 95% interval mean ± 1.96·SE.
  /// With one pair the spread is unknown: the interval is unbounded.
  public static func paired(_ d: [Double]) -> (mean: Double, se: Double, low: Double, high: Double)? {
    guard !d.isEmpty else { return nil }
    let m = Double(d.count)
    let mean = d.reduce(0, +) / m
    guard d.count > 1 else { return (mean, .infinity, -.infinity, .infinity) }
    let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (m - 1)
    let se = variance.squareRoot() / m.squareRoot()
    return (mean, se, mean - 1.959963984540054 * se, mean + 1.959963984540054 * se)
  }
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
  /// 95% interval of candidate − base, paired by task.
  public var interval: (low: Double, high: Double)?
  /// What the difference means.
  public var verdict: Verdict
  /// Whether a regression of it fails `compare`.
  public var gated: Bool
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
  /// The agent's name.
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

  /// Compares every agent the two runs share.
  public init(
    base: [AgentMetrics], candidate: [AgentMetrics], alpha: Double = 0.05, minEffect: Double = 0.02,
    gated: [CompareMetric] = CompareMetric.defaultGated
  ) {
    self.alpha = alpha
    self.minEffect = minEffect
    let baseByName = Dictionary(base.map { ($0.agent, $0) }, uniquingKeysWith: { a, _ in a })
    let candidateNames = Set(candidate.map(\.agent))
    onlyInBase = base.map(\.agent).filter { !candidateNames.contains($0) }
    onlyInCandidate = candidate.map(\.agent).filter { baseByName[$0] == nil }
    agents = candidate.compactMap { cand in
      baseByName[cand.agent].map {
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

    func rateComparison(_ metric: CompareMetric, k: Int? = nil, _ value: (TaskMetrics) -> Double) -> MetricComparison {
      let d = pairs.map { value($0.1) - value($0.0) }
      let baseValue = Statistics.mean(pairs.map { value($0.0) })
      let candValue = Statistics.mean(pairs.map { value($0.1) })
      var verdict = Verdict.unchanged
      var interval: (low: Double, high: Double)?
      var delta: Double?
      if let p = CompareStatistics.paired(d) {
        delta = p.mean
        interval = (p.low, p.high)
        if p.high < 0 && -p.mean >= minEffect { verdict = .regressed }
        if p.low > 0 && p.mean >= minEffect { verdict = .improved }
      }
      return MetricComparison(
        metric: metric, k: k, base: baseValue, candidate: candValue, delta: delta, interval: interval, verdict: verdict,
        gated: gated.contains(metric))
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

    var metrics = [
      rateComparison(.successRate) { $0.successRate },
      rateComparison(.passHatK, k: k) { Statistics.passHatK(n: $0.trials, c: $0.passes, k: min(k, $0.trials)) },
      rateComparison(.firstRunSuccess) { $0.firstRun ? 1 : 0 },
    ]
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
      agent: candidate.agent, sharedTasks: pairs.count,
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
