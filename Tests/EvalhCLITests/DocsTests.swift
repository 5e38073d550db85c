import Foundation
import Testing
import Yams

/// The recipes in the docs use only what evalh has, and their YAML parses.
@Suite struct DocsTests {
  static func blocks(_ markdown: String, language: String) -> [String] {
    var out: [String] = []
    var current: [String]?
    for line in markdown.components(separatedBy: "\n") {
      if current == nil, line.trimmingCharacters(in: .whitespaces) == "```\(language)" {
        current = []
      } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
        out.append(current!.joined(separator: "\n"))
        current = nil
      } else if current != nil {
        current!.append(line)
      }
    }
    return out
  }

  @Test func ciRecipesParseAndUseRealCommands() async throws {
    let box = Sandbox()
    var checked = 0
    for doc in [
      "docs/ci.md", "docs/reading-the-report.md", "docs/suite-format.md", "docs/http-agents.md", "docs/robustness.md",
      "docs/tools.md",
      "README.md",
    ] {
      let text = try String(contentsOfFile: packageRoot + "/" + doc, encoding: .utf8)
      for yaml in Self.blocks(text, language: "yaml") {
        var documents = 0
        var sequence = try Yams.compose_all(yaml: yaml)
        while let node = sequence.next() {
          documents += 1
          #expect(node.mapping != nil || node.sequence != nil || node.scalar != nil, "\(doc): an empty YAML document")
        }
        #expect(sequence.error == nil, "\(doc): \(String(describing: sequence.error))\n\(yaml.prefix(200))")
        #expect(documents >= 1, "\(doc): a YAML block without a document:\n\(yaml.prefix(200))")
        checked += 1
      }
      // Every `evalh SUBCOMMAND --flag` in the doc names a real subcommand and real flags.
      let joined = text.replacingOccurrences(of: "\\\n", with: " ")
      let pattern = try NSRegularExpression(
        pattern: #"evalh (run|validate|runs|show|report|export|compare|merge|mcp-stdio)\b([^\n`|&;]*)"#)
      for match in pattern.matches(in: joined, range: NSRange(joined.startIndex..., in: joined)) {
        guard let sub = Range(match.range(at: 1), in: joined), let rest = Range(match.range(at: 2), in: joined) else {
          continue
        }
        let help = try await box.evalh([String(joined[sub]), "--help"]).stdout
        for flag in joined[rest].split(separator: " ").filter({ $0.hasPrefix("--") }) {
          let name = flag.split(separator: "=").first.map(String.init) ?? String(flag)
          #expect(help.contains(name), "\(doc): evalh \(joined[sub]) has no \(name)")
        }
      }
    }
    #expect(checked >= 10)
  }

  /// The example workflow is a real file that runs as docs/ci.md says: it parses, its evalh commands
  /// name real flags, its uploads run whatever happened, and its Swift is the one evalh is tested with.
  @Test func theNightlyWorkflowWorksAsWritten() async throws {
    let box = Sandbox()
    let text = try String(contentsOfFile: packageRoot + "/docs/examples/nightly-eval.yml", encoding: .utf8)
    let ci = try String(contentsOfFile: packageRoot + "/docs/ci.md", encoding: .utf8)
    let shown = text.hasSuffix("\n") ? String(text.dropLast()) : text
    let sameInTheDocs = Self.blocks(ci, language: "yaml").contains(shown)
    #expect(sameInTheDocs, "docs/ci.md shows another workflow than the file")
    let workflow = try #require(try Yams.load(yaml: text) as? [String: Any])
    let permissions = try #require(workflow["permissions"] as? [String: Any])
    #expect(permissions["checks"] as? String == "write" && permissions["actions"] as? String == "read")
    let swiftVersion = try String(contentsOfFile: packageRoot + "/.swift-version", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    // The version file names the toolchain these tests run on.
    let installed = await runTool(["swift", "--version"])
    #expect(installed.stdout.contains("Swift version \(swiftVersion) "), "\(installed.stdout)")
    let jobs = try #require(workflow["jobs"] as? [String: [String: Any]])
    #expect(jobs.count == 2)
    var evalhCommands = 0
    for (name, job) in jobs {
      #expect(job["container"] as? String == "swift:\(swiftVersion)", "job \(name)")
      for step in job["steps"] as? [[String: Any]] ?? [] {
        if (step["uses"] as? String)?.hasPrefix("actions/upload-artifact") == true {
          #expect(step["if"] as? String == "always()", "job \(name): an upload that a failure skips")
        }
        guard let run = step["run"] as? String else { continue }
        let lines = run.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
        for line in lines {
          guard let at = line.range(of: ".build/debug/evalh ") else { continue }
          let words = line[at.upperBound...].split(separator: " ")
          guard let sub = words.first.map(String.init) else { continue }
          let help = try await box.evalh([sub, "--help"])
          #expect(help.code == 0, "no evalh \(sub)")
          let flags = Set(help.stdout.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }))
          for flag in words.dropFirst() where flag.hasPrefix("--") {
            #expect(flags.contains(flag), "evalh \(sub) has no \(flag)")
          }
          evalhCommands += 1
        }
      }
    }
    #expect(evalhCommands >= 7)
  }
}
