import EvalhCore
import Foundation
import GRDB
import GRDBSQLite

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
      return .database(
        path: path, message: "\(e.message ?? "\(e.resultCode)") (SQLite \(e.extendedResultCode.rawValue))")
    }
    return .database(path: path, message: error.localizedDescription)
  }

  func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
    do { return try pool.read(body) } catch { throw ResultStore.wrap(error, path: path) }
  }

  func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
    do { return try pool.write(body) } catch { throw ResultStore.wrap(error, path: path) }
  }
}
