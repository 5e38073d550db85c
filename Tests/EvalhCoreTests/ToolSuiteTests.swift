import Foundation
import Testing

@testable import EvalhCore

@Suite struct ToolSuiteTests {
  @Test func toolsServersAndStateLoadAndTasksAddOrReplaceByName() throws {
    let folder = SuiteFolder()
    folder.write("state.json", #"{"n": 0}"#)
    folder.write("task-state.json", #"{"n": 5}"#)
    folder.write("schemas/out.json", #"{"type": "object", "required": ["id"]}"#)
    let suite = try folder.load(
      head + """
        state: state.json
        tools:
          lookup:
            description: Look up.
            input_schema: { type: object, properties: { id: { type: string } } }
            output_schema: schemas/out.json
            annotations: { read_only: true, idempotent: true }
            cases:
              - { when: { id: "1" }, result: { id: "1" } }
              - { result: nope, is_error: true }
          echo: { description: Echo., input_schema: { type: object }, respond: "{{arguments.x}}" }
        mcp_servers:
          crm: { command: [sh, -c, "exit 0"], env: { DIR: "{{state_dir}}" }, tools: [find] }
          remote: { url: "http://127.0.0.1:9/mcp" }
        tasks:
          - { id: a, input: x }
          - id: b
            input: y
            state: task-state.json
            tools:
              echo: { description: Loud echo., input_schema: { type: object }, run: [sh, -c, "cat"], timeout: 2s }
              extra: { description: Extra., input_schema: { type: object }, respond: 1 }
        """)
    let a = try #require(suite.tasks.first)
    let b = try #require(suite.tasks.last)
    #expect(a.tools.tools.map(\.name) == ["lookup", "echo"])
    #expect(b.tools.tools.map(\.name) == ["lookup", "echo", "extra"])
    #expect(b.tools.tools[1].description == "Loud echo.")
    guard case .run(let argv, _, let timeout) = b.tools.tools[1].handler else {
      Issue.record("the task's echo did not replace the suite's")
      return
    }
    #expect(argv == ["sh", "-c", "cat"] && timeout == 2)
    #expect(a.tools.tools[0].annotations == ToolAnnotations(readOnly: true, idempotent: true))
    #expect(a.tools.tools[0].outputSchema != nil)
    #expect(a.tools.servers.map(\.name) == ["crm", "remote"])
    #expect(a.tools.state == folder.path + "/state.json")
    #expect(b.tools.state == folder.path + "/task-state.json")
    #expect(suite.servesTools)
  }

  @Test func everyBadToolsSectionIsNamedWithItsPosition() {
    let folder = SuiteFolder()
    folder.write("bad-state.json", "not json")
    let errors = folder.errors(
      head + """
        state: missing.json
        tools:
          no-schema: { description: x, respond: 1 }
          two-handlers: { description: x, input_schema: { type: object }, respond: 1, cases: [{ result: 1 }] }
          no-handler: { description: x, input_schema: { type: object } }
          bad-schema: { description: x, input_schema: { type: object, minimum: "a" }, respond: 1 }
          not-object: { description: x, input_schema: { type: string }, respond: 1 }
          unknown-key: { description: x, input_schema: { type: object }, respond: 1, handler: 2 }
          placeholder: { description: x, input_schema: { type: object, properties: { a: {} } }, respond: "{{arguments.b}} {{oops}}" }
          fallback-first: { description: x, input_schema: { type: object }, cases: [{ result: 1 }, { when: { a: 1 }, result: 2 }] }
          off-schema: { description: x, input_schema: { type: object }, output_schema: { type: object }, cases: [{ result: 3 }] }
          no-program: { description: x, input_schema: { type: object }, run: [definitely-not-a-program-xyz] }
          timeout-on-respond: { description: x, input_schema: { type: object }, respond: 1, timeout: 1s }
          bad name: { description: x, input_schema: { type: object }, respond: 1 }
        mcp_servers:
          both: { command: [sh], url: "http://x" }
          neither: { tools: [a] }
          ftp: { url: "ftp://x" }
          clash: { command: [sh], tools: [timeout-on-respond] }
        tasks:
          - id: t
            input: x
            state: bad-state.json
            expect:
              - tool_result: { call: nowhere, path: "$.a", equals: 1 }
              - state: { path: "$.n" }
            assure:
              - honest_steps: false
        """)
    let expected = [
      "suite.yaml:4:8: state file 'missing.json' not found",
      "suite.yaml:6:14: tool 'no-schema' needs an 'input_schema'",
      "suite.yaml:7:17: tool 'two-handlers' has 2 handlers (cases, respond): use exactly one",
      "suite.yaml:8:15: tool 'no-handler' needs a handler: one of cases, respond, run",
      "suite.yaml:9:47: inline schema is not a valid schema: /: 'minimum' must be a number, not \"a\"",
      "suite.yaml:10:47: tool 'not-object': input_schema must have type: object (arguments are an object)",
      "suite.yaml:11:78: unknown key 'handler' in tool 'unknown-key'",
      "suite.yaml:12:98: tool 'placeholder': '{{arguments.b}}' names no property of its input_schema",
      "suite.yaml:12:98: tool 'placeholder': unknown placeholder '{{oops}}' (use {{arguments.NAME}})",
      "suite.yaml:13:77: a case without 'when' matches every call: only the last case may omit it",
      "suite.yaml:14:105: tool 'off-schema': case 1's result breaks its output_schema (result expected object, got integer)",
      "suite.yaml:15:70: tool command 'definitely-not-a-program-xyz' not found on PATH",
      "suite.yaml:16:94: timeout applies to a 'run' handler only",
      "suite.yaml:17:3: tool name 'bad name' must match [A-Za-z0-9_-]{1,64} (what MCP and OpenAI clients accept)",
      "suite.yaml:19:9: server 'both' has both 'command' and 'url': use one",
      "suite.yaml:20:12: server 'neither' needs 'command' (stdio) or 'url' (Streamable HTTP)",
      "suite.yaml:21:15: url must be an http:// or https:// address",
      "suite.yaml:24:5: task 't': tool name 'timeout-on-respond' of server 'clash' collides with a tool of 'tools'",
      "suite.yaml:24:5: task 't': tool_result calls 'nowhere', which is not one of the task's tools",
      "suite.yaml:26:12: state file 'bad-state.json' is not a JSON document",
      "suite.yaml:29:16: state needs exactly one of: equals, contains, matches, exists, gte, lte",
      "suite.yaml:31:23: honest_steps: false checks nothing; remove it",
    ]
    // All at once, each at its place.
    #expect(errors.sorted() == expected.sorted(), "got:\n\(errors.joined(separator: "\n"))")
  }

  @Test func graderThatNeedToolsOrStateSayWhenTheTaskHasNone() {
    let errors = SuiteFolder().errors(
      head + """
        tasks:
          - id: t
            input: x
            expect:
              - state: { path: "$.a", exists: true }
              - tool_result: { call: f, path: "$.a", exists: true }
            assure:
              - honest_steps: true
        """)
    #expect(
      errors.contains("suite.yaml:5:5: task 't': a state grader needs 'state:' (the trial's tool state)"), "\(errors)")
    #expect(
      errors.contains("suite.yaml:5:5: task 't': tool_result calls 'f', but the task serves no tools"), "\(errors)")
    #expect(
      errors.contains(
        "suite.yaml:5:5: task 't': honest_steps compares reported steps with served calls, but the task serves no tools"
      ),
      "\(errors)")
  }

  @Test func toolLoopNeedsTheOpenAIPreset() {
    let errors = SuiteFolder().errors(
      """
      name: s
      agent: { http: { url: "http://127.0.0.1:1/x", tool_loop: { max_turns: 3 } } }
      tasks: [{ id: t, input: x }]
      """)
    #expect(
      errors == ["suite.yaml:2:58: tool_loop works with the openai preset (it speaks chat completions with tools)"],
      "\(errors)")
  }
}
