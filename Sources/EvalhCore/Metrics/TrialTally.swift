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
  /// The sums of `currentID`'s trials, out of `tasks` while its trials are folded in.
  private var current = Task()
  private var hasCurrent = false

  /// An empty tally; `slaLimitMs` is the SLA latency, if any.
  public init(slaLimitMs: Double?) { self.slaLimitMs = slaLimitMs }

  /// Folds one trial in.
  public mutating func add(_ f: TrialFacts) {
    if !hasCurrent || f.taskID != currentID { begin(task: f.taskID) }
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
    hasCurrent = true
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
    guard !(errorKind?.isHarnessSide ?? false) else {
      current.graderErrors += 1
      return
    }
    let passed = status == .pass
    current.counted += 1
    if passed { current.passes += 1 }
    if trial < current.firstTrial {
      current.firstTrial = trial
      current.firstPassed = passed
    }
    current.latencies.append(latencyMs)
    if let costUSD {
      current.costSum += costUSD
      current.costCount += 1
    }
    current.violations += violations
    if status == .error || status == .timeout { current.errors += 1 }
    if efficacyPass == true { current.efficacyPasses += 1 }
    if violations == 0 { current.cleanTrials += 1 }
    current.checks += checks
    if let limit = slaLimitMs, latencyMs <= limit { current.slaCompliant += 1 }
    if let efficacyScore {
      current.scoreSum += efficacyScore
      current.scored += 1
    }
  }

  /// Ends the fold (call before reading the tasks).
  mutating func flush() {
    guard hasCurrent else { return }
    tasks[currentID] = current
    current = Task()
    hasCurrent = false
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
