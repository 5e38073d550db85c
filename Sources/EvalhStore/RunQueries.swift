import EvalhCore
import Foundation
import GRDB

/// Runs: created, widened by shards, finished, resolved from references.
extension ResultStore {
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
      try ResultStore.insert(tasks, of: run.id, into: db)
    }
  }

  /// Widens a run's plan (another shard of it) and records the new tasks, in one transaction.
  public func extendRun(_ run: RunRecord, tasks: [TaskSpec]) throws(StoreError) {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET plan_json = ?, status = 'running', finished_at = NULL WHERE id = ?",
        arguments: [ResultStore.encode(run.plan), run.id])
      try ResultStore.insert(tasks, of: run.id, into: db)
    }
  }

  /// Records a run's tasks; a task already recorded (a shard's, a resumed run's) is kept as it was.
  static func insert(_ tasks: [TaskSpec], of runID: String, into db: Database) throws {
    let statement = try db.cachedStatement(
      sql: "INSERT OR IGNORE INTO tasks(run_id, task_id, input_json, tags, metadata_json) VALUES (?, ?, ?, ?, ?)")
    for task in tasks {
      try statement.execute(arguments: [
        runID, task.id, task.input.compactText, JSONValue.array(task.tags.map { .string($0) }).compactText,
        JSONValue.object(task.metadata).compactText,
      ])
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
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map({ row throws(StoreError) in
        try ResultStore.runRecord(row, path: path)
      })
    }
  }

  /// Runs newest first, optionally of one suite.
  public func runs(suite: String? = nil, limit: Int = 50) throws(StoreError) -> [RunRecord] {
    try read { db in
      if let suite {
        return try Row.fetchAll(
          db, sql: "SELECT * FROM runs WHERE suite = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
          arguments: [suite, limit]
        ).map({ row throws(StoreError) in try ResultStore.runRecord(row, path: path) })
      }
      return try Row.fetchAll(
        db, sql: "SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", arguments: [limit]
      )
      .map({ row throws(StoreError) in try ResultStore.runRecord(row, path: path) })
    }
  }

  /// Resolves a run reference: an id, `latest`, `latest~N` (the Nth run before the latest of its suite),
  /// or `label:NAME` (the latest run with that label).
  public func resolve(_ reference: String) throws(StoreError) -> RunRecord {
    if reference.hasPrefix("label:") {
      let label = String(reference.dropFirst("label:".count))
      let found = try read { db in
        try Row.fetchOne(
          db, sql: "SELECT * FROM runs WHERE label = ? ORDER BY started_at DESC, rowid DESC LIMIT 1", arguments: [label]
        )
        .map({ row throws(StoreError) in try ResultStore.runRecord(row, path: path) })
      }
      guard let found else { throw .unknownRun("no run labelled '\(label)' in \(path)") }
      return found
    }
    if reference == "latest" || reference.hasPrefix("latest~") {
      let back = reference == "latest" ? 0 : Int(reference.dropFirst("latest~".count)) ?? -1
      guard back >= 0 else {
        throw .unknownRun("'\(reference)' is not a run reference: use an id, latest, latest~N or label:NAME")
      }
      guard let latest = try runs(limit: 1).first else { throw .unknownRun("there are no runs in \(path) yet") }
      let sameSuite = try runs(suite: latest.suite, limit: back + 1)
      guard sameSuite.count > back else {
        throw .unknownRun(
          "suite '\(latest.suite)' has only \(sameSuite.count) run(s) in \(path); '\(reference)' does not exist")
      }
      return sameSuite[back]
    }
    guard let run = try run(id: reference) else { throw .unknownRun("no run '\(reference)' in \(path)") }
    return run
  }

  /// A `runs` row; a cell of the wrong type is an error naming it (another tool may have written it).
  static func runRecord(_ row: Row, path: String) throws(StoreError) -> RunRecord {
    let id: String = try Cells(row: row, table: "runs", which: "a run", path: path).value("id")
    let c = Cells(row: row, table: "runs", which: "run \(VisibleText.of(id))", path: path)
    let planJSON: String = try c.optional("plan_json") ?? "{}"
    let plan = (try? JSONDecoder().decode(RunPlan.self, from: Data(planJSON.utf8))) ?? RunPlan(agents: [], tasks: [])
    let status: String = try c.value("status")
    let started: String = try c.value("started_at")
    let finished: String? = try c.optional("finished_at")
    return RunRecord(
      id: id, suite: try c.value("suite"), suitePath: try c.optional("suite_path"),
      suiteSHA256: try c.value("suite_sha256"), label: try c.optional("label"), seed: try c.value("seed"),
      trials: try c.value("trials"), status: RunStatus(rawValue: status) ?? .failed,
      startedAt: Timestamp.parse(started) ?? Date(timeIntervalSince1970: 0),
      finishedAt: finished.flatMap(Timestamp.parse), evalhVersion: try c.optional("evalh_version"),
      host: try c.optional("host"), gitCommit: try c.optional("git_commit"), configJSON: try c.value("config_json"),
      plan: plan, stopReason: try c.optional("stop_reason"))
  }

  static func encode(_ plan: RunPlan) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(plan)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }
}
