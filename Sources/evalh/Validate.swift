import ArgumentParser
import EvalhCore
import Foundation

struct Validate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a suite without running anything; print every error with file:line:column.")

  @Argument(help: "The suite file.", completion: .file(extensions: ["yaml", "yml"]))
  var suite: String

  func run() async throws {
    let loaded = try loadSuite(suite)
    let conditions = loaded.conditions.count > 1 ? " × \(loaded.conditions.count) conditions" : ""
    emit("ok: \(loaded.tasks.count) tasks × \(loaded.evaluatedAgents.count) agents\(conditions)\n")
  }
}
