import Foundation

/// The facts about one trial that metrics need (a slim `trials` row).
public struct TrialFacts: Sendable, Hashable {
  public var taskID: String
  public var trial: Int
  public var status: TrialStatus
  public var errorKind: ErrorKind?
  public var latencyMs: Double
  public var costUSD: Double?
  public var violations: Int
  public var efficacyPass: Bool?

  public init(
    taskID: String, trial: Int, status: TrialStatus, errorKind: ErrorKind? = nil, latencyMs: Double,
    costUSD: Double? = nil, violations: Int = 0, efficacyPass: Bool? = nil
  ) {
    self.taskID = taskID
    self.trial = trial
    self.status = status
    self.errorKind = errorKind
    self.latencyMs = latencyMs
    self.costUSD = costUSD
    self.violations = violations
    self.efficacyPass = efficacyPass
  }

  /// Grader errors are the harness's fault: not counted in reliability metrics.
  public var isCounted: Bool { errorKind != .grader }
}

/// Per-task figures.
public struct TaskMetrics: Sendable, Hashable {
  public var taskID: String
  /// Counted trials (n).
  public var trials: Int
  /// Passing trials (c).
  public var passes: Int
  /// Trials planned for this task; more than `trials` when the run was cut short.
  public var planned: Int
  /// Whether the first counted trial passed.
  public var firstRun: Bool
  /// c / n.
  public var successRate: Double
  /// pass^n: every trial passed (C(c,n)/C(n,n)).
  public var passHatN: Double
  /// Wilson 95% interval of the success rate.
  public var interval: (low: Double, high: Double)
  public var latencyP50Ms: Double?
  public var latencyP95Ms: Double?
  public var costPerTrialUSD: Double?
  public var violations: Int
  /// Errors and timeouts among counted trials.
  public var errors: Int
  /// Grader errors (not counted).
  public var graderErrors: Int

  /// 0 < c < n.
  public var isFlaky: Bool { passes > 0 && passes < trials }
  /// Fewer recorded trials than planned (an interrupted run); grader errors are recorded, only not counted.
  public var isShort: Bool { trials + graderErrors < planned }

  public static func == (a: TaskMetrics, b: TaskMetrics) -> Bool {
    a.taskID == b.taskID && a.trials == b.trials && a.passes == b.passes && a.firstRun == b.firstRun
  }
  public func hash(into h: inout Hasher) { h.combine(taskID) }
}

/// Per-agent figures of metrics.md.
public struct AgentMetrics: Sendable {
  public var agent: String
  public var tasks: [TaskMetrics]
  /// Counted trials.
  public var trials: Int
  /// The smallest n across the agent's tasks with at least one counted trial.
  public var nMin: Int
  public var successRate: Double?
  public var firstRunSuccess: Double?
  /// pass^k for k = 1...nMin (index k-1).
  public var passHatK: [Double]
  /// pass@k for k = 1...nMin (index k-1).
  public var passAtK: [Double]
  public var consistency: Double?
  public var efficacyRate: Double?
  public var assuranceRate: Double?
  public var violations: Int
  public var costTotalUSD: Double?
  public var costPerTrialUSD: Double?
  public var costPerSuccessUSD: Double?
  public var costUnknownTrials: Int
  public var latency: Latency
  /// Timeouts and errors by kind (grader errors included, reported apart).
  public var errors: [String: Int]

  /// pass^k at k = n_min: "does it keep passing".
  public var sustainedSuccess: Double? { passHatK.last }
  /// 1 − sustained / first run; nil when first-run success is 0 or unknown.
  public var reliabilityCliff: Double? {
    guard let first = firstRunSuccess, first > 0, let sustained = sustainedSuccess else { return nil }
    return 1 - sustained / first
  }
  /// Tasks with 0 < c < n, by id.
  public var flakyTasks: [String] { tasks.filter(\.isFlaky).map(\.taskID) }
  /// Tasks with fewer trials than planned.
  public var shortTasks: [String] { tasks.filter(\.isShort).map(\.taskID) }
}

/// Latency percentiles over counted trials, milliseconds.
public struct Latency: Sendable, Hashable {
  public var p50: Double?
  public var p90: Double?
  public var p95: Double?
  public var p99: Double?
  public var max: Double?
  public var mean: Double?

  /// Percentiles of `values` (unsorted) by linear interpolation.
  public init(_ values: [Double]) {
    let sorted = values.sorted()
    p50 = Statistics.percentile(sorted, 50)
    p90 = Statistics.percentile(sorted, 90)
    p95 = Statistics.percentile(sorted, 95)
    p99 = Statistics.percentile(sorted, 99)
    max = sorted.last
    mean = Statistics.mean(sorted)
  }
}

extension AgentMetrics {
  /// Computes every metric for one agent from its trials; `planned` gives each task's planned trial count.
  public init(agent: String, trials all: [TrialFacts], planned: [String: Int]) {
    self.agent = agent
    let byTask = Dictionary(grouping: all, by: \.taskID)
    var taskMetrics: [TaskMetrics] = []
    for taskID in Set(byTask.keys).union(planned.keys).sorted() {
      let trials = (byTask[taskID] ?? []).sorted { $0.trial < $1.trial }
      let counted = trials.filter(\.isCounted)
      let n = counted.count
      let c = counted.filter { $0.status == .pass }.count
      let latencies = counted.map(\.latencyMs).sorted()
      let costs = counted.compactMap(\.costUSD)
      taskMetrics.append(
        TaskMetrics(
          taskID: taskID, trials: n, passes: c, planned: planned[taskID] ?? n,
          firstRun: counted.first?.status == .pass,
          successRate: n > 0 ? Double(c) / Double(n) : 0,
          passHatN: n > 0 ? Statistics.passHatK(n: n, c: c, k: n) : 0,
          interval: Statistics.wilson(successes: c, n: n) ?? (0, 1),
          latencyP50Ms: Statistics.percentile(latencies, 50),
          latencyP95Ms: Statistics.percentile(latencies, 95),
          costPerTrialUSD: Statistics.mean(costs),
          violations: counted.reduce(0) { $0 + $1.violations },
          errors: counted.filter { $0.status == .error || $0.status == .timeout }.count,
          graderErrors: trials.count - n))
    }
    tasks = taskMetrics

    let measured = taskMetrics.filter { $0.trials > 0 }
    let counted = all.filter(\.isCounted)
    trials = counted.count
    nMin = measured.map(\.trials).min() ?? 0
    successRate = Statistics.mean(measured.map(\.successRate))
    firstRunSuccess = Statistics.mean(measured.map { $0.firstRun ? 1 : 0 })
    let nMin = self.nMin
    passHatK = nMin == 0 ? [] : (1...nMin).map { k in
      Statistics.mean(measured.map { Statistics.passHatK(n: $0.trials, c: $0.passes, k: k) }) ?? 0
    }
    passAtK = nMin == 0 ? [] : (1...nMin).map { k in
      Statistics.mean(measured.map { Statistics.passAtK(n: $0.trials, c: $0.passes, k: k) }) ?? 0
    }
    consistency = Statistics.mean(measured.map { $0.passes == 0 || $0.passes == $0.trials ? 1 : 0 })
    let graded = counted.compactMap(\.efficacyPass)
    efficacyRate = counted.isEmpty ? nil : Double(graded.filter { $0 }.count) / Double(counted.count)
    assuranceRate = counted.isEmpty ? nil : Double(counted.filter { $0.violations == 0 }.count) / Double(counted.count)
    violations = counted.reduce(0) { $0 + $1.violations }
    let costs = counted.compactMap(\.costUSD)
    costUnknownTrials = counted.count - costs.count
    costTotalUSD = costs.isEmpty ? nil : costs.reduce(0, +)
    costPerTrialUSD = Statistics.mean(costs)
    let passing = counted.filter { $0.status == .pass }.count
    costPerSuccessUSD = costTotalUSD.flatMap { passing > 0 ? $0 / Double(passing) : nil }
    latency = Latency(counted.map(\.latencyMs))
    var errors: [String: Int] = ["timeout": 0]
    for kind in ErrorKind.allCases { errors[kind.rawValue] = 0 }
    for t in all {
      if t.status == .timeout { errors["timeout", default: 0] += 1 }
      if t.status == .error, let kind = t.errorKind { errors[kind.rawValue, default: 0] += 1 }
    }
    self.errors = errors
  }
}
