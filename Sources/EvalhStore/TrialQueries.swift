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
        INSERT INTO trials(run_id, agent, condition, task_id, trial, status, error_kind, error, efficacy_pass,
          efficacy_score, violations, latency_ms, input_tokens, output_tokens, cost_usd, attempts, seed, output_json,
          stderr_tail, steps_json, truncated, started_at, finished_at, workdir, judge_cost_usd, assure_checks,
          phantom_calls, variant, input_json)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    try statement.execute(arguments: [
      t.runID, t.agent, t.condition, t.taskID, t.trial, t.status.rawValue, t.errorKind?.rawValue, t.error,
      t.efficacyPass,
      t.efficacyScore, t.violations, t.latencyMs, t.inputTokens, t.outputTokens, t.costUSD, t.attempts, t.seed,
      t.outputJSON, t.stderrTail, t.stepsJSON, t.truncated, Timestamp.format(t.startedAt),
      Timestamp.format(t.finishedAt),
      t.workdir, t.judgeCostUSD, t.grades.filter { $0.kind == .assure }.count, t.phantomCalls, t.variant, t.inputJSON,
    ])
    let gradeStatement = try db.cachedStatement(
      sql: """
        INSERT INTO grades(run_id, agent, condition, task_id, trial, kind, grader, passed, score, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    for g in t.grades {
      try gradeStatement.execute(arguments: [
        t.runID, t.agent, t.condition, t.taskID, t.trial, g.kind.rawValue, g.grader, g.passed, g.score, g.detail,
      ])
    }
    guard !t.toolCalls.isEmpty else { return }
    let callStatement = try db.cachedStatement(
      sql: """
        INSERT INTO tool_calls(run_id, agent, condition, task_id, trial, seq, tool, arguments_json, result_json,
          is_error, fault, contract_ok, problem, latency_ms, started_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    for c in t.toolCalls {
      try callStatement.execute(arguments: [
        t.runID, t.agent, t.condition, t.taskID, t.trial, c.seq, c.tool, c.arguments.compactText, c.result?.compactText,
        c.isError, c.fault, c.contractOK, c.problem?.rawValue, c.latencyMs, Timestamp.format(c.startedAt),
      ])
    }
  }

  /// The triples a run has recorded.
  public func recordedKeys(runID: String) throws(StoreError) -> Set<TrialKey> {
    try read { db in
      var keys = Set<TrialKey>()
      let rows = try Row.fetchCursor(
        db, sql: "SELECT agent, condition, task_id, trial FROM trials WHERE run_id = ?", arguments: [runID])
      while let row = try rows.next() {
        let c = Cells(row: row, table: "trials", which: "a trial of run \(VisibleText.of(runID))", path: path)
        keys.insert(
          TrialKey(
            agent: try c.value("agent"), condition: try c.value("condition"), taskID: try c.value("task_id"),
            trial: try c.value("trial")))
      }
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

  /// The statuses of some of an agent's tasks under a condition, trials 1...`upToTrial`: the HTML report's grid.
  public func trialStatuses(
    runID: String, agent: String, condition: String = Condition.defaultName, tasks: [String], upToTrial: Int
  ) throws(StoreError) -> [String: [Int: TrialStatus]] {
    try read { db in
      var out: [String: [Int: TrialStatus]] = [:]
      let statement = try db.makeStatement(
        sql:
          "SELECT trial, status FROM trials WHERE run_id = ? AND agent = ? AND condition = ? AND task_id = ? AND trial <= ?"
      )
      for task in tasks {
        let rows = try Row.fetchCursor(statement, arguments: [runID, agent, condition, task, upToTrial])
        while let row = try rows.next() {
          let c = Cells(row: row, table: "trials", which: "a trial of task \(VisibleText.of(task))", path: path)
          let status: String = try c.value("status")
          out[task, default: [:]][try c.value("trial")] = TrialStatus(rawValue: status) ?? .error
        }
      }
      return out
    }
  }

  /// A task's input as stored (JSON text), before any variant or perturbation; nil when not stored.
  public func taskInput(runID: String, taskID: String) throws(StoreError) -> String? {
    try read { db in
      try String.fetchOne(
        db, sql: "SELECT input_json FROM tasks WHERE run_id = ? AND task_id = ?", arguments: [runID, taskID])
    }
  }

  /// Each task's tags in a run.
  public func taskTags(runID: String) throws(StoreError) -> [String: [String]] {
    try read { db in
      var out: [String: [String]] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT task_id, tags FROM tasks WHERE run_id = ?", arguments: [runID]) {
        let c = Cells(row: row, table: "tasks", which: "a task of run \(VisibleText.of(runID))", path: path)
        let text: String? = try c.optional("tags")
        out[try c.value("task_id")] = text.flatMap { JSONValue.parse($0)?.arrayValue?.compactMap(\.stringValue) } ?? []
      }
      return out
    }
  }

  /// Full trials with their grades, filtered, ordered by agent, condition, task and trial. With
  /// `failedFirst`, only that many: the trials that did not pass first (the HTML drill-down's).
  public func trials(
    runID: String, agent: String? = nil, condition: String? = nil, taskID: String? = nil, trial: Int? = nil,
    failedFirst limit: Int? = nil
  ) throws(StoreError) -> [TrialRecord] {
    try read { db in
      var sql = "SELECT * FROM trials WHERE run_id = ?"
      var arguments: StatementArguments = [runID]
      if let agent {
        sql += " AND agent = ?"
        arguments += [agent]
      }
      if let condition {
        sql += " AND condition = ?"
        arguments += [condition]
      }
      if let taskID {
        sql += " AND task_id = ?"
        arguments += [taskID]
      }
      if let trial {
        sql += " AND trial = ?"
        arguments += [trial]
      }
      if let limit {
        sql += " ORDER BY agent, condition, task_id, status = 'pass', trial LIMIT \(max(0, limit))"
      } else {
        sql += " ORDER BY agent, condition, task_id, trial"
      }
      var records = try Row.fetchAll(db, sql: sql, arguments: arguments).map({ row throws(StoreError) in
        try ResultStore.trialRecord(row, path: path)
      })
      guard !records.isEmpty, taskID != nil else { return records }
      for i in records.indices {
        let r = records[i]
        records[i].grades = try Row.fetchAll(
          db,
          sql: """
            SELECT * FROM grades WHERE run_id = ? AND agent = ? AND condition = ? AND task_id = ? AND trial = ?
            ORDER BY rowid
            """,
          arguments: [r.runID, r.agent, r.condition, r.taskID, r.trial]
        ).map({ row throws(StoreError) in
          let c = Cells(
            row: row, table: "grades", which: "a grade of trial \(r.agent)/\(r.taskID)#\(r.trial)", path: path)
          let kind: String = try c.value("kind")
          return Grade(
            kind: GradeKind(rawValue: kind) ?? .expect, grader: try c.value("grader"), passed: try c.value("passed"),
            score: try c.optional("score"), detail: try c.optional("detail"))
        })
        let calls = try Row.fetchAll(
          db,
          sql: """
            SELECT seq, tool, arguments_json, result_json, is_error, fault, problem, latency_ms, started_at
            FROM tool_calls WHERE run_id = ? AND agent = ? AND condition = ? AND task_id = ? AND trial = ? ORDER BY seq
            """, arguments: [r.runID, r.agent, r.condition, r.taskID, r.trial])
        records[i].toolCalls = try calls.map({ row throws(StoreError) in
          try ResultStore.observedCall(row, path: path)
        })
      }
      return records
    }
  }

  /// A `trials` row; a cell of the wrong type is an error naming it (another tool may have written it).
  static func trialRecord(_ row: Row, path: String) throws(StoreError) -> TrialRecord {
    let key = Cells(row: row, table: "trials", which: "a trial", path: path)
    let agent: String = try key.value("agent")
    let task: String = try key.value("task_id")
    let number: Int = try key.value("trial")
    let c = Cells(
      row: row, table: "trials", which: "trial \(VisibleText.of(agent))/\(VisibleText.of(task))#\(number)", path: path)
    let status: String = try c.value("status")
    let kind: String? = try c.optional("error_kind")
    let started: String = try c.value("started_at")
    let finished: String = try c.value("finished_at")
    var record = TrialRecord(
      runID: try c.value("run_id"), agent: agent, taskID: task, trial: number,
      status: TrialStatus(rawValue: status) ?? .error, errorKind: kind.flatMap(ErrorKind.init(rawValue:)),
      error: try c.optional("error"), efficacyPass: try c.optional("efficacy_pass"),
      efficacyScore: try c.optional("efficacy_score"), violations: try c.value("violations"),
      latencyMs: try c.value("latency_ms"), inputTokens: try c.optional("input_tokens"),
      outputTokens: try c.optional("output_tokens"), costUSD: try c.optional("cost_usd"),
      attempts: try c.value("attempts"), seed: try c.value("seed"), outputJSON: try c.optional("output_json"),
      stderrTail: try c.optional("stderr_tail"), stepsJSON: try c.optional("steps_json"),
      truncated: try c.value("truncated"), startedAt: Timestamp.parse(started) ?? Date(timeIntervalSince1970: 0),
      finishedAt: Timestamp.parse(finished) ?? Date(timeIntervalSince1970: 0), workdir: try c.optional("workdir"),
      judgeCostUSD: try c.optional("judge_cost_usd"))
    record.phantomCalls = try c.optional("phantom_calls")
    record.condition = try c.value("condition")
    record.variant = try c.optional("variant")
    record.inputJSON = try c.optional("input_json")
    return record
  }
}
