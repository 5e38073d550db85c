import EvalhCore
import Foundation
import GRDB

/// What one `merge` of an input database did.
public struct MergeSummary: Sendable {
  /// The runs the input held.
  public var runs: [String]
  /// Trials copied in.
  public var trialsAdded: Int
  /// Identical trials already here.
  public var trialsAlreadyPresent: Int
}

extension ResultStore {
  /// The columns storage.md fixes: what every schema version has and what merge copies.
  static let trialColumns = """
    run_id, agent, task_id, trial, status, error_kind, error, efficacy_pass, efficacy_score, violations, latency_ms,
    input_tokens, output_tokens, cost_usd, attempts, seed, output_json, stderr_tail, steps_json, truncated, started_at,
    finished_at
    """
  static let gradeColumns = "run_id, agent, task_id, trial, kind, grader, passed, score, detail"
  static let toolCallColumns = """
    run_id, agent, condition, task_id, trial, seq, tool, arguments_json, result_json, is_error, fault, contract_ok, \
    problem, latency_ms, started_at
    """

  /// Merges other evalh databases into this one, all in one transaction: runs of the same id are
  /// combined (their plans joined), trials already present must be identical, and a conflict in any
  /// input, or an input that cannot be merged, changes nothing at all. At most
  /// `ResultStore.mergeLimit` inputs at once (SQLite's limit of attached databases).
  public func merge(from paths: [String]) throws(StoreError) -> [MergeSummary] {
    guard paths.count <= ResultStore.mergeLimit else {
      throw .conflict("merge takes at most \(ResultStore.mergeLimit) databases at once; merge the rest in another call")
    }
    for path in paths where !FileManager.default.fileExists(atPath: path) { throw .missingDatabase(path) }
    do {
      return try pool.writeWithoutTransaction { db in
        var attached: [String] = []
        defer { for alias in attached { try? db.execute(sql: "DETACH DATABASE \(alias)") } }
        var versions: [Int] = []
        for (i, path) in paths.enumerated() {
          let alias = "src\(i)"
          try db.execute(sql: "ATTACH DATABASE ? AS \(alias)", arguments: [path])
          attached.append(alias)
          let version = try Int.fetchOne(db, sql: "PRAGMA \(alias).user_version") ?? 0
          if version > Schema.version {
            throw StoreError.newerSchema(path: path, version: version, known: Schema.version)
          }
          let hasRuns =
            try Bool.fetchOne(
              db, sql: "SELECT count(*) > 0 FROM \(alias).sqlite_master WHERE type = 'table' AND name = 'runs'")
            ?? false
          guard version >= 1, hasRuns else {
            throw StoreError.conflict("\(path) is not an evalh results database; nothing was merged")
          }
          versions.append(version)
        }
        var summaries: [MergeSummary] = []
        try db.inTransaction {
          for (i, path) in paths.enumerated() {
            summaries.append(try merge(db, alias: "src\(i)", path: path, version: versions[i]))
          }
          return .commit
        }
        return summaries
      }
    } catch let error as StoreError {
      throw error
    } catch {
      throw ResultStore.wrap(error, path: self.path)
    }
  }

  /// The most databases one `merge` takes.
  public static let mergeLimit = 10

  /// Merges the database attached as `alias` inside the caller's transaction.
  private func merge(_ db: Database, alias: String, path: String, version: Int) throws -> MergeSummary {
    var summary = MergeSummary(runs: [], trialsAdded: 0, trialsAlreadyPresent: 0)
    // Before v6 every trial ran `clean`.
    let condition = version >= 6 ? "s.condition" : "'clean'"
    let conflicts = try Row.fetchAll(
      db,
      sql: """
        SELECT s.run_id, s.agent, s.task_id, s.trial, m.status, s.status FROM \(alias).trials s
        JOIN main.trials m ON m.run_id = s.run_id AND m.agent = s.agent AND m.condition = \(condition)
          AND m.task_id = s.task_id AND m.trial = s.trial
        WHERE s.status IS NOT m.status OR s.error_kind IS NOT m.error_kind OR s.output_json IS NOT m.output_json
          OR s.seed IS NOT m.seed OR s.violations IS NOT m.violations OR s.efficacy_pass IS NOT m.efficacy_pass
        LIMIT 5
        """)
    if !conflicts.isEmpty {
      let list = conflicts.map {
        "\($0[0] as String)/\($0[1] as String)/\($0[2] as String)#\($0[3] as Int) (\($0[4] as String) vs \($0[5] as String))"
      }
      throw StoreError.conflict(
        "\(path) records trials that differ from those already in \(self.path): \(list.joined(separator: ", ")); nothing was merged"
      )
    }
    for source in try Row.fetchAll(db, sql: "SELECT * FROM \(alias).runs").map({ row throws(StoreError) in
      try ResultStore.runRecord(row, path: path)
    }) {
      summary.runs.append(source.id)
      if let existing = try Row.fetchOne(db, sql: "SELECT * FROM main.runs WHERE id = ?", arguments: [source.id])
        .map({ row throws(StoreError) in try ResultStore.runRecord(row, path: path) })
      {
        guard existing.suiteSHA256 == source.suiteSHA256 else {
          throw StoreError.conflict(
            "run \(source.id) has a different suite in \(path) than in \(self.path); nothing was merged")
        }
        if let mine = existing.plan.shards?.count, let theirs = source.plan.shards?.count, mine != theirs {
          throw StoreError.conflict(
            "run \(source.id) is cut into \(theirs) shards in \(path) but \(mine) in \(self.path); nothing was merged")
        }
        let started = min(existing.startedAt, source.startedAt)
        let finished = [existing.finishedAt, source.finishedAt].compactMap { $0 }.max()
        try db.execute(
          sql: "UPDATE main.runs SET plan_json = ?, started_at = ?, finished_at = ? WHERE id = ?",
          arguments: [
            ResultStore.encode(existing.plan.union(source.plan)), Timestamp.format(started),
            finished.map(Timestamp.format), source.id,
          ])
      } else {
        try db.execute(
          sql: """
            INSERT INTO main.runs(id, suite, suite_path, suite_sha256, label, seed, trials, status, started_at, finished_at,
              evalh_version, host, git_commit, config_json, plan_json, stop_reason)
            SELECT id, suite, suite_path, suite_sha256, label, seed, trials, status, started_at, finished_at,
              evalh_version, host, git_commit, config_json, plan_json, stop_reason FROM \(alias).runs WHERE id = ?
            """, arguments: [source.id])
      }
    }
    try db.execute(
      sql:
        "INSERT OR IGNORE INTO main.tasks SELECT run_id, task_id, input_json, tags, metadata_json FROM \(alias).tasks")
    try db.execute(
      sql: """
        CREATE TEMP TABLE merge_new AS
        SELECT s.run_id, s.agent, \(condition) AS condition, s.task_id, s.trial FROM \(alias).trials s
        WHERE NOT EXISTS (SELECT 1 FROM main.trials m WHERE m.run_id = s.run_id AND m.agent = s.agent
          AND m.condition = \(condition) AND m.task_id = s.task_id AND m.trial = s.trial)
        """)
    defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.merge_new") }
    let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(alias).trials") ?? 0
    summary.trialsAdded = try Int.fetchOne(db, sql: "SELECT count(*) FROM temp.merge_new") ?? 0
    summary.trialsAlreadyPresent = total - summary.trialsAdded
    func join(_ condition: String) -> String {
      """
      JOIN temp.merge_new n ON n.run_id = s.run_id AND n.agent = s.agent AND n.condition = \(condition)
        AND n.task_id = s.task_id AND n.trial = s.trial
      """
    }
    // Judge costs came with schema v3: copied when the other file has them.
    let columns =
      ResultStore.trialColumns + (version >= 3 ? ", judge_cost_usd" : "")
      + (version >= 4 ? ", assure_checks" : "") + (version >= 5 ? ", phantom_calls" : "")
      + (version >= 6 ? ", condition, variant, input_json" : "")
    let trialSelect = columns.split(separator: ",").map {
      "s." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }.joined(separator: ", ")
    try db.execute(
      sql: "INSERT INTO main.trials(\(columns)) SELECT \(trialSelect) FROM \(alias).trials s \(join(condition))")
    let gradeSelect = ResultStore.gradeColumns.split(separator: ",").map {
      "s." + $0.trimmingCharacters(in: .whitespaces)
    }.joined(separator: ", ")
    try db.execute(
      sql: """
        INSERT INTO main.grades(\(ResultStore.gradeColumns), condition) SELECT \(gradeSelect), \(condition)
        FROM \(alias).grades s \(join(condition)) ORDER BY s.rowid
        """
    )
    if version >= 5 {
      let callColumns = ResultStore.toolCallColumns
      let callSelect = callColumns.split(separator: ",").map {
        "s." + $0.trimmingCharacters(in: .whitespaces)
      }.joined(separator: ", ")
      try db.execute(
        sql:
          "INSERT INTO main.tool_calls(\(callColumns)) SELECT \(callSelect) FROM \(alias).tool_calls s \(join("s.condition"))"
      )
    }
    // Trials from an older file: count their checks now, as the v4 migration does.
    try db.execute(
      sql: """
        UPDATE main.trials SET assure_checks = (
          SELECT count(*) FROM main.grades g WHERE g.run_id = trials.run_id AND g.agent = trials.agent
            AND g.condition = trials.condition AND g.task_id = trials.task_id AND g.trial = trials.trial AND g.kind = 'assure')
        WHERE assure_checks IS NULL AND run_id IN (SELECT DISTINCT run_id FROM temp.merge_new)
        """)
    // A run is completed once every planned trial is recorded, whichever machine recorded it.
    for id in summary.runs {
      guard
        let run = try Row.fetchOne(db, sql: "SELECT * FROM main.runs WHERE id = ?", arguments: [id]).map({
          row throws(StoreError) in try ResultStore.runRecord(row, path: self.path)
        })
      else { continue }
      let recorded =
        try Int.fetchOne(db, sql: "SELECT count(*) FROM main.trials WHERE run_id = ?", arguments: [id]) ?? 0
      let status = run.plan.status(recorded: recorded)
      // A gap is said where a stop reason is; once whole, an earlier gap's sentence goes.
      let reason: String? =
        switch status {
        case .incomplete: run.plan.shardGap
        case .completed: nil
        default: run.stopReason
        }
      try db.execute(
        sql: "UPDATE main.runs SET status = ?, stop_reason = ? WHERE id = ?", arguments: [status.rawValue, reason, id])
    }
    return summary
  }
}
