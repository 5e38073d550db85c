import EvalhCore
import Foundation
import GRDB
import GRDBSQLite

/// Why the store could not do what was asked; each case maps to an exit code of cli.md.
public enum StoreError: Error, LocalizedError, Sendable {
  /// A read-only command named a database that does not exist (exit 2).
  case missingDatabase(String)
  /// The file's schema is newer than this evalh (exit 3).
  case newerSchema(path: String, version: Int, known: Int)
  /// No run matches the reference (exit 2).
  case unknownRun(String)
  /// SQLite failed: cannot open, disk full, locked too long (exit 3).
  case database(path: String, message: String)
  /// `merge` found the same trial recorded twice with different results, or inputs that cannot be merged (exit 2).
  case conflict(String)

  public var errorDescription: String? {
    switch self {
    case .missingDatabase(let path): "no results database at \(path) (run a suite first, or pass --db)"
    case .newerSchema(let path, let version, let known):
      "\(path) has schema version \(version), newer than this evalh knows (\(known)); upgrade evalh. Nothing was written."
    case .unknownRun(let reference), .conflict(let reference): reference
    case .database(let path, let message): "results database \(path): \(message)"
    }
  }

  /// The exit code cli.md gives this failure.
  public var exitCode: Int32 {
    switch self {
    case .missingDatabase, .unknownRun, .conflict: 2
    case .newerSchema, .database: 3
    }
  }
}

/// The SQLite results database: the source of truth every report reads.
public final class ResultStore: Sendable {
  /// The file's path as given.
  public let path: String
  let pool: DatabasePool

  /// Opens (and with `create`, creates and migrates) the database at `path`.
  public init(path: String, create: Bool) throws(StoreError) {
    self.path = path
    let exists = FileManager.default.fileExists(atPath: path)
    if !exists, !create { throw .missingDatabase(path) }
    // Two processes opening a new file at once race on creating it, switching it to WAL and
    // migrating; SQLite's busy handler does not cover every step, so retry the whole open.
    let deadline = Date().addingTimeInterval(ResultStore.busyTimeout)
    while true {
      do {
        pool = try ResultStore.open(path: path)
        return
      } catch let error as DatabaseError
        where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline
      {
        usleep(useconds_t.random(in: 10_000...50_000))
      } catch {
        throw ResultStore.wrap(error, path: path)
      }
    }
  }

  /// SQLITE_TRANSIENT: SQLite copies a bound string before the call returns.
  static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  /// Seconds a writer waits for another process's lock before giving up (exit 3).
  static let busyTimeout: TimeInterval = 30

  static func open(path: String) throws -> DatabasePool {
    if FileManager.default.fileExists(atPath: path) {
      // Check the version read-only first, so a newer file is refused with nothing written.
      var readonly = Configuration()
      readonly.readonly = true
      readonly.busyMode = .timeout(busyTimeout)
      let version = try DatabaseQueue(path: path, configuration: readonly).read {
        try Int.fetchOne($0, sql: "PRAGMA user_version") ?? 0
      }
      if version > Schema.version { throw StoreError.newerSchema(path: path, version: version, known: Schema.version) }
    } else {
      let folder = (path as NSString).deletingLastPathComponent
      if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }
    var configuration = Configuration()
    configuration.busyMode = .timeout(busyTimeout)
    configuration.foreignKeysEnabled = true
    let pool = try DatabasePool(path: path, configuration: configuration)
    try Schema.migrate(pool)
    return pool
  }

  static func wrap(_ error: any Error, path: String) -> StoreError {
    if let e = error as? StoreError { return e }
    if let e = error as? DatabaseError {
      return .database(path: path, message: "\(e.message ?? "\(e.resultCode)") (SQLite \(e.extendedResultCode.rawValue))")
    }
    return .database(path: path, message: error.localizedDescription)
  }

  func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
    do { return try pool.read(body) } catch { throw ResultStore.wrap(error, path: path) }
  }

  func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
    do { return try pool.write(body) } catch { throw ResultStore.wrap(error, path: path) }
  }

  // MARK: Runs

  /// Inserts a new run and its tasks in one transaction.
  public func createRun(_ run: RunRecord, tasks: [TaskSpec]) throws(StoreError) {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO runs(id, suite, suite_path, suite_sha256, label, seed, trials, status, started_at,
            finished_at, evalh_version, host, git_commit, config_json, plan_json, stop_reason)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          run.id, run.suite, run.suitePath, run.suiteSHA256, run.label, run.seed, run.trials, run.status.rawValue,
          Timestamp.format(run.startedAt), run.finishedAt.map(Timestamp.format), run.evalhVersion, run.host,
          run.gitCommit, run.configJSON, ResultStore.encode(run.plan), run.stopReason,
        ])
      for task in tasks {
        try db.execute(
          sql: "INSERT OR IGNORE INTO tasks(run_id, task_id, input_json, tags, metadata_json) VALUES (?, ?, ?, ?, ?)",
          arguments: [
            run.id, task.id, task.input.compactText, JSONValue.array(task.tags.map { .string($0) }).compactText,
            JSONValue.object(task.metadata).compactText,
          ])
      }
    }
  }

  /// Widens a run's plan (another shard of it) and records the new tasks, in one transaction.
  public func extendRun(_ run: RunRecord, tasks: [TaskSpec]) throws(StoreError) {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET plan_json = ?, status = 'running', finished_at = NULL WHERE id = ?",
        arguments: [ResultStore.encode(run.plan), run.id])
      for task in tasks {
        try db.execute(
          sql: "INSERT OR IGNORE INTO tasks(run_id, task_id, input_json, tags, metadata_json) VALUES (?, ?, ?, ?, ?)",
          arguments: [
            run.id, task.id, task.input.compactText, JSONValue.array(task.tags.map { .string($0) }).compactText,
            JSONValue.object(task.metadata).compactText,
          ])
      }
    }
  }

  /// Sets a run's status (and its finish time and reason).
  public func updateRun(_ id: String, status: RunStatus, finishedAt: Date?, stopReason: String?) throws(StoreError) {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET status = ?, finished_at = ?, stop_reason = ? WHERE id = ?",
        arguments: [status.rawValue, finishedAt.map(Timestamp.format), stopReason, id])
    }
  }

  /// The run with this id, if any.
  public func run(id: String) throws(StoreError) -> RunRecord? {
    try read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(ResultStore.runRecord) }
  }

  /// Runs newest first, optionally of one suite.
  public func runs(suite: String? = nil, limit: Int = 50) throws(StoreError) -> [RunRecord] {
    try read { db in
      if let suite {
        return try Row.fetchAll(
          db, sql: "SELECT * FROM runs WHERE suite = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
          arguments: [suite, limit]
        ).map(ResultStore.runRecord)
      }
      return try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", arguments: [limit])
        .map(ResultStore.runRecord)
    }
  }

  /// Resolves a run reference: an id, `latest`, `latest~N` (the Nth run before the latest of its suite),
  /// or `label:NAME` (the latest run with that label).
  public func resolve(_ reference: String) throws(StoreError) -> RunRecord {
    if reference.hasPrefix("label:") {
      let label = String(reference.dropFirst("label:".count))
      let found = try read { db in
        try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE label = ? ORDER BY started_at DESC, rowid DESC LIMIT 1", arguments: [label])
          .map(ResultStore.runRecord)
      }
      guard let found else { throw .unknownRun("no run labelled '\(label)' in \(path)") }
      return found
    }
    if reference == "latest" || reference.hasPrefix("latest~") {
      let back = reference == "latest" ? 0 : Int(reference.dropFirst("latest~".count)) ?? -1
      guard back >= 0 else { throw .unknownRun("'\(reference)' is not a run reference: use an id, latest, latest~N or label:NAME") }
      guard let latest = try runs(limit: 1).first else { throw .unknownRun("there are no runs in \(path) yet") }
      let sameSuite = try runs(suite: latest.suite, limit: back + 1)
      guard sameSuite.count > back else {
        throw .unknownRun("suite '\(latest.suite)' has only \(sameSuite.count) run(s) in \(path); '\(reference)' does not exist")
      }
      return sameSuite[back]
    }
    guard let run = try run(id: reference) else { throw .unknownRun("no run '\(reference)' in \(path)") }
    return run
  }

  static func runRecord(_ row: Row) -> RunRecord {
    let planJSON: String = row["plan_json"] ?? "{}"
    let plan = (try? JSONDecoder().decode(RunPlan.self, from: Data(planJSON.utf8))) ?? RunPlan(agents: [], tasks: [])
    return RunRecord(
      id: row["id"], suite: row["suite"], suitePath: row["suite_path"], suiteSHA256: row["suite_sha256"],
      label: row["label"], seed: row["seed"], trials: row["trials"],
      status: RunStatus(rawValue: row["status"]) ?? .failed,
      startedAt: Timestamp.parse(row["started_at"]) ?? Date(timeIntervalSince1970: 0),
      finishedAt: (row["finished_at"] as String?).flatMap(Timestamp.parse), evalhVersion: row["evalh_version"],
      host: row["host"], gitCommit: row["git_commit"], configJSON: row["config_json"], plan: plan,
      stopReason: row["stop_reason"])
  }

  static func encode(_ plan: RunPlan) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(plan)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  // MARK: Trials

  /// Writes a trial and its grades in one transaction: committed the moment it returns.
  public func insert(_ trial: TrialRecord) async throws(StoreError) {
    do {
      try await pool.write { db in try ResultStore.insert(trial, into: db) }
    } catch {
      throw ResultStore.wrap(error, path: path)
    }
  }

  /// Writes trials, each with its grades, in one transaction (a group commit).
  public func insert(_ trials: [TrialRecord]) async throws(StoreError) {
    do {
      try await pool.write { db in for trial in trials { try ResultStore.insert(trial, into: db) } }
    } catch {
      throw ResultStore.wrap(error, path: path)
    }
  }

  /// The synchronous form of `insert`.
  public func insertNow(_ trial: TrialRecord) throws(StoreError) {
    try write { db in try ResultStore.insert(trial, into: db) }
  }

  static func insert(_ t: TrialRecord, into db: Database) throws {
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO trials(run_id, agent, task_id, trial, status, error_kind, error, efficacy_pass, efficacy_score,
          violations, latency_ms, input_tokens, output_tokens, cost_usd, attempts, seed, output_json, stderr_tail,
          steps_json, truncated, started_at, finished_at, workdir, judge_cost_usd, assure_checks)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    try statement.execute(arguments: [
      t.runID, t.agent, t.taskID, t.trial, t.status.rawValue, t.errorKind?.rawValue, t.error, t.efficacyPass,
      t.efficacyScore, t.violations, t.latencyMs, t.inputTokens, t.outputTokens, t.costUSD, t.attempts, t.seed,
      t.outputJSON, t.stderrTail, t.stepsJSON, t.truncated, Timestamp.format(t.startedAt), Timestamp.format(t.finishedAt),
      t.workdir, t.judgeCostUSD, t.grades.filter { $0.kind == .assure }.count,
    ])
    let gradeStatement = try db.cachedStatement(
      sql: """
        INSERT INTO grades(run_id, agent, task_id, trial, kind, grader, passed, score, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    for g in t.grades {
      try gradeStatement.execute(arguments: [
        t.runID, t.agent, t.taskID, t.trial, g.kind.rawValue, g.grader, g.passed, g.score, g.detail,
      ])
    }
  }

  /// The triples a run has recorded.
  public func recordedKeys(runID: String) throws(StoreError) -> Set<TrialKey> {
    try read { db in
      var keys = Set<TrialKey>()
      let rows = try Row.fetchCursor(db, sql: "SELECT agent, task_id, trial FROM trials WHERE run_id = ?", arguments: [runID])
      while let row = try rows.next() { keys.insert(TrialKey(agent: row[0], taskID: row[1], trial: row[2])) }
      return keys
    }
  }

  /// The sum of the known costs a run has recorded.
  public func recordedCost(runID: String) throws(StoreError) -> Double {
    try read { db in try Double.fetchOne(db, sql: "SELECT total(cost_usd) FROM trials WHERE run_id = ?", arguments: [runID]) ?? 0 }
  }

  /// One agent's trials folded into a tally as they are read: memory does not grow with the trials.
  /// The loop reads SQLite's columns in place and makes a task id string only when the task changes:
  /// it runs once per trial of a run that may hold millions.
  /// Also returns the agent's failed assurance checks by name, looked up for the trials with violations only.
  /// `eachRow`, when given, also sees every row with the columns of trials.csv, in (task, trial) order:
  /// export writes its trials from the same scan that measures them.
  /// `tasks` limits the read to task ids in that range (SQLite's byte order; nil ends are open): a
  /// large agent is read in parts side by side.
  public func trialTally(
    runID: String, agent: String, tasks: TaskRange = TaskRange(), slaLimitMs: Double?, violationsByCheck: Bool = true,
    eachRow: (@Sendable (borrowing StoredTrialRow) -> Void)? = nil
  ) throws(StoreError) -> (tally: TrialTally, violationsByCheck: [(check: String, count: Int)]) {
    try read { db in
      var tally = TrialTally(slaLimitMs: slaLimitMs)
      // The metrics' columns first; those only trials.csv shows follow when exporting.
      let export = eachRow != nil
      let statement = try db.makeStatement(
        sql: """
          SELECT \(StoredTrialRow.metricColumns) \(export ? ", " + StoredTrialRow.exportColumns : "")
          FROM trials t WHERE run_id = ? AND agent = ? AND task_id >= ? \(tasks.upper == nil ? "" : "AND task_id < ?")
          ORDER BY task_id, trial
          """)
      // Every text sorts at or after the empty one.
      try statement.setArguments(StatementArguments([runID, agent, tasks.lower ?? ""] + (tasks.upper.map { [$0] } ?? [])))
      let s = statement.sqliteStatement
      defer { sqlite3_reset(s) }
      var task: [UInt8] = []
      var violating: [(task: String, trial: Int)] = []
      var code = sqlite3_step(s)
      while code == SQLITE_ROW {
        let row = StoredTrialRow(s, export: export)
        if !task.elementsEqual(row.taskID) {
          task = Array(row.taskID)
          tally.begin(task: String(decoding: task, as: UTF8.self))
        }
        let status: TrialStatus
        switch row.status.first {
        case UInt8(ascii: "p"): status = .pass
        case UInt8(ascii: "f"): status = .fail
        case UInt8(ascii: "t"): status = .timeout
        default: status = .error
        }
        tally.record(
          trial: row.trial, status: status,
          errorKind: row.errorKind.flatMap { ErrorKind(rawValue: String(decoding: $0, as: UTF8.self)) },
          latencyMs: row.latencyMs, costUSD: row.costUSD, violations: row.violations, efficacyPass: row.efficacyPass,
          efficacyScore: row.efficacyScore, checks: row.assureChecks, judgeCostUSD: row.judgeCostUSD)
        if violationsByCheck, row.violations > 0 { violating.append((tally.currentTask, row.trial)) }
        eachRow?(row)
        code = sqlite3_step(s)
      }
      guard code == SQLITE_DONE else {
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
      }
      var counts: [String: Int] = [:]
      let failed = try db.makeStatement(
        sql: "SELECT grader FROM grades WHERE run_id = ? AND agent = ? AND task_id = ? AND trial = ? AND kind = 'assure' AND passed = 0")
      try failed.setArguments([runID, agent, "", 0])
      let f = failed.sqliteStatement
      for (task, trial) in violating {
        sqlite3_reset(f)
        _ = task.withCString { sqlite3_bind_text(f, 3, $0, -1, ResultStore.transient) }
        sqlite3_bind_int64(f, 4, Int64(trial))
        var step = sqlite3_step(f)
        while step == SQLITE_ROW {
          counts[String(cString: sqlite3_column_text(f, 0)), default: 0] += 1
          step = sqlite3_step(f)
        }
        guard step == SQLITE_DONE else {
          throw DatabaseError(resultCode: ResultCode(rawValue: step), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
      }
      sqlite3_reset(f)
      let byCheck = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { (check: $0.key, count: $0.value) }
      return (tally, byCheck)
    }
  }

  /// The agents that recorded trials in a run, by name.
  public func recordedAgents(runID: String) throws(StoreError) -> [String] {
    try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT agent FROM trials WHERE run_id = ? ORDER BY agent", arguments: [runID]) }
  }

  /// The statuses of some of an agent's tasks, trials 1...`upToTrial`: the HTML report's grid.
  public func trialStatuses(runID: String, agent: String, tasks: [String], upToTrial: Int) throws(StoreError)
    -> [String: [Int: TrialStatus]]
  {
    try read { db in
      var out: [String: [Int: TrialStatus]] = [:]
      let statement = try db.makeStatement(
        sql: "SELECT trial, status FROM trials WHERE run_id = ? AND agent = ? AND task_id = ? AND trial <= ?")
      for task in tasks {
        let rows = try Row.fetchCursor(statement, arguments: [runID, agent, task, upToTrial])
        while let row = try rows.next() { out[task, default: [:]][row[0]] = TrialStatus(rawValue: row[1]) ?? .error }
      }
      return out
    }
  }

  /// Each task's tags in a run.
  public func taskTags(runID: String) throws(StoreError) -> [String: [String]] {
    try read { db in
      var out: [String: [String]] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT task_id, tags FROM tasks WHERE run_id = ?", arguments: [runID]) {
        let tags = (row[1] as String?).flatMap { JSONValue.parse($0)?.arrayValue?.compactMap(\.stringValue) } ?? []
        out[row[0]] = tags
      }
      return out
    }
  }

  /// Full trials with their grades, filtered, ordered by agent, task and trial.
  public func trials(runID: String, agent: String? = nil, taskID: String? = nil, trial: Int? = nil) throws(StoreError)
    -> [TrialRecord]
  {
    try read { db in
      var sql = "SELECT * FROM trials WHERE run_id = ?"
      var arguments: StatementArguments = [runID]
      if let agent {
        sql += " AND agent = ?"
        arguments += [agent]
      }
      if let taskID {
        sql += " AND task_id = ?"
        arguments += [taskID]
      }
      if let trial {
        sql += " AND trial = ?"
        arguments += [trial]
      }
      sql += " ORDER BY agent, task_id, trial"
      var records = try Row.fetchAll(db, sql: sql, arguments: arguments).map(ResultStore.trialRecord)
      guard !records.isEmpty, taskID != nil else { return records }
      for i in records.indices {
        let r = records[i]
        records[i].grades = try Row.fetchAll(
          db,
          sql: "SELECT * FROM grades WHERE run_id = ? AND agent = ? AND task_id = ? AND trial = ? ORDER BY rowid",
          arguments: [r.runID, r.agent, r.taskID, r.trial]
        ).map { row in
          Grade(
            kind: GradeKind(rawValue: row["kind"]) ?? .expect, grader: row["grader"], passed: row["passed"],
            score: row["score"], detail: row["detail"])
        }
      }
      return records
    }
  }

  static func trialRecord(_ row: Row) -> TrialRecord {
    TrialRecord(
      runID: row["run_id"], agent: row["agent"], taskID: row["task_id"], trial: row["trial"],
      status: TrialStatus(rawValue: row["status"]) ?? .error,
      errorKind: (row["error_kind"] as String?).flatMap(ErrorKind.init(rawValue:)), error: row["error"],
      efficacyPass: row["efficacy_pass"], efficacyScore: row["efficacy_score"], violations: row["violations"],
      latencyMs: row["latency_ms"], inputTokens: row["input_tokens"], outputTokens: row["output_tokens"],
      costUSD: row["cost_usd"], attempts: row["attempts"], seed: row["seed"], outputJSON: row["output_json"],
      stderrTail: row["stderr_tail"], stepsJSON: row["steps_json"], truncated: row["truncated"],
      startedAt: Timestamp.parse(row["started_at"]) ?? Date(timeIntervalSince1970: 0),
      finishedAt: Timestamp.parse(row["finished_at"]) ?? Date(timeIntervalSince1970: 0), workdir: row["workdir"],
      judgeCostUSD: row["judge_cost_usd"])
  }
}
