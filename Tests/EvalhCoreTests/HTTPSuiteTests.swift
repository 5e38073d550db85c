import Testing

@testable import EvalhCore

/// The `http:` adapter, its `openai:` preset, body templates and `judge` graders in the suite format.
@Suite struct HTTPSuiteTests {
  @Test func httpAdapterWithTemplateMappingAndHeaders() throws {
    let suite = try SuiteFolder().load(
      """
      name: s
      agent:
        http:
          url: "http://127.0.0.1:9000/run?key=${KEY}"
          method: put
          headers: { Authorization: "Bearer ${KEY}", X-Team: evals }
          body: { question: "{{input}}", id: "{{task.id}}", n: "{{trial}}" }
          response: { output: $.answer.text, input_tokens: $.usage.in, cost_usd: $.cost, steps: $.trace }
          retries: 4
          max_connections: 3
          max_output: 1000
      tasks: [{ id: a, input: x }]
      """, env: ["KEY": "k-123"])
    guard case .http(let config) = suite.agents[0].adapter else {
      Issue.record("not an http agent")
      return
    }
    #expect(config.url == "http://127.0.0.1:9000/run?key=k-123" && config.method == "PUT")
    #expect(config.headers.map(\.name) == ["Authorization", "X-Team"] && config.headers[0].value == "Bearer k-123")
    #expect(config.body?["question"] == .string("{{input}}"))
    #expect(config.response?.output.description == "$.answer.text" && config.response?.steps?.description == "$.trace")
    #expect(config.response?.outputTokens == nil)
    #expect(config.retries == 4 && config.maxConnections == 3 && config.maxOutput == 1000)
    #expect(suite.secrets == ["KEY": "k-123"])
    #expect(suite.config.compactText.contains("${KEY}") && !suite.config.compactText.contains("k-123"))
  }

  @Test func openAIPresetInThreeLines() throws {
    let suite = try SuiteFolder().load(
      """
      name: s
      agent:
        http:
          openai: { base_url: "http://localhost:11434/v1/", model: llama3.2, api_key: sk-x, temperature: 0 }
      tasks: [{ id: a, input: x }]
      """)
    guard case .http(let config) = suite.agents[0].adapter else {
      Issue.record("not an http agent")
      return
    }
    #expect(config.url == "http://localhost:11434/v1/chat/completions")
    #expect(config.headers.first { $0.name == "Authorization" }?.value == "Bearer sk-x")
    #expect(config.body?["model"] == .string("llama3.2") && config.body?["temperature"] == .number(0))
    #expect(config.body?["messages"]?.arrayValue?.first?["content"] == .string("{{input_text}}"))
    #expect(config.response?.output.description == "$.choices[0].message.content")
    #expect(config.response?.inputTokens?.description == "$.usage.prompt_tokens")
    #expect(config.response?.outputTokens?.description == "$.usage.completion_tokens")
    // The preset's paths are built from segments: the same paths the parser makes of their text.
    #expect(config.response?.output == (try JSONPath("$.choices[0].message.content")))
    #expect(config.response?.inputTokens == (try JSONPath("$.usage.prompt_tokens")))
    #expect(config.response?.outputTokens == (try JSONPath("$.usage.completion_tokens")))
    #expect(config.openAIToolCalls)
  }

  @Test func mistakesAreNamedWithTheirPosition() {
    let errors = SuiteFolder().errors(
      """
      name: s
      agents:
        a:
          http: { url: "ftp://x", retry: 2 }
        b:
          http: { method: GET }
        c:
          http: { url: "http://h", body: { q: "{{inptu}}", m: "{{task.metadata.lang}}" }, response: { input_tokens: $.u } }
        d:
          http: { openai: { base_url: "http://h" } }
        e:
          http: { url: "http://h" }
          subprocess: { command: [sh] }
      tasks: [{ id: a, input: x }]
      """)
    #expect(
      errors == [
        "suite.yaml:4:29: unknown key 'retry' in http",
        "suite.yaml:4:18: 'ftp://x' is not an http(s) URL",
        "suite.yaml:6:11: http needs a 'url' (or the 'openai' preset)",
        "suite.yaml:8:36: unknown placeholder '{{inptu}}' (known: {{input}}, {{input_text}}, {{task.id}}, {{trial}}, {{seed}}, {{run_id}}, {{workdir}}, {{tools.mcp_url}}, {{tools.url}}, {{tools.list}}, {{condition}}, {{task.metadata.KEY}}); did you mean '{{input}}'?",
        "suite.yaml:8:95: response needs an 'output' JSONPath",
        "suite.yaml:10:21: openai needs 'base_url' and 'model'",
        "suite.yaml:12:5: agent 'e' has two adapters: use 'subprocess' or 'http'",
      ])
  }

  @Test func judgeGraders() throws {
    let yaml = """
      name: s
      agents:
        bot: { subprocess: { command: [sh] } }
        grader: { http: { url: "http://127.0.0.1:1/judge" } }
      tasks:
        - id: a
          input: x
          expect: [{ judge: { agent: grader, rubric: be polite, threshold: 0.8, timeout: 5s } }]
        - id: b
          input: x
          expect: [{ judge: { agent: grader, rubric: be brief }, name: brevity }]
      """
    let suite = try SuiteFolder().load(yaml)
    guard case .judge(let spec) = suite.tasks[0].expect[0].kind else {
      Issue.record("not a judge")
      return
    }
    #expect(spec.agent == "grader" && spec.rubric == "be polite" && spec.threshold == 0.8 && spec.timeout == 5)
    #expect(suite.tasks[1].expect[0].label == "brevity")
    if case .judge(let other) = suite.tasks[1].expect[0].kind { #expect(other.threshold == JudgeSpec.defaultThreshold) }
    #expect(suite.judges == ["grader"])
    #expect(suite.evaluatedAgents.map(\.name) == ["bot"])

    let errors = SuiteFolder().errors(
      """
      name: s
      agents:
        bot: { subprocess: { command: [sh] } }
      tasks:
        - id: a
          input: x
          expect:
            - judge: { agent: bott, rubric: r }
            - judge: { agent: bot, rubric: r, threshold: 7 }
            - judge: { rubric: r }
      """)
    #expect(
      errors == [
        "suite.yaml:8:25: judge agent 'bott' is not an agent of the suite (agents: bot); did you mean 'bot'?",
        "suite.yaml:9:52: judge.threshold must be between 0 and 1",
        "suite.yaml:10:16: judge needs 'agent' (an agent of the suite) and 'rubric'",
        "suite.yaml:2:1: every agent is a judge: the suite has no agent to evaluate",
      ])
  }

  @Test func judgeVerdicts() {
    #expect(JudgeVerdict.parse(.number(0.75))! == (0.75, nil))
    #expect(JudgeVerdict.parse(.object(["score": .number(1), "reason": .string("clear")]))! == (1, "clear"))
    #expect(JudgeVerdict.parse(.string(" 0.4 "))! == (0.4, nil))
    #expect(JudgeVerdict.parse(.string("```json\n{\"score\": 0.9, \"reason\": \"ok\"}\n```"))! == (0.9, "ok"))
    #expect(JudgeVerdict.parse(.string("I think it is good")) == nil)
    #expect(JudgeVerdict.parse(.object(["verdict": .string("pass")])) == nil)
    // Out-of-range scores are parsed; the executor refuses them as a grader error.
    #expect(JudgeVerdict.parse(.number(7))! == (7, nil))
  }

  @Test func bodyTemplates() {
    var values = BodyTemplate.Values(
      input: .object(["q": .string("hi")]), taskID: "t", metadata: ["lang": .string("fr"), "n": .number(2)], trial: 2,
      seed: 42, runID: "r", workdir: "/w")
    values.condition = "flaky"
    let rendered = BodyTemplate.render(
      .object([
        "whole": .string("{{input}}"), "condition": .string("under {{condition}}"), "text": .string("{{input_text}}"),
        "inline": .string("<{{ input }}>"),
        "meta": .string("{{task.metadata.n}}"), "metaText": .string("n={{task.metadata.n}} {{task.metadata.none}}."),
        "nums": .array([.string("{{trial}}"), .string("{{seed}}"), .string("#{{trial}}")]),
        "unknown": .string("{{mystery}}"), "plain": .bool(true),
      ]), values)
    #expect(
      rendered
        == .object([
          "whole": .object(["q": .string("hi")]), "condition": .string("under flaky"), "text": .string(#"{"q":"hi"}"#),
          "inline": .string(#"<{"q":"hi"}>"#),
          "meta": .number(2), "metaText": .string("n=2 ."),
          "nums": .array([.number(2), .number(42), .string("#2")]),
          "unknown": .string("{{mystery}}"), "plain": .bool(true),
        ]))
    #expect(
      BodyTemplate.unknownPlaceholders(in: .array([.string("{{mystery}} {{task.metadata.x}} {{seed}}")])) == ["mystery"]
    )
  }
}
