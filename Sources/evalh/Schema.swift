import ArgumentParser
import EvalhCore

struct SchemaCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schema",
    abstract: "Print the JSON Schema of the suite file, for editors that complete and check YAML as you type.")

  func run() throws {
    StandardStream.output.write(SuiteSchema.document.prettyText + "\n")
  }
}

extension SchemaCommand: HasExamples {
  static let examples = [
    ("evalh schema > suite.schema.json", "the schema beside a suite, for a YAML language server"),
    ("evalh schema | python3 -m json.tool > /dev/null", "it is plain JSON"),
  ]
}
