import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhRunner
import EvalhStore
import Foundation

/// A failure the user should read, with its exit code; `main` prints it and exits.
struct Failure: Error {
  let message: String
  let code: Int32
  /// Printed as it is, not as "error: …" (an interrupted run, failed gates).
  let verbatim: Bool

  init(_ message: String, code: Int32) {
    self.message = message
    self.code = code
    verbatim = false
  }

  init(verbatim message: String, code: Int32) {
    self.message = message
    self.code = code
    verbatim = true
  }

  init(_ error: StoreError) { self.init(error.errorDescription ?? "\(error)", code: error.exitCode) }
  init(_ error: RunError) { self.init(error.errorDescription ?? "\(error)", code: error.exitCode) }
}

/// `--db`, shared by every command that touches the results database.
struct DatabaseOptions: ParsableArguments {
  @Option(
    name: .customLong("db"), help: "Results database (default: $EVALH_DB or results/evalh.sqlite).",
    completion: .file(extensions: ["sqlite", "db"]))
  var path: String?

  var resolved: String { path ?? ProcessInfo.processInfo.environment["EVALH_DB"] ?? "results/evalh.sqlite" }

  /// Opens the store; commands that only read never create it.
  func open(create: Bool) throws -> ResultStore {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder), isFolder.boolValue {
      throw Failure(
        "results database \(resolved) is a folder: name the database file, such as \(resolved)/evalh.sqlite", code: 3)
    }
    do {
      return try ResultStore(path: resolved, create: create)
    } catch {
      throw Failure(error)
    }
  }
}

/// Writes to stdout without Foundation's buffering surprises.
func emit(_ text: String) {
  StandardStream.output.write(text)
}

/// Whether stdout/stderr is a terminal, and colour is welcome.
enum Terminal {
  static var stdoutIsTTY: Bool { isatty(1) == 1 }
  static var stderrIsTTY: Bool { isatty(2) == 1 }
  static var colorAllowed: Bool { colorAllowed(environment: ProcessInfo.processInfo.environment, tty: stdoutIsTTY) }

  /// no-color.org: a non-empty `NO_COLOR` turns colour off (an empty one does not); `FORCE_COLOR`
  /// or `CLICOLOR_FORCE` (not `0`) turn it on even when stdout is not a terminal.
  static func colorAllowed(environment: [String: String], tty: Bool) -> Bool {
    func set(_ name: String) -> Bool { environment[name].map { !$0.isEmpty && $0 != "0" } ?? false }
    if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
    return set("FORCE_COLOR") || set("CLICOLOR_FORCE") || tty
  }
}

/// Loads a suite or fails with every diagnostic (exit 2).
func loadSuite(_ path: String) throws -> Suite {
  do {
    return try SuiteLoader.load(path: path)
  } catch {
    let count = error.diagnostics.count
    throw Failure(
      "\(path) is not a valid suite (\(count) error\(count == 1 ? "" : "s")):\n\(error.description)", code: 2)
  }
}

/// Loads the report of a run reference, failing with cli.md's exit codes.
func loadReport(
  _ reference: String, from store: ResultStore, withIntervals: Bool = true, violationsByCheck: Bool = true
)
  throws -> RunReport
{
  do {
    return try RunReport.load(
      try store.resolve(reference), from: store, withIntervals: withIntervals,
      violationsByCheck: violationsByCheck)
  } catch {
    throw Failure(error)
  }
}

/// The statuses of every trial, for the HTML trial grid.
func trialGrid(_ report: RunReport, _ store: ResultStore) throws -> TrialGrid {
  do {
    return try TrialGrid.load(report, from: store)
  } catch {
    throw Failure(error)
  }
}

/// Writes to `path`, or to stdout when nil.
/// A file is written whole to a temporary file beside it, then renamed into place: an interrupted
/// write leaves the old file. A SQLite file (the results database above all) is never overwritten.
func write(_ text: String, to path: String?) throws {
  guard let path else {
    emit(text)
    return
  }
  var info = stat()
  if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
    // /dev/stdout, a pipe: written as it is, nothing to rename.
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw Failure("cannot write \(path): \(String(cString: strerror(errno)))", code: 2)
    }
    defer { try? handle.close() }
    do { try handle.write(contentsOf: Data(text.utf8)) } catch {
      throw Failure("cannot write \(path): \(error.localizedDescription)", code: 2)
    }
    return
  }
  if isSQLiteFile(path) {
    throw Failure(
      "refusing to write to \(path): it is a SQLite database (a results database?); choose another --output", code: 2)
  }
  let temporary = "\(path).evalh-\(getpid()).tmp"
  do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  } catch {
    unlink(temporary)
    throw Failure("cannot write \(path): \(error.localizedDescription)", code: 2)
  }
}

/// Whether `path` is a file that begins with SQLite's header.
func isSQLiteFile(_ path: String) -> Bool {
  guard let handle = FileHandle(forReadingAtPath: path) else { return false }
  defer { try? handle.close() }
  let head = (try? handle.read(upToCount: 16)) ?? Data()
  return head == Data("SQLite format 3\0".utf8)
}

/// Quotes a word for a POSIX shell when it needs it.
func shellQuoted(_ word: String) -> String {
  let safe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:@+,")
  if !word.isEmpty, word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
  return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
