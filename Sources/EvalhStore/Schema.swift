import GRDB

/// Append-only migrations; `PRAGMA user_version` is the number of migrations applied.
enum Schema {
  /// Each entry is applied once, in its own transaction, in order.
  static let migrations: [(name: String, sql: String)] = [
    (
      "v1: runs, tasks, trials, grades",
      """
      CREATE TABLE runs(
        id TEXT PRIMARY KEY,
        suite TEXT NOT NULL,
        suite_path TEXT, suite_sha256 TEXT NOT NULL,
        label TEXT, seed INTEGER NOT NULL,
        trials INTEGER NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT,
        evalh_version TEXT, host TEXT, git_commit TEXT,
        config_json TEXT NOT NULL,
        plan_json TEXT NOT NULL DEFAULT '{}',
        stop_reason TEXT
      );
      CREATE INDEX runs_by_suite ON runs(suite, started_at);
      CREATE TABLE tasks(
        run_id TEXT NOT NULL REFERENCES runs(id),
        task_id TEXT NOT NULL,
        input_json TEXT NOT NULL, tags TEXT, metadata_json TEXT,
        PRIMARY KEY (run_id, task_id)
      );
      CREATE TABLE trials(
        run_id TEXT NOT NULL REFERENCES runs(id),
        agent TEXT NOT NULL, task_id TEXT NOT NULL, trial INTEGER NOT NULL,
        status TEXT NOT NULL,
        error_kind TEXT,
        error TEXT,
        efficacy_pass INTEGER, efficacy_score REAL, violations INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL NOT NULL,
        input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL,
        attempts INTEGER NOT NULL DEFAULT 1,
        seed INTEGER NOT NULL,
        output_json TEXT, stderr_tail TEXT, steps_json TEXT, truncated INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
        PRIMARY KEY (run_id, agent, task_id, trial)
      );
      CREATE TABLE grades(
        run_id TEXT NOT NULL, agent TEXT NOT NULL, task_id TEXT NOT NULL, trial INTEGER NOT NULL,
        kind TEXT NOT NULL,
        grader TEXT NOT NULL,
        passed INTEGER NOT NULL, score REAL, detail TEXT,
        FOREIGN KEY (run_id, agent, task_id, trial) REFERENCES trials(run_id, agent, task_id, trial)
      );
      CREATE INDEX grades_by_trial ON grades(run_id, agent, task_id, trial);
      """
    ),
    (
      "v2: trials.workdir, the kept working folder of a failed trial (--keep-failed)",
      "ALTER TABLE trials ADD COLUMN workdir TEXT"
    ),
    (
      "v3: trials.judge_cost_usd, what the trial's judge graders cost (kept apart from the agent's cost_usd)",
      "ALTER TABLE trials ADD COLUMN judge_cost_usd REAL"
    ),
    (
      "v4: trials.assure_checks, the assurance checks evaluated on the trial (reports read it instead of counting grades)",
      """
      ALTER TABLE trials ADD COLUMN assure_checks INTEGER;
      UPDATE trials SET assure_checks = (
        SELECT count(*) FROM grades g WHERE g.run_id = trials.run_id AND g.agent = trials.agent
          AND g.task_id = trials.task_id AND g.trial = trials.trial AND g.kind = 'assure');
      """
    ),
    (
      "v5: tool_calls, every call to a served tool as it happened; trials.phantom_calls",
      """
      CREATE TABLE tool_calls(
        run_id TEXT NOT NULL, agent TEXT NOT NULL, condition TEXT NOT NULL DEFAULT 'clean',
        task_id TEXT NOT NULL, trial INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        tool TEXT NOT NULL,
        arguments_json TEXT NOT NULL, result_json TEXT,
        is_error INTEGER NOT NULL, fault TEXT, contract_ok INTEGER NOT NULL,
        problem TEXT,
        latency_ms REAL NOT NULL, started_at TEXT NOT NULL,
        PRIMARY KEY (run_id, agent, condition, task_id, trial, seq)
      );
      ALTER TABLE trials ADD COLUMN phantom_calls INTEGER;
      """
    ),
    (
      "v6: conditions: trials.condition joins the trial's key (trials and grades rebuilt); trials.variant and input_json",
      """
      CREATE TABLE trials_v6(
        run_id TEXT NOT NULL REFERENCES runs(id),
        agent TEXT NOT NULL, condition TEXT NOT NULL DEFAULT 'clean', task_id TEXT NOT NULL, trial INTEGER NOT NULL,
        status TEXT NOT NULL,
        error_kind TEXT,
        error TEXT,
        efficacy_pass INTEGER, efficacy_score REAL, violations INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL NOT NULL,
        input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL,
        attempts INTEGER NOT NULL DEFAULT 1,
        seed INTEGER NOT NULL,
        output_json TEXT, stderr_tail TEXT, steps_json TEXT, truncated INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
        workdir TEXT, judge_cost_usd REAL, assure_checks INTEGER, phantom_calls INTEGER,
        variant INTEGER, input_json TEXT,
        PRIMARY KEY (run_id, agent, condition, task_id, trial)
      );
      INSERT INTO trials_v6(\(trialColumns))
        SELECT \(trialColumns) FROM trials;
      DROP TABLE trials;
      ALTER TABLE trials_v6 RENAME TO trials;
      CREATE TABLE grades_v6(
        run_id TEXT NOT NULL, agent TEXT NOT NULL, condition TEXT NOT NULL DEFAULT 'clean',
        task_id TEXT NOT NULL, trial INTEGER NOT NULL,
        kind TEXT NOT NULL,
        grader TEXT NOT NULL,
        passed INTEGER NOT NULL, score REAL, detail TEXT,
        FOREIGN KEY (run_id, agent, condition, task_id, trial)
          REFERENCES trials(run_id, agent, condition, task_id, trial)
      );
      INSERT INTO grades_v6(run_id, agent, task_id, trial, kind, grader, passed, score, detail)
        SELECT run_id, agent, task_id, trial, kind, grader, passed, score, detail FROM grades ORDER BY rowid;
      DROP TABLE grades;
      ALTER TABLE grades_v6 RENAME TO grades;
      CREATE INDEX grades_by_trial ON grades(run_id, agent, condition, task_id, trial);
      """
    ),
  ]

  /// The columns of `trials` up to v5, copied as they are by v6.
  static let trialColumns = """
    run_id, agent, task_id, trial, status, error_kind, error, efficacy_pass, efficacy_score, violations,
        latency_ms, input_tokens, output_tokens, cost_usd, attempts, seed, output_json, stderr_tail, steps_json,
        truncated, started_at, finished_at, workdir, judge_cost_usd, assure_checks, phantom_calls
    """

  /// The schema version this evalh writes.
  static var version: Int { migrations.count }

  /// Brings `db` up to `version`, each step in one transaction. Foreign keys are off while a step
  /// runs (SQLite's way to rebuild a table another one references) and checked before it commits.
  static func migrate(_ writer: some DatabaseWriter) throws {
    let current = try writer.read { try Int.fetchOne($0, sql: "PRAGMA user_version") ?? 0 }
    guard current < version else { return }
    for index in current..<version {
      try writer.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
        try db.inTransaction(.immediate) {
          // Another process may have migrated meanwhile: the write lock makes this check exact.
          let now = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
          guard now == index else { return .rollback }
          try db.execute(sql: migrations[index].sql)
          if let broken = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
            throw DatabaseError(message: "migration \(index + 1) leaves a broken foreign key: \(broken)")
          }
          try db.execute(sql: "PRAGMA user_version = \(index + 1)")
          return .commit
        }
      }
    }
  }
}
