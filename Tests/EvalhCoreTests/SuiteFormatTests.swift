import Foundation
import Testing

@testable import EvalhCore

/// A folder holding a suite and the files it names.
final class SuiteFolder: Sendable {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "evalh-suite-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path + "/fixtures/orders", withIntermediateDirectories: true)
    try? FileManager.default.createDirectory(atPath: path + "/schemas", withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  func write(_ name: String, _ text: String) {
    FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(text.utf8))
  }

  func load(_ yaml: String, env: [String: String] = ["PATH": "/usr/bin:/bin"]) throws(SuiteErrors) -> Suite {
    write("suite.yaml", yaml)
    return try SuiteLoader.load(path: "\(path)/suite.yaml", environment: env)
  }

  func errors(_ yaml: String, env: [String: String] = ["PATH": "/usr/bin:/bin"]) -> [String] {
    do {
      _ = try load(yaml, env: env)
      return []
    } catch {
      // Paths vary per test run: show them relative to the folder.
      return error.diagnostics.map { $0.description.replacingOccurrences(of: path + "/", with: "") }
    }
  }
}

let head = """
  name: s
  agent:
    subprocess: { command: [sh] }

  """

@Suite struct SuiteFormatTests {
  @Test func sloClearAndDefaults() throws {
    let folder = SuiteFolder()
    let suite = try folder.load(
      head + """
        slo: { latency: 5s, cost: 0.05 }
        clear:
          weights: { cost: 0, latency: 1, efficacy: 2, assurance: 1, reliability: 4 }
        defaults:
          tags: [all]
          metadata: { tier: gold, region: eu }
          timeout: 9s
          trials: 3
          fixture: fixtures/orders
          expect: [{ contains: thanks }]
          assure: [{ no_pii: [email, us_ssn] }]
        tasks:
          - id: a
            input: x
            tags: [own]
            metadata: { region: us }
            timeout: 2s
            expect: [{ contains: x }]
          - { id: b, input: y }
        """)
    #expect(suite.targets.slo == SLO(latency: 5, cost: 0.05))
    #expect(suite.targets.weights.cost == 0 && suite.targets.weights.reliability == 4)
    let a = suite.tasks[0]
    #expect(a.tags == ["own", "all"])
    #expect(a.metadata == ["tier": .string("gold"), "region": .string("us")])
    #expect(a.timeout == 2 && a.trials == 3)
    #expect(a.fixture == folder.path + "/fixtures/orders")
    #expect(a.expect.map(\.kind.keyword) == ["contains", "contains"])
    #expect(a.assure.map(\.kind.keyword) == ["no_pii"])
    #expect(suite.tasks[1].timeout == 9 && suite.tasks[1].tags == ["all"])
  }

  @Test func everyGraderAndCheckLoads() throws {
    let folder = SuiteFolder()
    folder.write(
      "schemas/refund.json", #"{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string"}}}"#)
    folder.write("schemas/out.yaml", "type: object\nrequired: [status]\n")
    let suite = try folder.load(
      head + """
        tasks:
          - id: a
            input: x
            expect:
              - json_schema: schemas/out.yaml
              - json_schema: { type: object }
              - tool_called: { name: lookup_order, arguments: { order_id: "1234" } }
              - tool_sequence: [lookup_order, issue_refund]
              - command: [sh, -c, "exit 0"]
            assure:
              - no_pii: [email, us_ssn, credit_card, phone, ipv4]
              - json_schema: { type: object }
              - tools: { allow: [lookup_order, issue_refund], deny: [delete_account], max_calls: 10 }
              - tool_schemas: { issue_refund: schemas/refund.json, lookup_order: { type: object } }
              - max_steps: 12
              - max_cost: 0.05
              - max_latency: 20s
              - max_tokens: 4000
              - command: { run: [sh, -c, "exit 0"], timeout: 5s }
                name: policy
        """)
    let t = suite.tasks[0]
    #expect(t.expect.map(\.kind.keyword) == ["json_schema", "json_schema", "tool_called", "tool_sequence", "command"])
    #expect(
      t.assure.map(\.label) == [
        "no_pii", "json_schema", "tools", "tool_schemas", "max_steps", "max_cost", "max_latency", "max_tokens",
        "policy",
      ])
  }

  @Test func validationErrorsAreExactlyLocated() {
    let folder = SuiteFolder()
    folder.write("schemas/loose.json", #"{"type":"object","patternProperties":{"^x":{}}}"#)
    let errors = folder.errors(
      head + """
        tasks:
          - id: a
            input: x
            fixture: fixtures/missing
            expect:
              - json_schema: schemas/nope.json
              - json_schema: schemas/loose.json
              - tool_calld: { name: x }
              - command: [./graders/missing.sh]
            assure:
              - no_pii: [emial]
              - json_schema: { type: object, if: {} }
              - max_latency: soon
        """)
    #expect(
      errors == [
        "suite.yaml:7:14: fixture 'fixtures/missing' is not a folder",
        "suite.yaml:9:22: schema file 'schemas/nope.json' not found",
        "suite.yaml:10:22: schema 'schemas/loose.json' uses an unsupported keyword at /: patternProperties",
        "suite.yaml:11:9: unknown key 'tool_calld' in a grader (did you mean 'tool_called'?)",
        "suite.yaml:12:18: grader command './graders/missing.sh' not found or not executable",
        "suite.yaml:14:17: unknown PII kind 'emial' (kinds: email, us_ssn, credit_card, phone, ipv4); did you mean 'email'?",
        "suite.yaml:15:22: inline schema uses an unsupported keyword at /: if",
        "suite.yaml:16:22: max_latency must be a positive duration such as 250ms, 30s, 2m or a number of seconds",
      ])
  }

  @Test func duplicateKeyIsReportedAtItsOwnLine() {
    let folder = SuiteFolder()
    let errors = folder.errors(head + "tasks:\n  - id: a\n    input: x\n    tags: [a]\n    input: y\n")
    #expect(errors == ["suite.yaml:8:5: duplicate key 'input' (first at line 6)"], "\(errors)")
  }

  @Test func interpolationAndSecrets() throws {
    let folder = SuiteFolder()
    let yaml = """
      name: s
      agent:
        subprocess: { command: [sh], env: { API_KEY: "${API_KEY}", MODEL: "${MODEL:-small}" } }
      tasks:
        - id: a
          input: "token ${API_KEY} and $${LITERAL}"
      """
    let suite = try folder.load(yaml, env: ["PATH": "/usr/bin:/bin", "API_KEY": "sk-live-42"])
    guard case .subprocess(let config) = suite.agents[0].adapter else { return }
    #expect(config.env == ["API_KEY": "sk-live-42", "MODEL": "small"])
    #expect(suite.tasks[0].input == .string("token sk-live-42 and ${LITERAL}"))
    // Only values from the environment are secrets; the default is in the suite for all to read.
    #expect(suite.secrets == ["API_KEY": "sk-live-42"])
    let overridden = try folder.load(yaml, env: ["PATH": "/usr/bin:/bin", "API_KEY": "sk-live-42", "MODEL": "tuned-7"])
    #expect(overridden.secrets == ["API_KEY": "sk-live-42", "MODEL": "tuned-7"])
    // As in the shell, `:-` also stands in for an empty variable (a CI secret that is not set).
    let empty = try folder.load(yaml, env: ["PATH": "/usr/bin:/bin", "API_KEY": "sk-live-42", "MODEL": ""])
    guard case .subprocess(let emptyConfig) = empty.agents[0].adapter else { return }
    #expect(emptyConfig.env["MODEL"] == "small")
    // Without a default, an empty variable is the empty string it is.
    let blank = try folder.load(yaml, env: ["PATH": "/usr/bin:/bin", "API_KEY": ""])
    guard case .subprocess(let blankConfig) = blank.agents[0].adapter else { return }
    #expect(blankConfig.env["API_KEY"] == "")
    // The stored config keeps the ${VAR} form.
    #expect(suite.config.compactText.contains("${API_KEY}"))
    #expect(!suite.config.compactText.contains("sk-live-42"))
    let errors = folder.errors(yaml)
    #expect(
      errors == [
        "suite.yaml:3:48: environment variable 'API_KEY' is not set (write ${API_KEY:-default} to give a default)",
        "suite.yaml:6:12: environment variable 'API_KEY' is not set (write ${API_KEY:-default} to give a default)",
      ])
  }

  @Test func secretsAreNotPrintedInErrors() {
    let folder = SuiteFolder()
    let errors = folder.errors(
      "name: s\nagent:\n  subprocess: { command: [sh], cwd: \"${SECRET_DIR}\" }\ntasks: [{ id: a, input: x }]\n",
      env: ["PATH": "/usr/bin:/bin", "SECRET_DIR": "/hidden-42"])
    #expect(errors == ["suite.yaml:3:37: cwd '[redacted:SECRET_DIR]' is not a folder"])
  }

  @Test func tasksFromJSONLAndCSV() throws {
    let folder = SuiteFolder()
    folder.write(
      "cases.jsonl",
      """
      {"id": "j1", "input": {"q": "refund?"}, "tags": ["billing"], "expect": [{"contains": "refund"}]}

      {"id": "j2", "input": "hi", "assure": [{"no_pii": ["email"]}]}
      """)
    folder.write(
      "cases.csv",
      "id,input,tags,equals,contains,regex\r\nc1,\"Hello, \"\"world\"\"\",a;b,,Hello,\nc2,\"two\nlines\",,exact,,^t\n")
    let suite = try folder.load(head + "tasks_file: [cases.jsonl, cases.csv]\n")
    #expect(suite.tasks.map(\.id) == ["j1", "j2", "c1", "c2"])
    #expect(suite.tasks[0].input == .object(["q": .string("refund?")]) && suite.tasks[0].tags == ["billing"])
    #expect(suite.tasks[1].assure.map(\.kind.keyword) == ["no_pii"])
    #expect(suite.tasks[2].input == .string("Hello, \"world\"") && suite.tasks[2].tags == ["a", "b"])
    #expect(suite.tasks[2].expect.map(\.kind.keyword) == ["contains"])
    #expect(suite.tasks[3].input == .string("two\nlines"))
    #expect(suite.tasks[3].expect.map(\.kind.keyword) == ["equals", "regex"])
    // The resolved config holds the file's tasks, so a changed file changes the suite's hash.
    let before = suite.sha256
    folder.write("cases.csv", "id,input\nc1,changed\n")
    #expect(try folder.load(head + "tasks_file: [cases.jsonl, cases.csv]\n").sha256 != before)
  }

  @Test func tasksFileErrorsNameTheFileAndLine() {
    let folder = SuiteFolder()
    folder.write(
      "bad.jsonl",
      "{\"id\": \"a\", \"input\": 1}\nnot json\n{\"id\": \"b\", \"input\": 2, \"expct\": []}\n{\"id\": \"a\", \"input\": 3}\n"
    )
    folder.write("bad.csv", "id,input,colour\na,1,red\n")
    folder.write("short.csv", "id,input\nx,\"unterminated\n")
    let errors = folder.errors(head + "tasks_file: [bad.jsonl, bad.csv, short.csv, nope.jsonl, data.txt]\n")
    #expect(
      errors == [
        "bad.jsonl:2:1: not a JSON object",
        "bad.jsonl:3:25: unknown key 'expct' in a task (did you mean 'expect'?)",
        "bad.csv:1:3: unknown column 'colour' (columns: id, input, tags, equals, contains, regex)",
        "short.csv:2:1: unterminated quoted field",
        "suite.yaml:4:13: tasks_file 'nope.jsonl' not found",
        "suite.yaml:4:13: tasks_file 'data.txt' not found",
        "suite.yaml: duplicate task id 'a' at bad.jsonl:4 (first at bad.jsonl:1)",
      ])
    // A folder, or a device or pipe (which would never end, or block), is not read.
    #expect(
      folder.errors(head + "tasks_file: [\(folder.path), /dev/zero]\n") == [
        "suite.yaml:4:13: tasks_file '\(folder.path)' is a folder, not a file",
        "suite.yaml:4:13: tasks_file '/dev/zero' is not a regular file",
      ])
  }
}
