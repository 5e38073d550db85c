import Foundation
import Synchronization

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
  public var efficacyScore: Double?
  /// Assurance checks evaluated on this trial.
  public var checks: Int
  /// What its judge graders cost: reported apart from the agent's cost.
  public var judgeCostUSD: Double?

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

  /// Grader errors are the harness's fault: not counted in reliability metrics.
  public var isCounted: Bool { errorKind != .grader }
}

/// What the metrics are measured against (from the suite stored with the run).
public struct MetricTargets: Sendable, Hashable {
  public var slo: SLO
  public var weights: ClearWeights
  public init(slo: SLO = SLO(), weights: ClearWeights = ClearWeights()) {
    self.slo = slo
    self.weights = weights
  }
}

/// Per-task figures.
public struct TaskMetrics: Sendable {
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
  public var latencyP50Ms: Double?
  public var latencyP95Ms: Double?
  public var costPerTrialUSD: Double?
  public var violations: Int
  /// Errors and timeouts among counted trials.
  public var errors: Int
  /// Grader errors (recorded, not counted).
  public var graderErrors: Int

  // Sums the suite-level rates are built from (and resampled by the bootstrap).
  var efficacyPasses = 0
  var cleanTrials = 0
  var checks = 0
  var slaCompliant = 0
  var efficacyScoreSum = 0.0
  var efficacyScored = 0

  /// 0 < c < n.
  public var isFlaky: Bool { passes > 0 && passes < trials }
  /// Fewer recorded trials than planned (an interrupted run); grader errors are recorded, only not counted.
  public var isShort: Bool { trials + graderErrors < planned }
  /// Every counted trial had the same status.
  public var isConsistent: Bool { passes == 0 || passes == trials }
}

/// Per-agent figures of metrics.md, with their 95% intervals.
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
  public var efficacyScore: Double?
  public var assuranceRate: Double?
  public var policyAdherence: Double?
  public var violations: Int
  /// Violations per check name, most frequent first.
  public var violationsByCheck: [(check: String, count: Int)] = []
  public var costTotalUSD: Double?
  public var costPerTrialUSD: Double?
  public var costPerSuccessUSD: Double?
  public var costUnknownTrials: Int
  /// What judge graders cost on this agent's trials: apart from the agent's own cost (nil: none known).
  public var judgeCostUSD: Double?
  public var latency: Latency
  /// Every counted trial's latency (ms), ascending: the HTML report's histogram.
  public var latencySamples: [Double] = []
  /// Share of counted trials within `slo.latency`; nil without an SLO.
  public var slaCompliance: Double?
  /// The targets the figures were measured against.
  public var targets: MetricTargets
  /// Timeouts and errors by kind (grader errors included, reported apart).
  public var errors: [String: Int]
  /// 95% intervals: a percentile bootstrap over tasks (2,000 resamples, fixed seed).
  public var intervals: Intervals

  /// pass^k at k = n_min: "does it keep passing".
  public var sustainedSuccess: Double? { passHatK.last }
  /// 1 − sustained / first run; nil when first-run success is 0 or unknown.
  public var reliabilityCliff: Double? {
    guard let first = firstRunSuccess, first > 0, let sustained = sustainedSuccess else { return nil }
    return 1 - sustained / first
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
  public var cost: Double?
  public var latency: Double?
  public var efficacy: Double?
  public var assurance: Double?
  public var reliability: Double?
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
  public typealias Range = (low: Double, high: Double)
  public var successRate: Range?
  public var firstRunSuccess: Range?
  public var sustainedSuccess: Range? { passHatK.last ?? nil }
  public var passHatK: [Range?] = []
  public var passAtK: [Range?] = []
  public var consistency: Range?
  public var efficacyRate: Range?
  public var assuranceRate: Range?
  public var policyAdherence: Range?
  public var slaCompliance: Range?
}

/// Latency percentiles over counted trials, milliseconds.
public struct Latency: Sendable, Hashable {
  public var p50: Double?
  public var p90: Double?
  public var p95: Double?
  public var p99: Double?
  public var max: Double?
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

/// One agent's trials folded as they stream from the database: what the metrics need and no more
/// (one latency per counted trial is kept, for percentiles), so a run of a million trials is read
/// without holding a million records.
public struct TrialTally: Sendable {
  /// One task's sums.
  struct Task: Sendable {
    var counted = 0
    var passes = 0
    /// The lowest counted trial number seen, and whether it passed.
    var firstTrial = Int.max
    var firstPassed = false
    var latencies: [Double] = []
    var costSum = 0.0
    var costCount = 0
    var violations = 0
    var errors = 0
    var graderErrors = 0
    var efficacyPasses = 0
    var cleanTrials = 0
    var checks = 0
    var slaCompliant = 0
    var scoreSum = 0.0
    var scored = 0
  }

  var tasks: [String: Task] = [:]
  /// Milliseconds: a counted trial within it is SLA-compliant.
  let slaLimitMs: Double?
  var judgeCostSum = 0.0
  var judgeCostCount = 0
  var timeouts = 0
  var errorsByKind: [ErrorKind: Int] = [:]
  /// The task of the previous trial: rows arrive task by task, so most lookups are skipped.
  private var currentID = ""
  private var current: Task?

  public init(slaLimitMs: Double?) { self.slaLimitMs = slaLimitMs }

  /// Folds one trial in.
  public mutating func add(_ f: TrialFacts) {
    if current == nil || f.taskID != currentID { begin(task: f.taskID) }
    record(
      trial: f.trial, status: f.status, errorKind: f.errorKind, latencyMs: f.latencyMs, costUSD: f.costUSD,
      violations: f.violations, efficacyPass: f.efficacyPass, efficacyScore: f.efficacyScore, checks: f.checks,
      judgeCostUSD: f.judgeCostUSD)
  }

  /// Every trial folded in, grader errors included.
  public private(set) var recordedTrials = 0

  /// The task of the trials being folded.
  public var currentTask: String { currentID }

  /// The trials that follow are of `task` (until the next call).
  public mutating func begin(task: String) {
    flush()
    currentID = task
    current = tasks.removeValue(forKey: task) ?? Task()
  }

  /// Folds in one trial of the current task (see `begin`).
  public mutating func record(
    trial: Int, status: TrialStatus, errorKind: ErrorKind?, latencyMs: Double, costUSD: Double?, violations: Int,
    efficacyPass: Bool?, efficacyScore: Double?, checks: Int, judgeCostUSD: Double?
  ) {
    recordedTrials += 1
    if status == .timeout { timeouts += 1 }
    if status == .error, let kind = errorKind { errorsByKind[kind, default: 0] += 1 }
    if let judge = judgeCostUSD {
      judgeCostSum += judge
      judgeCostCount += 1
    }
    guard errorKind != .grader else {
      current!.graderErrors += 1
      return
    }
    let passed = status == .pass
    current!.counted += 1
    if passed { current!.passes += 1 }
    if trial < current!.firstTrial {
      current!.firstTrial = trial
      current!.firstPassed = passed
    }
    current!.latencies.append(latencyMs)
    if let costUSD {
      current!.costSum += costUSD
      current!.costCount += 1
    }
    current!.violations += violations
    if status == .error || status == .timeout { current!.errors += 1 }
    if efficacyPass == true { current!.efficacyPasses += 1 }
    if violations == 0 { current!.cleanTrials += 1 }
    current!.checks += checks
    if let limit = slaLimitMs, latencyMs <= limit { current!.slaCompliant += 1 }
    if let efficacyScore {
      current!.scoreSum += efficacyScore
      current!.scored += 1
    }
  }

  /// Ends the fold (call before reading the tasks).
  mutating func flush() {
    if let task = current { tasks[currentID] = task }
    current = nil
  }

  /// Adds `other`'s trials: the fold of a run read in parts (task ranges) is the parts' folds merged.
  public mutating func merge(_ other: TrialTally) {
    flush()
    var other = other
    other.flush()
    recordedTrials += other.recordedTrials
    judgeCostSum += other.judgeCostSum
    judgeCostCount += other.judgeCostCount
    timeouts += other.timeouts
    errorsByKind.merge(other.errorsByKind, uniquingKeysWith: +)
    tasks.merge(other.tasks) { a, b in a.merged(b) }
  }
}

extension TrialTally.Task {
  /// Both sets of a task's trials (a task read in two parts).
  func merged(_ b: Self) -> Self {
    var m = self
    m.counted += b.counted
    m.passes += b.passes
    if b.firstTrial < m.firstTrial {
      m.firstTrial = b.firstTrial
      m.firstPassed = b.firstPassed
    }
    m.latencies += b.latencies
    m.costSum += b.costSum
    m.costCount += b.costCount
    m.violations += b.violations
    m.errors += b.errors
    m.graderErrors += b.graderErrors
    m.efficacyPasses += b.efficacyPasses
    m.cleanTrials += b.cleanTrials
    m.checks += b.checks
    m.slaCompliant += b.slaCompliant
    m.scoreSum += b.scoreSum
    m.scored += b.scored
    return m
  }
}

extension AgentMetrics {
  /// Every metric for one agent from its trials; `planned` gives each task's planned trial count.
  public init(
    agent: String, trials all: [TrialFacts], planned: [String: Int], targets: MetricTargets = MetricTargets(),
    violationsByCheck: [(check: String, count: Int)] = [], bootstrapResamples: Int = 2000
  ) {
    var tally = TrialTally(slaLimitMs: targets.slo.latency.map { $0 * 1000 })
    for f in all { tally.add(f) }
    self.init(
      agent: agent, tally: tally, planned: planned, targets: targets, violationsByCheck: violationsByCheck,
      bootstrapResamples: bootstrapResamples)
  }

  /// Every metric for one agent from its folded trials (the tally's SLA limit must be the targets').
  public init(
    agent: String, tally folded: TrialTally, planned: [String: Int], targets: MetricTargets = MetricTargets(),
    violationsByCheck: [(check: String, count: Int)] = [], bootstrapResamples: Int = 2000
  ) {
    var tally = folded
    tally.flush()
    self.agent = agent
    self.targets = targets
    self.violationsByCheck = violationsByCheck
    let slaLimit = tally.slaLimitMs
    var taskMetrics: [TaskMetrics] = []
    var allLatencies: [Double] = []
    var costSum = 0.0
    var costCount = 0
    var countedTrials = 0
    var passing = 0
    var violationTotal = 0
    for taskID in Set(tally.tasks.keys).union(planned.keys).sorted() {
      let sums = tally.tasks[taskID] ?? TrialTally.Task()
      let n = sums.counted
      let c = sums.passes
      let latencies = sums.latencies.sorted()
      allLatencies += sums.latencies
      costSum += sums.costSum
      costCount += sums.costCount
      countedTrials += n
      passing += c
      violationTotal += sums.violations
      var t = TaskMetrics(
        taskID: taskID, trials: n, passes: c, planned: planned[taskID] ?? (n + sums.graderErrors),
        firstRun: n > 0 && sums.firstPassed,
        successRate: n > 0 ? Double(c) / Double(n) : 0,
        passHatN: n > 0 ? Statistics.passHatK(n: n, c: c, k: n) : 0,
        interval: Statistics.wilson(successes: c, n: n) ?? (0, 1),
        latencyP50Ms: Statistics.percentile(latencies, 50), latencyP95Ms: Statistics.percentile(latencies, 95),
        costPerTrialUSD: sums.costCount > 0 ? sums.costSum / Double(sums.costCount) : nil, violations: sums.violations,
        errors: sums.errors, graderErrors: sums.graderErrors)
      t.efficacyPasses = sums.efficacyPasses
      t.cleanTrials = sums.cleanTrials
      t.checks = sums.checks
      t.slaCompliant = sums.slaCompliant
      t.efficacyScoreSum = sums.scoreSum
      t.efficacyScored = sums.scored
      taskMetrics.append(t)
    }
    tasks = taskMetrics

    let measured = taskMetrics.filter { $0.trials > 0 }
    trials = countedTrials
    nMin = measured.map(\.trials).min() ?? 0
    let nMin = self.nMin
    let table = RateTable(tasks: measured, nMin: nMin, hasSLA: slaLimit != nil)
    let point = table.estimate(table.all)
    successRate = point[RateTable.success]
    firstRunSuccess = point[RateTable.firstRun]
    consistency = point[RateTable.consistency]
    efficacyRate = point[RateTable.efficacy]
    assuranceRate = point[RateTable.assurance]
    policyAdherence = point[RateTable.adherence]
    slaCompliance = slaLimit == nil ? nil : point[RateTable.sla]
    passHatK = (0..<nMin).map { point[RateTable.passHat($0 + 1)] ?? 0 }
    passAtK = (0..<nMin).map { point[table.passAt($0 + 1)] ?? 0 }
    let scoreSum = measured.reduce(0) { $0 + $1.efficacyScoreSum }
    let scored = measured.reduce(0) { $0 + $1.efficacyScored }
    efficacyScore = scored > 0 ? scoreSum / Double(scored) : nil
    violations = violationTotal
    costUnknownTrials = countedTrials - costCount
    costTotalUSD = costCount == 0 ? nil : costSum
    costPerTrialUSD = costCount == 0 ? nil : costSum / Double(costCount)
    costPerSuccessUSD = costTotalUSD.flatMap { passing > 0 ? $0 / Double(passing) : nil }
    judgeCostUSD = tally.judgeCostCount == 0 ? nil : tally.judgeCostSum
    latencySamples = allLatencies.radixSorted()
    latency = Latency(sorted: latencySamples)
    var errors: [String: Int] = ["timeout": tally.timeouts]
    for kind in ErrorKind.allCases { errors[kind.rawValue] = tally.errorsByKind[kind] ?? 0 }
    self.errors = errors

    let bounds = table.bootstrap(resamples: bootstrapResamples)
    var intervals = Intervals()
    intervals.successRate = bounds[RateTable.success]
    intervals.firstRunSuccess = bounds[RateTable.firstRun]
    intervals.consistency = bounds[RateTable.consistency]
    intervals.efficacyRate = bounds[RateTable.efficacy]
    intervals.assuranceRate = bounds[RateTable.assurance]
    intervals.policyAdherence = bounds[RateTable.adherence]
    intervals.slaCompliance = slaLimit == nil ? nil : bounds[RateTable.sla]
    intervals.passHatK = (0..<nMin).map { bounds[RateTable.passHat($0 + 1)] }
    intervals.passAtK = (0..<nMin).map { bounds[table.passAt($0 + 1)] }
    self.intervals = intervals
  }
}

/// Each suite-level rate as Σ numerator / Σ denominator over tasks: means over tasks have
/// denominator 1 per task, shares of trials have n. Resampling whole tasks gives the bootstrap.
struct RateTable {
  static let success = 0
  static let firstRun = 1
  static let consistency = 2
  static let efficacy = 3
  static let assurance = 4
  static let adherence = 5
  static let sla = 6
  static func passHat(_ k: Int) -> Int { 6 + k }
  func passAt(_ k: Int) -> Int { 6 + nMin + k }

  let nMin: Int
  let columns: Int
  let taskCount: Int
  /// Columns whose denominators differ by task, summed task by task: [task × 5] numerators and denominators.
  static let direct = [firstRun, efficacy, assurance, adherence, sla]
  let directNumerators: [Double]
  let directDenominators: [Double]
  /// The other columns depend only on a task's (n, c): each task points at the row of its pair, so a
  /// resample counts pairs and sums each distinct row once (success, consistency, pass^k, pass@k for
  /// every k would otherwise cost columns × tasks per resample).
  let pairOfTask: [Int]
  let pairRows: [[Double]]
  /// The columns of the pair rows: every column but the direct ones.
  let pairColumns: [Int]

  init(tasks: [TaskMetrics], nMin: Int, hasSLA: Bool) {
    self.nMin = nMin
    columns = 7 + 2 * nMin
    taskCount = tasks.count
    var nums: [Double] = []
    var dens: [Double] = []
    nums.reserveCapacity(tasks.count * 5)
    dens.reserveCapacity(tasks.count * 5)
    var pairIndex: [Int64: Int] = [:]
    var pairs: [[Double]] = []
    var pairOfTask: [Int] = []
    for t in tasks {
      let n = Double(t.trials)
      nums += [t.firstRun ? 1 : 0, Double(t.efficacyPasses), Double(t.cleanTrials), Double(t.checks - t.violations), Double(t.slaCompliant)]
      dens += [1, n, n, Double(t.checks), hasSLA ? n : 0]
      let key = Int64(t.trials) << 32 | Int64(t.passes)
      if let index = pairIndex[key] {
        pairOfTask.append(index)
        continue
      }
      // The row in column order, zero where a column is summed task by task.
      var row = [Double](repeating: 0, count: 7 + 2 * nMin)
      row[RateTable.success] = t.successRate
      row[RateTable.consistency] = t.isConsistent ? 1 : 0
      for k in stride(from: 1, through: nMin, by: 1) {
        row[RateTable.passHat(k)] = Statistics.passHatK(n: t.trials, c: t.passes, k: k)
        row[6 + nMin + k] = Statistics.passAtK(n: t.trials, c: t.passes, k: k)
      }
      pairIndex[key] = pairs.count
      pairOfTask.append(pairs.count)
      pairs.append(row)
    }
    directNumerators = nums
    directDenominators = dens
    self.pairOfTask = pairOfTask
    pairRows = pairs
    pairColumns = (0..<(7 + 2 * nMin)).filter { !RateTable.direct.contains($0) }
  }

  var all: [Int] { Array(0..<taskCount) }

  /// Every rate over the tasks at `indices` (repeats allowed); nil where the denominator is 0.
  func estimate(_ indices: [Int]) -> [Double?] {
    var num = [Double](repeating: 0, count: columns)
    var den = [Double](repeating: 0, count: columns)
    var pairCounts = [Double](repeating: 0, count: pairRows.count)
    // The hot loop of the bootstrap (resamples × tasks): plain sums in registers, no bounds checks.
    var (n0, n1, n2, n3, n4) = (0.0, 0.0, 0.0, 0.0, 0.0)
    var (d0, d1, d2, d3, d4) = (0.0, 0.0, 0.0, 0.0, 0.0)
    directNumerators.withUnsafeBufferPointer { dn in
      directDenominators.withUnsafeBufferPointer { dd in
        pairOfTask.withUnsafeBufferPointer { pair in
          pairCounts.withUnsafeMutableBufferPointer { counts in
            for i in indices {
              let base = 5 &* i
              n0 += dn[base]
              n1 += dn[base &+ 1]
              n2 += dn[base &+ 2]
              n3 += dn[base &+ 3]
              n4 += dn[base &+ 4]
              d0 += dd[base]
              d1 += dd[base &+ 1]
              d2 += dd[base &+ 2]
              d3 += dd[base &+ 3]
              d4 += dd[base &+ 4]
              counts[pair[i]] += 1
            }
          }
        }
      }
    }
    for (slot, (n, d)) in [(n0, d0), (n1, d1), (n2, d2), (n3, d3), (n4, d4)].enumerated() {
      num[RateTable.direct[slot]] = n
      den[RateTable.direct[slot]] = d
    }
    for (row, count) in zip(pairRows, pairCounts) where count > 0 {
      for j in pairColumns { num[j] += count * row[j] }
    }
    // Pair columns have denominator 1 per task.
    for j in pairColumns { den[j] = Double(indices.count) }
    return (0..<columns).map { den[$0] > 0 ? num[$0] / den[$0] : nil }
  }

  /// Percentile-bootstrap 95% intervals of every rate, resampling tasks with a fixed seed.
  /// The resamples are drawn in `parts` side by side (by default one per core for large runs), each
  /// from its own place in the one seeded stream: the intervals are the same whatever the parts.
  func bootstrap(resamples: Int, seed: UInt64 = 0x5EED_CAFE, parts: Int? = nil) -> [(low: Double, high: Double)?] {
    let m = taskCount
    guard m > 0, resamples > 0 else { return [(low: Double, high: Double)?](repeating: nil, count: columns) }
    let parts = min(resamples, parts ?? (m * resamples >= 1_000_000 ? ProcessInfo.processInfo.activeProcessorCount : 1))
    let drawn = Mutex([[[Double]]](repeating: [], count: parts))
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      let first = part * resamples / parts
      let count = (part + 1) * resamples / parts - first
      var rng = SplitMix64(seed: seed)
      rng.skip(first * m)
      var samples = [[Double]](repeating: [], count: columns)
      for j in 0..<columns { samples[j].reserveCapacity(count) }
      var draw = [Int](repeating: 0, count: m)
      for _ in 0..<count {
        for i in 0..<m { draw[i] = Int(rng.next() % UInt64(m)) }
        for (j, value) in estimate(draw).enumerated() {
          if let value { samples[j].append(value) }
        }
      }
      drawn.withLock { $0[part] = samples }
    }
    let parted = drawn.withLock { $0 }
    return (0..<columns).map { j in
      let sorted = parted.flatMap { $0[j] }.sorted()
      guard let low = Statistics.percentile(sorted, 2.5), let high = Statistics.percentile(sorted, 97.5) else { return nil }
      return (low, high)
    }
  }
}

extension MetricTargets {
  /// The SLO and CLEAR weights of a stored suite (`runs.config_json`): reports need nothing else.
  public init(config: JSONValue) {
    var slo = SLO()
    if let latency = config["slo"]?["latency"] {
      slo.latency = latency.numberValue ?? latency.stringValue.flatMap(YAMLReader.parseDuration)
    }
    slo.cost = config["slo"]?["cost"]?.numberValue
    var weights = ClearWeights()
    if let w = config["clear"]?["weights"] {
      weights.cost = w["cost"]?.numberValue ?? weights.cost
      weights.latency = w["latency"]?.numberValue ?? weights.latency
      weights.efficacy = w["efficacy"]?.numberValue ?? weights.efficacy
      weights.assurance = w["assurance"]?.numberValue ?? weights.assurance
      weights.reliability = w["reliability"]?.numberValue ?? weights.reliability
    }
    self.init(slo: slo, weights: weights)
  }
}
