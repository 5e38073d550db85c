import EvalhCore
import Foundation
import GRDBSQLite

/// A `runs` row.
public struct RunRecord: Sendable, Hashable {
  /// The run id.
  public var id: String
  /// The suite's name.
  public var suite: String
  /// The suite file it was run from.
  public var suitePath: String?
  /// Hash of the resolved suite: resume refuses another.
  public var suiteSHA256: String
  /// `--label`.
  public var label: String?
  /// The run seed.
  public var seed: Int64
  /// Trials per task asked for.
  public var trials: Int
  /// running, completed, interrupted, failed or incomplete (shards missing).
  public var status: RunStatus
  /// When it started.
  public var startedAt: Date
  /// When it stopped, if it has.
  public var finishedAt: Date?
  /// The evalh that ran it.
  public var evalhVersion: String?
  /// The machine.
  public var host: String?
  /// The suite folder's commit, if in git.
  public var gitCommit: String?
  /// The resolved suite, secrets unexpanded.
  public var configJSON: String
  /// Which (agent, task, trial) triples the run is to record.
  public var plan: RunPlan
  /// Why the run stopped early, for people.
  public var stopReason: String?

  /// A run from its columns.
  public init(
    id: String, suite: String, suitePath: String?, suiteSHA256: String, label: String?, seed: Int64, trials: Int,
    status: RunStatus, startedAt: Date, finishedAt: Date? = nil, evalhVersion: String?, host: String?,
    gitCommit: String?, configJSON: String, plan: RunPlan, stopReason: String? = nil
  ) {
    self.id = id
    self.suite = suite
    self.suitePath = suitePath
    self.suiteSHA256 = suiteSHA256
    self.label = label
    self.seed = seed
    self.trials = trials
    self.status = status
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.evalhVersion = evalhVersion
    self.host = host
    self.gitCommit = gitCommit
    self.configJSON = configJSON
    self.plan = plan
    self.stopReason = stopReason
  }
}

/// `runs.status`.
public enum RunStatus: String, Sendable, Codable {
  case running
  case completed
  case interrupted
  case failed
  /// Every trial planned here is recorded, but shards of the run are missing (`RunPlan.shards`).
  case incomplete
}

/// The trials a run is to record: every agent × task × 1...trials.
public struct RunPlan: Sendable, Hashable, Codable {
  /// One task and its planned trial count.
  public struct PlannedTask: Sendable, Hashable, Codable {
    /// The task's id.
    public var id: String
    /// Trials planned for it.
    public var trials: Int
    /// A task of the plan.
    public init(id: String, trials: Int) {
      self.id = id
      self.trials = trials
    }
  }

  /// Evaluated agents, in suite order.
  public var agents: [String]
  /// The conditions each agent runs under, in suite order (`clean` when the suite names none).
  public var conditions: [String]
  /// Tasks, in suite order: those of the shards this database holds.
  public var tasks: [PlannedTask]
  /// For a run cut into shards: the whole run, so what is missing is known. Nil for a whole run.
  public var shards: ShardSpread?

  /// A plan of agents × conditions × tasks.
  public init(
    agents: [String], conditions: [String] = [Condition.defaultName], tasks: [PlannedTask], shards: ShardSpread? = nil
  ) {
    self.agents = agents
    self.conditions = conditions.isEmpty ? [Condition.defaultName] : conditions
    self.tasks = tasks
    self.shards = shards
  }

  enum CodingKeys: String, CodingKey {
    case agents, conditions, tasks, shards
  }

  /// A stored plan; one written before conditions existed ran every trial `clean`.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    agents = try c.decode([String].self, forKey: .agents)
    let conditions = try c.decodeIfPresent([String].self, forKey: .conditions) ?? []
    self.conditions = conditions.isEmpty ? [Condition.defaultName] : conditions
    tasks = try c.decode([PlannedTask].self, forKey: .tasks)
    shards = try c.decodeIfPresent(ShardSpread.self, forKey: .shards)
  }

  /// The (agent, condition) pairs in plan order: agents outermost.
  public var pairs: [AgentCondition] {
    agents.flatMap { agent in conditions.map { AgentCondition(agent: agent, condition: $0) } }
  }

  /// The planned triples not in `done`, in `keys` order, made one at a time as they are run: a plan
  /// of a million trials is not held as a million keys (memory of a run stays flat).
  public func pending(excluding done: Set<TrialKey> = []) -> PendingTrials { PendingTrials(plan: self, done: done) }

  /// Every planned trial: agents outermost, then conditions, then tasks, then trial numbers.
  public var keys: [TrialKey] { Array(pending()) }

  /// How many trials the plan holds, counted without making them.
  public var trialCount: Int {
    agents.count * conditions.count * tasks.reduce(0) { $0 + Swift.max(1, $1.trials) }
  }

  /// This plan and another's agents and tasks together (shards of one run).
  public func union(_ other: RunPlan) -> RunPlan {
    var agents = self.agents
    for a in other.agents where !agents.contains(a) { agents.append(a) }
    var conditions = self.conditions
    for c in other.conditions where !conditions.contains(c) { conditions.append(c) }
    var tasks = self.tasks
    let known = Set(tasks.map(\.id))
    tasks += other.tasks.filter { !known.contains($0.id) }
    // A whole run (no spread) joined with a shard of it is still whole.
    let spread: ShardSpread? =
      if let mine = shards, let theirs = other.shards { mine.union(theirs) } else { nil }
    return RunPlan(agents: agents, conditions: conditions, tasks: tasks, shards: spread)
  }

  /// Planned trials per task id.
  public var plannedByTask: [String: Int] {
    Dictionary(tasks.map { ($0.id, $0.trials) }, uniquingKeysWith: { a, _ in a })
  }
}

/// The trials of a plan still to run (see `RunPlan.pending`).
public struct PendingTrials: Sequence, Sendable {
  /// The plan.
  public let plan: RunPlan
  /// Recorded trials (of a resumed run, or of other shards): skipped.
  public let done: Set<TrialKey>
  /// How many there are, counted once without holding them.
  public let count: Int

  init(plan: RunPlan, done: Set<TrialKey>) {
    self.plan = plan
    self.done = done
    var count = 0
    var keys = PendingTrials.Iterator(plan: plan, done: done)
    while keys.next() != nil { count += 1 }
    self.count = count
  }

  /// Iterates the pending trials in plan order.
  public func makeIterator() -> Iterator { Iterator(plan: plan, done: done) }

  /// Agents outermost, then conditions, then tasks, then trial numbers.
  public struct Iterator: IteratorProtocol {
    let plan: RunPlan
    let done: Set<TrialKey>
    var agent = 0
    var condition = 0
    var task = 0
    var trial = 0

    init(plan: RunPlan, done: Set<TrialKey>) {
      self.plan = plan
      self.done = done
    }

    /// The next pending trial, or nil.
    public mutating func next() -> TrialKey? {
      while agent < plan.agents.count {
        if condition < plan.conditions.count {
          if task < plan.tasks.count {
            let t = plan.tasks[task]
            if trial < Swift.max(1, t.trials) {
              trial += 1
              let key = TrialKey(
                agent: plan.agents[agent], condition: plan.conditions[condition], taskID: t.id, trial: trial)
              if done.isEmpty || !done.contains(key) { return key }
              continue
            }
            task += 1
            trial = 0
            continue
          }
          condition += 1
          task = 0
          continue
        }
        agent += 1
        condition = 0
      }
      return nil
    }
  }
}

/// The identity of a trial within a run.
public struct TrialKey: Sendable, Hashable, Codable {
  /// The agent's name.
  public var agent: String
  /// The condition it ran under.
  public var condition: String
  /// The task's id.
  public var taskID: String
  /// The trial number.
  public var trial: Int
  /// A trial position.
  public init(agent: String, condition: String = Condition.defaultName, taskID: String, trial: Int) {
    self.agent = agent
    self.condition = condition
    self.taskID = taskID
    self.trial = trial
  }
}

/// ISO 8601 UTC timestamps with milliseconds, as stored.
public enum Timestamp {
  /// `2026-11-22T10:04:05.123Z`.
  public static func format(_ date: Date) -> String {
    let totalMillis = (date.timeIntervalSince1970 * 1000).rounded()
    var seconds = time_t((totalMillis / 1000).rounded(.down))
    let millis = Int(totalMillis - Double(seconds) * 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    // Digits by hand: String(format:) costs more than the rest of a trial's bookkeeping.
    var out = [UInt8]()
    out.reserveCapacity(24)
    func digits(_ value: Int, _ width: Int, then separator: UInt8?) {
      var divisor = 1
      for _ in 1..<width { divisor *= 10 }
      var v = value
      while divisor > 0 {
        out.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
        v %= divisor
        divisor /= 10
      }
      if let separator { out.append(separator) }
    }
    digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
    digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
    digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
    digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
    digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
    digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
    digits(millis, 3, then: UInt8(ascii: "Z"))
    return String(decoding: out, as: UTF8.self)
  }

  /// Parses what `format` wrote (and the same without milliseconds).
  public static func parse(_ text: String) -> Date? {
    let u = Array(text.utf8)
    guard u.count >= 19, u[4] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T") else { return nil }
    func number(_ from: Int, _ length: Int) -> Int32? {
      var n: Int32 = 0
      for b in u[from..<(from + length)] {
        guard b >= 48, b <= 57 else { return nil }
        n = n * 10 + Int32(b - 48)
      }
      return n
    }
    guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
      let minute = number(14, 2), let second = number(17, 2)
    else { return nil }
    var parts = tm()
    parts.tm_year = year - 1900
    parts.tm_mon = month - 1
    parts.tm_mday = day
    parts.tm_hour = hour
    parts.tm_min = minute
    parts.tm_sec = second
    var fraction = 0.0
    if u.count > 20, u[19] == UInt8(ascii: ".") {
      let digits = u[20...].prefix { $0 >= 48 && $0 <= 57 }
      fraction = Double("0." + String(decoding: digits, as: UTF8.self)) ?? 0
    }
    return Date(timeIntervalSince1970: Double(timegm(&parts)) + fraction)
  }
}

/// Task ids from `lower` (included) to `upper` (excluded) in SQLite's byte order; nil ends are open.
public struct TaskRange: Sendable, Hashable {
  /// The first task id included; nil: from the start.
  public var lower: String?
  /// The first task id excluded; nil: to the end.
  public var upper: String?
  /// A range; nil ends are open.
  public init(lower: String? = nil, upper: String? = nil) {
    self.lower = lower
    self.upper = upper
  }

  /// `parts` ranges that cover every task id, split at the planned `tasks` so each holds about as
  /// many (contiguous in (task, trial) order, so their rows joined in order are the whole agent's).
  public static func split(_ tasks: [String], into parts: Int) -> [TaskRange] {
    let sorted = tasks.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    guard parts > 1, sorted.count >= parts else { return [TaskRange()] }
    var bounds = (1..<parts).map { String(decoding: sorted[$0 * sorted.count / parts], as: UTF8.self) }
    bounds = bounds.reduce(into: []) { if $0.last != $1 { $0.append($1) } }
    return (0...bounds.count).map { i in
      TaskRange(lower: i == 0 ? nil : bounds[i - 1], upper: i == bounds.count ? nil : bounds[i])
    }
  }
}

/// A stored trial as `ResultStore.trialTally` reads it: each column read once, in place. Text points
/// into SQLite's row (no `String` is made) and is valid only inside the callback. The columns only
/// trials.csv shows (`agent`, tokens, `attempts`, `seed`, `startedAt`, `outputJSON`) are read only
/// for export; otherwise empty.
public struct StoredTrialRow: ~Copyable {
  /// `agent`, as stored.
  public var agent = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
  /// `task_id`, as stored.
  public var taskID = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
  /// `trial`.
  public var trial = 0
  /// `status`, as stored.
  public var status = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
  /// `error_kind`, when set.
  public var errorKind: UnsafeBufferPointer<UInt8>?
  /// `efficacy_pass`.
  public var efficacyPass: Bool?
  /// `efficacy_score`.
  public var efficacyScore: Double?
  /// `violations`.
  public var violations = 0
  /// `latency_ms`.
  public var latencyMs = 0.0
  /// `input_tokens`.
  public var inputTokens: Int?
  /// `output_tokens`.
  public var outputTokens: Int?
  /// `cost_usd`.
  public var costUSD: Double?
  /// `attempts`.
  public var attempts = 1
  /// `seed`.
  public var seed = 0
  /// `started_at`, as stored.
  public var startedAt = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
  /// `output_json`, when set.
  public var outputJSON: UnsafeBufferPointer<UInt8>?
  /// `assure_checks`.
  public var assureChecks = 0
  /// `judge_cost_usd`.
  public var judgeCostUSD: Double?
  /// `condition`, as stored (export only).
  public var condition = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
  /// `variant` (export only).
  public var variant: Int?

  /// The columns `init` reads, in its order: the metrics' first, then those only trials.csv shows.
  static let metricColumns = """
    task_id, trial, status, error_kind, efficacy_pass, efficacy_score, violations, latency_ms, cost_usd,
    coalesce(assure_checks, (SELECT count(*) FROM grades g WHERE g.run_id = t.run_id AND g.agent = t.agent
      AND g.condition = t.condition AND g.task_id = t.task_id AND g.trial = t.trial AND g.kind = 'assure')),
    judge_cost_usd
    """
  static let exportColumns =
    "agent, input_tokens, output_tokens, attempts, seed, started_at, output_json, condition, variant"

  /// The column of the first number cell that holds something else (text, a blob, or NULL where
  /// evalh always writes a number); nil when every one is a number.
  public var mistyped: String?

  /// The metric columns that hold numbers: index, name, and whether NULL is allowed.
  static let numericColumns: [(Int32, String, Bool)] = [
    (1, "trial", false), (4, "efficacy_pass", true), (5, "efficacy_score", true), (6, "violations", false),
    (7, "latency_ms", false), (8, "cost_usd", true), (9, "assure_checks", false), (10, "judge_cost_usd", true),
  ]

  /// A row of a statement selecting `metricColumns` (then `exportColumns` when `export`) from `trials t`.
  init(_ s: OpaquePointer, export: Bool) {
    func text(_ i: Int32) -> UnsafeBufferPointer<UInt8>? {
      sqlite3_column_text(s, i).map { UnsafeBufferPointer(start: $0, count: Int(sqlite3_column_bytes(s, i))) }
    }
    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(s, i) == SQLITE_NULL }
    // SQLite would read text in a number's column as 0: such a cell is named instead (`mistyped`).
    for (i, name, nullable) in StoredTrialRow.numericColumns {
      let type = sqlite3_column_type(s, i)
      if type == SQLITE_INTEGER || type == SQLITE_FLOAT || (nullable && type == SQLITE_NULL) { continue }
      mistyped = name
      break
    }
    taskID = text(0) ?? taskID
    trial = Int(sqlite3_column_int64(s, 1))
    status = text(2) ?? status
    errorKind = text(3)
    efficacyPass = isNull(4) ? nil : sqlite3_column_int64(s, 4) != 0
    efficacyScore = isNull(5) ? nil : sqlite3_column_double(s, 5)
    violations = Int(sqlite3_column_int64(s, 6))
    latencyMs = sqlite3_column_double(s, 7)
    costUSD = isNull(8) ? nil : sqlite3_column_double(s, 8)
    assureChecks = Int(sqlite3_column_int64(s, 9))
    judgeCostUSD = isNull(10) ? nil : sqlite3_column_double(s, 10)
    guard export else { return }
    agent = text(11) ?? agent
    inputTokens = isNull(12) ? nil : Int(sqlite3_column_int64(s, 12))
    outputTokens = isNull(13) ? nil : Int(sqlite3_column_int64(s, 13))
    attempts = Int(sqlite3_column_int64(s, 14))
    seed = Int(sqlite3_column_int64(s, 15))
    startedAt = text(16) ?? startedAt
    outputJSON = text(17)
    condition = text(18) ?? condition
    variant = isNull(19) ? nil : Int(sqlite3_column_int64(s, 19))
  }
}
