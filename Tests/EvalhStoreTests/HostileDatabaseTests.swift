import EvalhCore
import Foundation
import GRDB
import Testing

@testable import EvalhStore

/// Databases from elsewhere are data: a mistyped cell is named, never trapped on; a merge that
/// cannot be done whole changes nothing (issue 14: 9, 17).
@Suite struct HostileDatabaseTests {
  func store(_ db: TempDB) throws -> ResultStore {
    let store = try ResultStore(path: db.path, create: true)
    try store.createRun(sampleRun("r-1"), tasks: [])
    try store.insertNow(sampleTrial("r-1", task: "t1"))
    return store
  }

  func corrupt(_ path: String, _ sql: String) throws {
    var configuration = Configuration()
    configuration.foreignKeysEnabled = false
    try DatabaseQueue(path: path, configuration: configuration).write { try $0.execute(sql: sql) }
  }

  @Test func aMistypedRunCellIsNamed() throws {
    let db = TempDB()
    let store = try store(db)
    try corrupt(db.path, "UPDATE runs SET seed = 'zz'")
    #expect {
      try store.runs()
    } throws: { error in
      guard let e = error as? StoreError, case .database(_, let message) = e else { return false }
      return message.contains("runs.seed of run r-1") && e.exitCode == 3
    }
  }

  @Test func aMistypedTrialCellIsNamedByEveryReader() throws {
    let db = TempDB()
    let store = try store(db)
    try corrupt(db.path, "UPDATE trials SET latency_ms = 'abc'")
    #expect {
      try store.trials(runID: "r-1")
    } throws: { error in
      (error as? StoreError)?.errorDescription?.contains("trials.latency_ms of trial a/t1#1") == true
    }
    // The scan reports read would take 'abc' as 0: it names the cell instead.
    #expect {
      try store.trialTally(runID: "r-1", agent: "a", slaLimitMs: nil)
    } throws: { error in
      (error as? StoreError)?.errorDescription?.contains("trials.latency_ms of trial a/t1#1 is not a number") == true
    }
    try corrupt(db.path, "UPDATE grades SET trial = 'x'; UPDATE trials SET latency_ms = 1, trial = 'x'")
    #expect(throws: StoreError.self) { try store.recordedKeys(runID: "r-1") }
  }

  /// The second input conflicts: the first input's trials are not in the target either.
  @Test func mergeIsAllOrNothing() throws {
    let target = TempDB()
    let first = TempDB()
    let second = TempDB()
    let into = try ResultStore(path: target.path, create: true)
    let a = try ResultStore(path: first.path, create: true)
    try a.createRun(sampleRun("r-a"), tasks: [])
    try a.insertNow(sampleTrial("r-a", task: "t1"))
    let b = try ResultStore(path: second.path, create: true)
    try b.createRun(sampleRun("r-a"), tasks: [])
    try b.insertNow(sampleTrial("r-a", task: "t1", status: .fail))
    #expect(throws: StoreError.self) { try into.merge(from: [first.path, second.path]) }
    #expect(try into.runs().isEmpty)
    #expect(try into.trials(runID: "r-a").isEmpty)

    // A newer schema in the second input: refused before anything is written, exit 3.
    try corrupt(second.path, "PRAGMA user_version = 99")
    #expect {
      try into.merge(from: [first.path, second.path])
    } throws: { error in
      (error as? StoreError)?.exitCode == 3
    }
    #expect(try into.runs().isEmpty)
    // Whole inputs merge as before.
    #expect(try into.merge(from: [first.path]).first?.trialsAdded == 1)
  }
}
