import ArgumentParser
import EvalhCore
import EvalhRunner
import EvalhStore
import Foundation

@main
struct Evalh: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evalh",
    abstract: "Runs AI-agent task suites many times and reports how reliable the agent really is.",
    version: Runner.version,
    subcommands: [
      Init.self, Run.self, Validate.self, SchemaCommand.self, Runs.self, Show.self, Report.self, Export.self,
      Compare.self, Merge.self,
      MCPStdio.self,
    ])

  /// Maps failures to cli.md's exit codes: usage errors are 2 (ArgumentParser says 64).
  static func main() async {
    if let help = HelpExamples.message(for: Array(CommandLine.arguments.dropFirst())) {
      StandardStream.output.write(help + "\n")
      return
    }
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let failure as Failure {
      StandardStream.error.write("\(failure.verbatim ? "" : "error: ")\(failure.message)\n")
      Foundation.exit(failure.code)
    } catch {
      if exitCode(for: error) == .validationFailure {
        StandardStream.error.write((fullMessage(for: error) + "\n"))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }
}
