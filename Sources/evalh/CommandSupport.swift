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
  @Option(name: .customLong("db"), help: "Results database (default: $EVALH_DB or results/evalh.sqlite).")
  var path: String?

  var resolved: String { path ?? ProcessInfo.processInfo.environment["EVALH_DB"] ?? "results/evalh.sqlite" }

  /// Opens the store; commands that only read never create it.
  func open(create: Bool) throws -> ResultStore {
    do {
      return try ResultStore(path: resolved, create: create)
    } catch {
      throw Failure(error)
    }
  }
}

/// Writes to stdout without Foundation's buffering surprises.
func emit(_ text: String) {
  FileHandle.standardOutput.write(Data(text.utf8))
}

/// Whether stdout/stderr is a terminal, and colour is welcome.
enum Terminal {
  static var stdoutIsTTY: Bool { isatty(1) == 1 }
  static var stderrIsTTY: Bool { isatty(2) == 1 }
  static var colorAllowed: Bool { stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
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
  _ reference: String, from store: ResultStore, bootstrapResamples: Int = 2000, violationsByCheck: Bool = true
)
  throws -> RunReport
{
  do {
    return try RunReport.load(
      try store.resolve(reference), from: store, bootstrapResamples: bootstrapResamples,
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
func write(_ text: String, to path: String?) throws {
  guard let path else {
    emit(text)
    return
  }
  do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  } catch {
    throw Failure("cannot write \(path): \(error.localizedDescription)", code: 2)
  }
}

/// Quotes a word for a POSIX shell when it needs it.
func shellQuoted(_ word: String) -> String {
  let safe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:@+,")
  if !word.isEmpty, word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
  return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
