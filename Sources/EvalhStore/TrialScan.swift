import EvalhCore
import Foundation
import GRDB
import GRDBSQLite

/// The raw scan reports and export read a run through: SQLite's columns folded in place.
extension ResultStore {
  /// One agent's trials folded into a tally as they are read: memory does not grow with the trials.
  /// The loop reads SQLite's columns in place and makes a task id string only when the task changes:
  /// it runs once per trial of a run that may hold millions.
  /// Also returns the agent's failed assurance checks by name, looked up for the trials with violations only.
  /// `eachRow`, when given, also sees every row with the columns of trials.csv, in (task, trial) order:
  /// export writes its trials from the same scan that measures them.
  /// `tasks` limits the read to task ids in that range (SQLite's byte order; nil ends are open): a
  /// large agent is read in parts side by side.
  public func trialTally(
    runID: String, agent: String, condition: String = Condition.defaultName, tasks: TaskRange = TaskRange(),
    slaLimitMs: Double?, violationsByCheck: Bool = true,
    eachRow: (@Sendable (borrowing StoredTrialRow) -> Void)? = nil
  ) throws(StoreError) -> (tally: TrialTally, violationsByCheck: [(check: String, count: Int)]) {
    try read { db in
      var tally = TrialTally(slaLimitMs: slaLimitMs)
      // The metrics' columns first; those only trials.csv shows follow when exporting.
      let export = eachRow != nil
      let statement = try db.makeStatement(
        sql: """
          SELECT \(StoredTrialRow.metricColumns) \(export ? ", " + StoredTrialRow.exportColumns : "")
          FROM trials t WHERE run_id = ? AND agent = ? AND condition = ? AND task_id >= ? \(tasks.upper == nil ? "" : "AND task_id < ?")
          ORDER BY task_id, trial
          """)
      // Every text sorts at or after the empty one.
      try statement.setArguments(
        StatementArguments([runID, agent, condition, tasks.lower ?? ""] + (tasks.upper.map { [$0] } ?? [])))
      let s = statement.sqliteStatement
      defer { sqlite3_reset(s) }
      var task: [UInt8] = []
      var violating: [(task: String, trial: Int)] = []
      var code = sqlite3_step(s)
      while code == SQLITE_ROW {
        let row = StoredTrialRow(s, export: export)
        if let column = row.mistyped {
          let id = "\(VisibleText.of(String(decoding: row.taskID, as: UTF8.self)))#\(row.trial)"
          throw StoreError.database(
            path: path, message: "trials.\(column) of trial \(VisibleText.of(agent))/\(id) is not a number")
        }
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
        throw DatabaseError(
          resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
      }
      var counts: [String: Int] = [:]
      let failed = try db.makeStatement(
        sql:
          "SELECT grader FROM grades WHERE run_id = ? AND agent = ? AND condition = ? AND task_id = ? AND trial = ? AND kind = 'assure' AND passed = 0"
      )
      try failed.setArguments([runID, agent, condition, "", 0])
      let f = failed.sqliteStatement
      for (task, trial) in violating {
        sqlite3_reset(f)
        _ = task.withCString { sqlite3_bind_text(f, 4, $0, -1, ResultStore.transient) }
        sqlite3_bind_int64(f, 5, Int64(trial))
        var step = sqlite3_step(f)
        while step == SQLITE_ROW {
          counts[String(cString: sqlite3_column_text(f, 0)), default: 0] += 1
          step = sqlite3_step(f)
        }
        guard step == SQLITE_DONE else {
          throw DatabaseError(
            resultCode: ResultCode(rawValue: step), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
      }
      sqlite3_reset(f)
      let byCheck = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { (check: $0.key, count: $0.value) }
      return (tally, byCheck)
    }
  }
}
