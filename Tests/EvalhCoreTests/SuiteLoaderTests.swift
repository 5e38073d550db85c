import Foundation
import Testing

@testable import EvalhCore

func parseSuite(_ yaml: String) throws(SuiteErrors) -> Suite {
  try SuiteLoader.parse(yaml, file: "suite.yaml", absolutePath: "/tmp/suite.yaml")
}

func diagnostics(_ yaml: String) -> [String] {
  do {
    _ = try parseSuite(yaml)
    return []
  } catch {
    return error.diagnostics.map(\.description)
  }
}

@Suite struct SuiteLoaderTests {
  let valid = """
    version: 1
    name: demo
    trials: 3
    timeout: 250ms
    agents:
      a:
        subprocess:
          command: [sh, -c, "cat"]
          format: text
          env: { MODEL: small }
        pricing: { input_per_million: 1, output_per_million: 2 }
    tasks:
      - id: t1
        input: hello
        tags: [x, y]
        metadata: { k: 1 }
        trials: 5
        timeout: 2m
        expect:
          - equals: hello
          - contains: [he, lo]
          - contains_any: [zz, ll]
          - regex: '^h'
          - json: { path: $.a, equals: 1, tolerance: 0.1 }
          - command: { run: [sh, -c, "exit 0"], timeout: 3s }
            name: ok-check
        assure:
          - not_contains: secret
          - not_regex: '\\d{3}-\\d{2}-\\d{4}'
      - id: t2
        input: { structured: true }
    """

  @Test func loadsEveryKeyOfTheSkeleton() throws {
    let suite = try parseSuite(valid)
    #expect(suite.name == "demo")
    #expect(suite.trials == 3)
    #expect(suite.timeout == 0.25)
    #expect(suite.agents.map(\.name) == ["a"])
    guard case .subprocess(let config) = suite.agents[0].adapter else {
      Issue.record("not subprocess")
      return
    }
    #expect(config.command == ["sh", "-c", "cat"])
    #expect(config.format == .text)
    #expect(config.env == ["MODEL": "small"])
    #expect(config.cwd == "/tmp")
    #expect(suite.agents[0].pricing?.cost(inputTokens: 1_000_000, outputTokens: 500_000) == 2)
    let t1 = suite.tasks[0]
    #expect(t1.tags == ["x", "y"] && t1.trials == 5 && t1.timeout == 120)
    #expect(t1.metadata == ["k": .number(1)])
    #expect(t1.expect.map(\.kind.keyword) == ["equals", "contains", "contains_any", "regex", "json", "command"])
    #expect(t1.expect.last?.label == "ok-check")
    #expect(t1.assure.map(\.label) == ["not_contains", "not_regex"])
    #expect(suite.tasks[1].input == .object(["structured": .bool(true)]))
  }

  @Test func unknownKeysAreLocatedWithASuggestion() {
    let errors = diagnostics(
      """
      name: demo
      agent:
        subprocess: { command: [sh] }
      tasks:
        - id: t1
          input: x
          expct:
            - contains: a
      """)
    #expect(errors == ["suite.yaml:7:5: unknown key 'expct' in a task (did you mean 'expect'?)"])
  }

  @Test func everyErrorIsReportedAtOnce() {
    let errors = diagnostics(
      """
      name: demo
      trails: 3
      agent:
        subprocess: { command: [sh], format: xml }
      tasks:
        - id: t1
          input: x
          expect:
            - regex: '(unclosed'
            - contians: a
        - id: t1
          input: y
        - id: "bad id!"
          input: z
          timeout: soon
      """)
    #expect(errors.count == 7, "\(errors)")
    #expect(errors.contains("suite.yaml:2:1: unknown key 'trails' in the suite (did you mean 'trials'?)"))
    #expect(errors.contains("suite.yaml:4:40: format must be 'envelope' or 'text'"))
    #expect(errors.contains("suite.yaml:9:16: invalid regular expression '(unclosed' in regex"))
    #expect(errors.contains("suite.yaml:10:9: unknown key 'contians' in a grader (did you mean 'contains'?)"))
    #expect(errors.contains("suite.yaml:11:5: duplicate task id 't1' (first at line 6)"))
    #expect(errors.contains { $0.hasPrefix("suite.yaml:13:9: task id 'bad id!' must match") })
    #expect(errors.contains { $0.hasPrefix("suite.yaml:15:14: timeout must be a positive duration") })
  }

  @Test func wrongTypesAndMissingKeys() {
    let errors = diagnostics(
      """
      name: demo
      trials: many
      agents: {}
      tasks: []
      """)
    #expect(errors.contains("suite.yaml:2:9: trials must be an integer"))
    #expect(errors.contains("suite.yaml:3:9: agents must name at least one agent"))
    #expect(errors.contains("suite.yaml:4:8: tasks must hold at least one task"))
  }

  /// One grader or check written as a map, not a list of one: the error says how to write it.
  @Test func aSingleGraderWithoutItsListIsShownItsListForm() {
    let errors = diagnostics(
      """
      name: demo
      agent: { subprocess: { command: [cat] } }
      tasks:
        - { id: a, input: x, expect: { equals: ok }, assure: { not_contains: secret } }
        - { id: b, input: x, expect: yes }
      """)
    #expect(
      errors.contains(
        "suite.yaml:4:32: expect must be a list of graders: write a single one as a list of one, `[{ equals: … }]` or a `- ` line"
      ), "\(errors)")
    #expect(errors.contains { $0.hasPrefix("suite.yaml:4:56: assure must be a list of checks: write a single one as") })
    #expect(errors.contains("suite.yaml:5:32: expect must be a list of graders"))
  }

  @Test func invalidYAMLIsLocated() {
    let errors = diagnostics("name: demo\ntasks: [a, b\n")
    #expect(errors.count == 1)
    #expect(errors[0].hasPrefix("suite.yaml:3:1: invalid YAML"), "\(errors)")
  }

  @Test func missingExecutableIsReported() {
    let errors = diagnostics(
      """
      name: demo
      agent:
        subprocess: { command: [no-such-agent-binary-xyz] }
      tasks:
        - { id: a, input: x }
      """)
    #expect(errors == ["suite.yaml:3:26: agent executable 'no-such-agent-binary-xyz' not found on PATH"])
  }

  @Test func aliasBombIsRefusedQuickly() {
    // Nine levels of nine-fold aliases: 9^9 nodes if expanded.
    var yaml = "name: bomb\nagent:\n  subprocess: { command: [sh] }\nlol0: &l0 [lol]\n"
    for i in 1...9 {
      yaml += "lol\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ") + "]\n"
    }
    yaml += "tasks:\n  - id: a\n    input: *l9\n"
    let clock = ContinuousClock()
    let elapsed = clock.measure {
      let errors = diagnostics(yaml)
      #expect(errors.contains { $0.contains("too many nodes") }, "\(errors)")
    }
    // Expanded, 9^9 nodes would take many minutes; the bound is wide so a loaded machine never trips it.
    #expect(elapsed < .seconds(30))
  }

  @Test func durationsAndHashes() throws {
    #expect(YAMLReader.parseDuration("250ms") == 0.25)
    #expect(YAMLReader.parseDuration("30s") == 30)
    #expect(YAMLReader.parseDuration("2m") == 120)
    #expect(YAMLReader.parseDuration("1.5") == 1.5)
    #expect(YAMLReader.parseDuration("soon") == nil)
    let a = try parseSuite(valid)
    let b = try parseSuite(valid + "\n")
    #expect(a.sha256 == b.sha256)
    let c = try parseSuite(valid.replacingOccurrences(of: "trials: 3", with: "trials: 4"))
    #expect(a.sha256 != c.sha256)
    #expect(a.sha256.count == 64)
  }
}
