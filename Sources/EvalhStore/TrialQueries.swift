import EvalhCore
import Foundation
import GRDB

/// Trials and their grades: written as they end, read back whole or by column.
extension ResultStore {
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
      t.outputJSON, t.stderrTail, t.stepsJSON, t.truncated, Timestamp.format(t.startedAt),
      Timestamp.format(t.finishedAt),
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
      let rows = try Row.fetchCursor(
        db, sql: "SELECT agent, task_id, trial FROM trials WHERE run_id = ?", arguments: [runID])
      while let row = try rows.next() { keys.insert(TrialKey(agent: row[0], taskID: row[1], trial: row[2])) }
      return keys
    }
  }

  /// The sum of the known costs a run has recorded.
  public func recordedCost(runID: String) throws(StoreError) -> Double {
    try read { db in
      try Double.fetchOne(db, sql: "SELECT total(cost_usd) FROM trials WHERE run_id = ?", arguments: [runID]) ?? 0
    }
  }

  /// The agents that recorded trials in a run, by name.
  public func recordedAgents(runID: String) throws(StoreError) -> [String] {
    try read { db in
      try String.fetchAll(
        db, sql: "SELECT DISTINCT agent FROM trials WHERE run_id = ? ORDER BY agent", arguments: [runID])
    }
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
