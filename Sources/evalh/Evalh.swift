import ArgumentParser
import EvalhRunner
import EvalhStore
import Foundation

@main
struct Evalh: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evalh",
    abstract: "Runs AI-agent task suites many times and reports how reliable the agent really is.",
    version: Runner.version,
    subcommands: [Run.self, Validate.self, Runs.self, Show.self, Report.self, Export.self, Compare.self, Merge.self])

  /// Maps failures to cli.md's exit codes: usage errors are 2 (ArgumentParser says 64).
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let failure as Failure {
      FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
      Foundation.exit(failure.code)
    } catch {
      if exitCode(for: error) == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }
}

/// A failure the user should read, with its exit code.
struct Failure: Error {
  let message: String
  let code: Int32

  init(_ message: String, code: Int32) {
    self.message = message
    self.code = code
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
