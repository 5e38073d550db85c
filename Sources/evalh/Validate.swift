import ArgumentParser
import EvalhCore
import Foundation

struct Validate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a suite without running anything; print every error with file:line:column.")

  @Argument(help: "The suite file.")
  var suite: String

  func run() async throws {
    let loaded = try loadSuite(suite)
    emit("ok: \(loaded.tasks.count) tasks × \(loaded.evaluatedAgents.count) agents\n")
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
