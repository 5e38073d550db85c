import Foundation
import Testing

/// What a newcomer's shell and `--help` offer: examples that run as written, completions of files and values.
@Suite struct HelpTests {
  static let subcommands = [
    "init", "run", "validate", "schema", "runs", "show", "report", "export", "compare", "merge", "mcp-stdio",
  ]

  @Test func everySubcommandsHelpEndsWithExamplesThatUseRealFlags() async throws {
    let box = Sandbox()
    for sub in Self.subcommands {
      let help = try await box.evalh([sub, "--help"])
      #expect(help.code == 0)
      let parts = help.stdout.components(separatedBy: "\nEXAMPLES:\n")
      #expect(parts.count == 2, "evalh \(sub) --help has no examples")
      guard parts.count == 2 else { continue }
      let flags = Set(parts[0].split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }))
      let commands = parts[1].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
        !$0.isEmpty && !$0.hasPrefix("#")
      }
      #expect(commands.count >= 2 && commands.count <= 3, "evalh \(sub): \(commands.count) examples")
      for command in commands {
        #expect(command.contains("evalh \(sub)"), "\(command)")
        for flag in command.split(separator: " ") where flag.hasPrefix("--") {
          #expect(flags.contains(flag), "evalh \(sub) --help: \(flag) in an example is not a flag")
        }
      }
    }
    // The run references that take label:NAME say so.
    for sub in ["report", "show", "export", "compare"] {
      #expect(try await box.evalh([sub, "--help"]).stdout.contains("label:NAME"), "\(sub)")
    }
    // Help of the root is ArgumentParser's own.
    #expect(try await box.evalh(["--help"]).stdout.contains("SUBCOMMANDS:"))
  }

  @Test func completionsOfferSuitesDatabasesAndKnownValues() async throws {
    let box = Sandbox()
    let bash = try await box.evalh(["--generate-completion-script", "bash"]).stdout
    #expect(bash.contains("yaml") && bash.contains("sqlite"))
    let zsh = try await box.evalh(["--generate-completion-script", "zsh"]).stdout
    for value in ["success_rate=", "clear_score=", "pass_hat_k", "markdown", "junit"] {
      #expect(zsh.contains(value), "zsh completion lacks \(value)")
    }
  }
}
