import Foundation
import Synchronization

/// The facts about one trial that metrics need (a slim `trials` row).
public struct TrialFacts: Sendable, Hashable {
  /// The task's id.
  public var taskID: String
  /// The trial number.
  public var trial: Int
  /// How the trial ended.
  public var status: TrialStatus
  /// Set for errors.
  public var errorKind: ErrorKind?
  /// Latency, ms.
  public var latencyMs: Double
  /// Known cost, USD.
  public var costUSD: Double?
  /// Failed assurance checks.
  public var violations: Int
  /// Whether every `expect` grader passed.
  public var efficacyPass: Bool?
  /// Mean grader score.
  public var efficacyScore: Double?
  /// Assurance checks evaluated on this trial.
  public var checks: Int
  /// What its judge graders cost: reported apart from the agent's cost.
  public var judgeCostUSD: Double?

  /// Facts of one trial; unknowns nil.
  public init(
    taskID: String, trial: Int, status: TrialStatus, errorKind: ErrorKind? = nil, latencyMs: Double,
    costUSD: Double? = nil, violations: Int = 0, efficacyPass: Bool? = nil, efficacyScore: Double? = nil,
    checks: Int = 0, judgeCostUSD: Double? = nil
  ) {
    self.judgeCostUSD = judgeCostUSD
    self.taskID = taskID
    self.trial = trial
    self.status = status
    self.errorKind = errorKind
    self.latencyMs = latencyMs
    self.costUSD = costUSD
    self.violations = violations
    self.efficacyPass = efficacyPass
    self.efficacyScore = efficacyScore
    self.checks = checks
  }

  /// Grader and tool errors are the harness's fault: not counted in reliability metrics.
  public var isCounted: Bool { !(errorKind?.isHarnessSide ?? false) }
}

/// Per-task figures.
public struct TaskMetrics: Sendable {
  /// The task's id.
  public var taskID: String
  /// Counted trials (n).
  public var trials: Int
  /// Passing trials (c).
  public var passes: Int
  /// Trials planned for this task; more than recorded when the run was cut short.
  public var planned: Int
  /// Whether the first counted trial passed.
  public var firstRun: Bool
  /// c / n.
  public var successRate: Double
  /// pass^n: every trial passed.
  public var passHatN: Double
  /// Wilson 95% interval of the success rate.
  public var interval: (low: Double, high: Double)
  /// Median latency of counted trials, ms.
  public var latencyP50Ms: Double?
  /// 95th percentile latency, ms.
  public var latencyP95Ms: Double?
  /// Mean known cost per trial.
  public var costPerTrialUSD: Double?
  /// Failed assurance checks.
  public var violations: Int
  /// Errors and timeouts among counted trials.
  public var errors: Int
  /// Harness-side errors, grader and tool (recorded, not counted).
  public var graderErrors: Int

  /// The task's folded sums the suite-level rates and their intervals are built from;
  /// its latencies are not kept here.
  var sums = TrialTally.Task()

  /// 0 < c < n.
  public var isFlaky: Bool { passes > 0 && passes < trials }
  /// Fewer recorded trials than planned (an interrupted run); grader errors are recorded, only not counted.
  public var isShort: Bool { trials + graderErrors < planned }
  /// Every counted trial had the same status.
  public var isConsistent: Bool { passes == 0 || passes == trials }
}

/// Per-agent figures of metrics.md, with their 95% intervals.
public struct AgentMetrics: Sendable {
  /// The agent's name.
  public var agent: String
  /// The condition its trials ran under.
  public var condition = Condition.defaultName
  /// How reports name the pair: the agent alone in a run with only the `clean` condition, else `AGENT @ CONDITION`.
  public var label: String { showsCondition ? "\(agent) @ \(condition)" : agent }
  /// Whether the run had conditions to tell apart (set by whoever measures a run).
  public var showsCondition = false
  /// The pair measured.
  public var pair: AgentCondition { AgentCondition(agent: agent, condition: condition) }
  /// The share of trials in which a condition's fault fired that still passed; nil when none fired
  /// (set by whoever measures a run: it reads the recorded calls).
  public var recoveryRate: Double?
  /// 1 − sustained success here / sustained success under the run's first condition; nil for the
  /// first condition itself, or when either is unknown or the first is 0.
  public var faultCliff: Double?
  /// Per-task figures, by task id.
  public var tasks: [TaskMetrics]
  /// Counted trials.
  public var trials: Int
  /// The smallest n across the agent's tasks with at least one counted trial.
  public var nMin: Int
  /// Mean over tasks of c/n.
  public var successRate: Double?
  /// Share of tasks whose first counted trial passed.
  public var firstRunSuccess: Double?
  /// pass^k for k = 1...nMin (index k-1).
  public var passHatK: [Double]
  /// pass@k for k = 1...nMin (index k-1).
  public var passAtK: [Double]
  /// Share of tasks whose trials all agreed; nil with one trial per task (nothing to disagree with).
  public var consistency: Double?
  /// Share of trials whose graders all passed.
  public var efficacyRate: Double?
  /// Mean grader score.
  public var efficacyScore: Double?
  /// Share of trials with no violation.
  public var assuranceRate: Double?
  /// Share of checks respected.
  public var policyAdherence: Double?
  /// Failed assurance checks.
  public var violations: Int
  /// Violations per check name, most frequent first.
  public var violationsByCheck: [(check: String, count: Int)] = []
  /// Sum of known costs.
  public var costTotalUSD: Double?
  /// Mean known cost per trial.
  public var costPerTrialUSD: Double?
  /// Total cost over passing trials.
  public var costPerSuccessUSD: Double?
  /// Counted trials with no known cost.
  public var costUnknownTrials: Int
  /// What judge graders cost on this agent's trials: apart from the agent's own cost (nil: none known).
  public var judgeCostUSD: Double?
  /// Latency percentiles.
  public var latency: Latency
  /// Every counted trial's latency (ms), ascending: the HTML report's histogram.
  public var latencySamples: [Double] = []
  /// Share of counted trials within `slo.latency`; nil without an SLO.
  public var slaCompliance: Double?
  /// The targets the figures were measured against.
  public var targets: MetricTargets
  /// Timeouts and errors by kind (grader errors included, reported apart).
  public var errors: [String: Int]
  /// 95% intervals over tasks (`SuiteInterval`).
  public var intervals: Intervals

  /// pass^k at k = n_min: "does it keep passing".
  public var sustainedSuccess: Double? { passHatK.last }
  /// 1 − sustained / first run; nil when first-run success is 0 or unknown.
  public var reliabilityCliff: Double? {
    guard let first = firstRunSuccess, first > 0, let sustained = sustainedSuccess else { return nil }
    let cliff = 1 - sustained / first
    return abs(cliff) < 1e-12 ? 0 : cliff  // equal rates summed in another order are no cliff
  }
  /// 100 × success_rate / cost_per_trial (CLEAR's cost-normalised accuracy); nil when cost is unknown or 0.
  public var cna: Double? {
    guard let s = successRate, let c = costPerTrialUSD, c > 0 else { return nil }
    return 100 * s / c
  }
  /// Tasks with 0 < c < n, by id.
  public var flakyTasks: [String] { tasks.filter(\.isFlaky).map(\.taskID) }
  /// Tasks with fewer trials than planned.
  public var shortTasks: [String] { tasks.filter(\.isShort).map(\.taskID) }

  /// The CLEAR dimensions in [0, 1]; a dimension is nil when what it needs is missing.
  public var clear: ClearScore {
    var c: Double?
    if let budget = targets.slo.cost, let perTrial = costPerTrialUSD {
      c = perTrial > 0 ? min(1, budget / perTrial) : 1
    }
    return ClearScore(
      cost: c, latency: slaCompliance, efficacy: efficacyRate, assurance: assuranceRate,
      reliability: sustainedSuccess, weights: targets.weights)
  }
}

/// The CLEAR score of metrics.md: 100 × Σ wᵢxᵢ / Σ wᵢ over the dimensions available.
public struct ClearScore: Sendable {
  /// C: budget over cost per trial, capped at 1.
  public var cost: Double?
  /// L: SLA compliance.
  public var latency: Double?
  /// E: the efficacy rate.
  public var efficacy: Double?
  /// A: the assurance rate.
  public var assurance: Double?
  /// R: sustained success (pass^k at n_min).
  public var reliability: Double?
  /// How the dimensions are weighed.
  public var weights: ClearWeights

  /// (letter, value, weight) for every dimension.
  public var dimensions: [(name: String, value: Double?, weight: Double)] {
    [
      ("C", cost, weights.cost), ("L", latency, weights.latency), ("E", efficacy, weights.efficacy),
      ("A", assurance, weights.assurance), ("R", reliability, weights.reliability),
    ]
  }

  /// The score in 0–100; nil when no weighted dimension is available.
  public var score: Double? {
    let used = dimensions.compactMap { d in d.value.map { ($0, d.weight) } }
    let total = used.reduce(0) { $0 + $1.1 }
    guard total > 0 else { return nil }
    return 100 * used.reduce(0) { $0 + $1.0 * $1.1 } / total
  }

  /// The dimensions left out for lack of data.
  public var missing: [String] { dimensions.filter { $0.value == nil }.map(\.name) }

  /// Whether the weights are the equal default.
  public var equalWeights: Bool { weights == ClearWeights() }
}

/// 95% intervals of the suite-level rates.
public struct Intervals: Sendable {
  /// A 95% interval.
  public typealias Range = (low: Double, high: Double)
  /// Interval of the success rate.
  public var successRate: Range?
  /// Interval of the first-run success.
  public var firstRunSuccess: Range?
  /// Interval of pass^k at n_min.
  public var sustainedSuccess: Range? { passHatK.last ?? nil }
  /// Interval of pass^k for each k.
  public var passHatK: [Range?] = []
  /// Interval of pass@k for each k.
  public var passAtK: [Range?] = []
  /// Interval of the consistency.
  public var consistency: Range?
  /// Interval of the efficacy rate.
  public var efficacyRate: Range?
  /// Interval of the assurance rate.
  public var assuranceRate: Range?
  /// Interval of the policy adherence.
  public var policyAdherence: Range?
  /// Interval of SLA compliance.
  public var slaCompliance: Range?
}

/// Latency percentiles over counted trials, milliseconds.
public struct Latency: Sendable, Hashable {
  /// Median.
  public var p50: Double?
  /// 90th percentile.
  public var p90: Double?
  /// 95th percentile.
  public var p95: Double?
  /// 99th percentile.
  public var p99: Double?
  /// The slowest.
  public var max: Double?
  /// The mean.
  public var mean: Double?

  /// Percentiles of `sorted` (ascending) by linear interpolation.
  public init(sorted: [Double]) {
    p50 = Statistics.percentile(sorted, 50)
    p90 = Statistics.percentile(sorted, 90)
    p95 = Statistics.percentile(sorted, 95)
    p99 = Statistics.percentile(sorted, 99)
    max = sorted.last
    mean = Statistics.mean(sorted)
  }

  /// Percentiles of `values` in any order.
  public init(_ values: [Double]) { self.init(sorted: values.sorted()) }
}
