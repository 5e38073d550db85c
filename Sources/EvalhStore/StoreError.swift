import Foundation

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

  /// The message, naming the file or run.
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
