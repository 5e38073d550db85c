import Foundation
import Testing

@testable import EvalhCore

/// Suites, schemas and files a hostile or careless author writes: each is an exit-2 error at its
/// file:line:column, or is read as meant (issue 14: 6, 12, 14, 15, 20, 21, 22, 23).
@Suite struct HostileSuiteTests {
  func suite(_ tasks: String, agents: String = "agent: { subprocess: { command: [/bin/cat] } }") -> String {
    """
    name: hostile
    \(agents)
    tasks:
    \(tasks)
    """
  }

  /// Counts that do not fit in a count (2^63 − 1 items) are refused by validate, not trapped on by run.
  @Test func schemaCountsBeyondRangeAreRefused() {
    let box = SuiteFolder()
    let errors = box.errors(
      suite("  - { id: a, input: x, expect: [{ json_schema: { type: array, minItems: 9223372036854775807 } }] }"))
    #expect(errors.contains { $0.contains("'minItems' must be a whole number") }, "\(errors)")
  }

  /// Not-a-schema in every shape: plain text and /etc/passwd-like files, wrong keyword types,
  /// multipleOf 0, dangling and cyclic $refs; each is an error with its position.
  @Test func invalidSchemasAreErrors() {
    let box = SuiteFolder()
    box.write("schemas/notes.json", "remember to buy milk\n")
    box.write("schemas/passwd.json", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    let cases: [(String, String)] = [
      ("json_schema: schemas/notes.json", "a schema must be an object or a boolean"),
      ("json_schema: schemas/passwd.json", "a schema must be an object or a boolean"),
      ("json_schema: { type: 5 }", "'type' must be one of"),
      ("json_schema: { required: x }", "'required' must be a list"),
      ("json_schema: { minimum: abc }", "'minimum' must be a number"),
      ("json_schema: { multipleOf: 0 }", "'multipleOf' must be a number greater than 0"),
      ("json_schema: { $ref: '#/$defs/missing' }", "points nowhere"),
      ("json_schema: { $ref: '#' }", "$ref cycle"),
      (
        "json_schema: { $defs: { a: { $ref: '#/$defs/b' }, b: { allOf: [{ $ref: '#/$defs/a' }] } }, $ref: '#/$defs/a' }",
        "$ref cycle"
      ),
    ]
    for (grader, expected) in cases {
      let errors = box.errors(suite("  - id: a\n    input: x\n    expect:\n      - \(grader)"))
      #expect(errors.contains { $0.contains(expected) && $0.hasPrefix("suite.yaml:7:") }, "\(grader): \(errors)")
    }
  }

  /// Recursive schemas that descend into the value are not cycles; every schema of the official
  /// test suite that evalh supports passes the well-formedness check (no false alarms).
  @Test func validRecursiveSchemasAreAccepted() throws {
    let tree = try #require(
      JSONValue.parse(
        ##"{"$defs":{"node":{"type":"object","properties":{"next":{"$ref":"#/$defs/node"}}}},"$ref":"#/$defs/node"}"##))
    #expect(JSONSchema.problems(in: tree).isEmpty)
    let folder = fixtures + "/JSON-Schema-Test-Suite"
    for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".json") {
      for group in JSONValue.parse(try #require(FileManager.default.contents(atPath: "\(folder)/\(file)")))?.arrayValue
        ?? []
      {
        guard let schema = group["schema"], JSONSchema.unsupportedKeywords(in: schema).isEmpty else { continue }
        // A list under `items` is the pre-2020 tuple form (prefixItems now): reported, on purpose.
        if schema["items"]?.arrayValue != nil { continue }
        #expect(JSONSchema.problems(in: schema).isEmpty, "\(file): \(group["description"]?.stringValue ?? "")")
      }
    }
  }

  /// A fixture folder holding a FIFO is refused with the path (copying it would block forever).
  @Test func aFixtureWithAFIFOIsRefused() {
    let box = SuiteFolder()
    #expect(mkfifo(box.path + "/fixtures/orders/pipe", 0o644) == 0)
    let errors = box.errors(suite("  - { id: a, input: x, fixture: fixtures/orders }"))
    #expect(errors.contains { $0.contains("'fixtures/orders/pipe'") && $0.hasPrefix("suite.yaml:4:") }, "\(errors)")
  }

  /// Names that climb out of a folder, hide in it or act on a terminal are refused.
  @Test func agentNamesAndTaskIDsAreNames() {
    let box = SuiteFolder()
    for name in ["../victim", "../../../x", "..", ".", "a/b", "bell\u{7}", "rtl\u{202E}x"] {
      let errors = box.errors(
        suite("  - { id: a, input: x }", agents: "agents:\n  \"\(name)\": { subprocess: { command: [/bin/cat] } }"))
      // YAML itself refuses C0 controls in a key; evalh refuses the rest as names.
      #expect(
        errors.contains {
          ($0.contains("agent name") || $0.contains("control characters")) && $0.hasPrefix("suite.yaml:3:")
        },
        "\(name): \(errors)")
      #expect(!errors.joined().contains("\u{7}") && !errors.joined().contains("\u{202E}"))
    }
    for id in ["..", "."] {
      let errors = box.errors(suite("  - { id: '\(id)', input: x }"))
      #expect(errors.contains { $0.contains("is not a name") }, "\(id): \(errors)")
    }
    #expect(Names.runIDProblem("") != nil && Names.runIDProblem("latest") != nil)
    #expect(Names.runIDProblem("label:x") != nil && Names.runIDProblem("../../x") != nil)
    #expect(Names.runIDProblem("r-20261201-abc") == nil && Names.problem("gpt 4o mini", "agent name") == nil)
    #expect(Names.pathComponent("../x") != "../x" && !Names.pathComponent("../x").contains("/"))
  }

  /// CRLF line ends in a JSONL tasks file, and byte-order marks on the suite and the tasks file.
  @Test func crlfAndByteOrderMarksAreRead() throws {
    let box = SuiteFolder()
    box.write("cases.jsonl", "\u{FEFF}{\"id\": \"a\", \"input\": \"x\"}\r\n{\"id\": \"b\", \"input\": \"y\"}\r\n")
    box.write(
      "suite.yaml", "\u{FEFF}name: bom\nagent: { subprocess: { command: [/bin/cat] } }\ntasks_file: cases.jsonl\n")
    let loaded = try SuiteLoader.load(path: box.path + "/suite.yaml", environment: ["PATH": "/usr/bin:/bin"])
    #expect(loaded.name == "bom" && loaded.tasks.map(\.id) == ["a", "b"])
  }

  /// A control character on line 10 is reported there once, shown as an escape, not echoed raw.
  @Test func aControlCharacterIsReportedWhereItIs() {
    var lines = (1...9).map { "# line \($0)" }
    lines.append("name: bad\u{1B}[31mred")
    let errors = diagnostics(lines.joined(separator: "\n") + "\n")
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.hasPrefix("suite.yaml:10:") == true, "\(errors)")
    #expect(errors.first?.contains("\\e") == true && errors.first?.contains("\u{1B}") == false, "\(errors)")
  }

  /// Durations beyond a year are refused (they would become deadlines no clock can hold).
  @Test func absurdDurationsAreRefused() {
    let errors = diagnostics(
      "name: s\ntimeout: 1e300s\nagent: { subprocess: { command: [/bin/cat] } }\ntasks: [{ id: a, input: x }]\n")
    #expect(errors.contains { $0.contains("at most 365 days") }, "\(errors)")
  }

  /// Bidirectional overrides and isolates are written out like other hidden characters.
  @Test func bidiOverridesAreMadeVisible() {
    #expect(VisibleText.of("abc\u{202E}def\u{2066}") == "abc\\u{202e}def\\u{2066}")
    #expect(VisibleText.of("plain text") == "plain text")
  }

  /// A catastrophic regular expression stops at the grading budget, which is then spent.
  @Test func aCatastrophicRegexStopsAtItsBudget() throws {
    let pattern = try Pattern("(x+x+)+y")
    let budget = GradingBudget(seconds: 0.3, interruption: nil)
    let started = Date()
    let matched = GradingBudget.$current.withValue(budget) { pattern.matches(String(repeating: "x", count: 3000)) }
    #expect(!matched && budget.isSpent)
    #expect(Date().timeIntervalSince(started) < 30)
    // Without a budget, ordinary matches are as before.
    #expect(try Pattern("b+").matches("abbbc"))
  }
}

/// A secret the output cut split in two is redacted at the cut edge too.
@Suite struct EdgeRedactionTests {
  @Test func aSecretCutAtEitherEdgeIsRedacted() {
    let redactor = Redactor(secrets: ["KEY": "sk-live-123456"])
    #expect(redactor.redact("token sk-live-12", cutBefore: false, cutAfter: true) == "token [redacted:KEY]")
    #expect(redactor.redact("3456 and more", cutBefore: true, cutAfter: false) == "[redacted:KEY] and more")
    #expect(
      redactor.redact("a sk-live-123456 b sk-l", cutBefore: false, cutAfter: true)
        == "a [redacted:KEY] b [redacted:KEY]")
    // Uncut text keeps a prefix that happens to end it.
    #expect(redactor.redact("ends with sk", cutBefore: false, cutAfter: false) == "ends with sk")
  }
}

/// Boundary numbers through every numeric field of a suite: each is read or refused with its
/// position, never trapped on (±2^63, 1e308, -0, NaN, ±inf, 30-digit integers).
@Suite struct BoundaryNumberTests {
  static let values = [
    "9223372036854775808", "-9223372036854775809", "9223372036854775807", "1e308", "-1e308", "-0", ".nan", ".inf",
    "-.inf", "123456789012345678901234567890", "'123456789012345678901234567890'",
  ]

  @Test(arguments: values) func everyNumericFieldTakesBoundaryValues(_ value: String) {
    let box = SuiteFolder()
    let fields = [
      "trials: \(value)\n", "concurrency: \(value)\n", "timeout: \(value)\n",
      "slo: { latency: \(value), cost: \(value) }\n",
      "clear: { weights: { cost: \(value) } }\n",
    ]
    for field in fields {
      let errors = box.errors(
        "name: b\n\(field)agent: { subprocess: { command: [/bin/cat] } }\ntasks: [{ id: a, input: x }]\n")
      if [".nan", ".inf", "-.inf", "1e308", "123456789012345678901234567890"].contains(value),
        field.hasPrefix("timeout")
      {
        #expect(!errors.isEmpty, "\(field) was accepted")
      }
      for error in errors { #expect(error.hasPrefix("suite.yaml:"), "\(error)") }
    }
    let checks = [
      "max_cost: \(value)", "max_tokens: \(value)", "max_steps: \(value)", "max_latency: \(value)",
      "json_schema: { maxLength: \(value) }", "json_schema: { minimum: \(value) }",
    ]
    for check in checks {
      let errors = box.errors(
        "name: b\nagent: { subprocess: { command: [/bin/cat] } }\ntasks:\n  - id: a\n    input: x\n    assure: [{ \(check) }]\n"
      )
      if [".nan", ".inf", "-.inf"].contains(value) { #expect(!errors.isEmpty, "\(check) was accepted") }
      for error in errors { #expect(error.hasPrefix("suite.yaml:"), "\(error)") }
    }
  }
}
