import ArgumentParser

/// A subcommand whose `--help` ends with examples (ArgumentParser has no place for them after the
/// options, so `Evalh.main` appends them).
protocol HasExamples {
  /// Two or three command lines, each with a short comment.
  static var examples: [(String, String)] { get }
}

enum HelpExamples {
  /// The help of the subcommand `arguments` ask help for, with its examples at the end; nil when
  /// they ask for something else (then ArgumentParser answers as usual).
  static func message(for arguments: [String]) -> String? {
    guard let name = arguments.first, arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }),
      let command = Evalh.configuration.subcommands.first(where: { $0._commandName == name }),
      let examples = (command as? HasExamples.Type)?.examples
    else { return nil }
    var text = String(Evalh.helpMessage(for: command).reversed().drop(while: \.isWhitespace).reversed())
    text += "\n\nEXAMPLES:\n"
    for (line, comment) in examples { text += "  # \(comment)\n  \(line)\n\n" }
    return String(text.dropLast())
  }
}

extension Run: HasExamples {
  static let examples = [
    ("evalh run suites/example.yaml --trials 8", "every task 8 times, the summary on stdout"),
    (
      "evalh run suite.yaml --label nightly --seed 42 --fail-under sustained_success=0.8",
      "a nightly gate: exit 1 when sustained success falls below 80%"
    ),
    (
      "evalh run suite.yaml --shard auto --shards 4 --run-id nightly-7", "one shard of four in a Kubernetes Indexed Job"
    ),
  ]
}

extension Validate: HasExamples {
  static let examples = [
    ("evalh validate suite.yaml", "every problem with file:line:column, nothing run"),
    ("evalh validate suites/tools.yaml", "tools, MCP servers and graders checked without starting any"),
  ]
}

extension Runs: HasExamples {
  static let examples = [
    ("evalh runs", "the latest runs, newest first"),
    ("evalh runs --suite support-bot --limit 5 --json", "five runs of one suite, for scripts"),
  ]
}

extension Show: HasExamples {
  static let examples = [
    ("evalh show", "the tasks × trials grid of the latest run"),
    ("evalh show label:nightly --task refund --trial 3", "one trial of the latest nightly in full"),
  ]
}

extension Report: HasExamples {
  static let examples = [
    ("evalh report latest --format markdown >> \"$GITHUB_STEP_SUMMARY\"", "a CI step summary"),
    ("evalh report label:nightly --format html --output report.html", "the latest nightly as one offline page"),
    ("evalh report latest --format junit --output junit.xml", "a CI test tab"),
  ]
}

extension Export: HasExamples {
  static let examples = [
    ("evalh export latest --csv out/", "summary, tasks, trials, pass^k, tool calls and robustness as CSV"),
    ("evalh export label:nightly --xlsx nightly.xlsx", "the latest nightly as a workbook for leadership"),
    ("evalh export latest --otlp http://localhost:4318", "one trace per trial to an OpenTelemetry receiver"),
  ]
}

extension Compare: HasExamples {
  static let examples = [
    ("evalh compare latest~1 latest", "the latest run against the one before it"),
    (
      "evalh compare label:nightly latest --base-db baseline.sqlite --format markdown",
      "tonight against last night's database"
    ),
    ("evalh compare r-base r-new --metric success_rate --alpha 0.01", "one gated metric, stricter"),
  ]
}

extension Merge: HasExamples {
  static let examples = [
    ("evalh merge --into nightly.sqlite shards/*/shard.sqlite", "the shards of one run into one database"),
    ("evalh merge --into all.sqlite a.sqlite b.sqlite", "two machines' runs side by side"),
  ]
}

extension MCPStdio: HasExamples {
  static let examples = [
    ("evalh mcp-stdio", "inside an agent: the trial's tools over stdio (reads EVALH_MCP_URL)"),
    (
      "EVALH_MCP_URL=http://127.0.0.1:PORT/t/TOKEN/mcp evalh mcp-stdio",
      "by hand, against a trial's endpoint"
    ),
  ]
}
