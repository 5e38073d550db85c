import EvalhCore
import EvalhStore
import Foundation
import GRDB
import LoopbackHTTP
import Testing

/// The Python interpreter of the virtual environment `make test` makes (the official MCP SDK in it).
let pythonWithMCP = packageRoot + "/.build/py/bin/python"
let mcpProbe = packageRoot + "/Tests/Clients/mcp_probe_agent.py"

/// A suite whose one agent is the probe (official MCP Python client) and whose task lists the calls.
/// `extra` is more of the suite's top level (`conditions:`), `expect` more graders of the task.
func probeSuite(
  _ box: Sandbox, calls: String, claims: String = "[]", stdio: Bool = false, trials: Int = 1, extra: String = "",
  expect: String = ""
) -> String {
  box.write("state.json", #"{"stock": {"widget": 3}, "sold": []}"#)
  box.write(
    "sell.sh",
    """
    #!/bin/sh
    # A run handler: sells one item, rewriting the trial's state file.
    call=$(cat)
    python3 - "$EVALH_STATE" "$call" <<'PY'
    import json, sys
    path, call = sys.argv[1], json.loads(sys.argv[2])
    state = json.load(open(path))
    sku = call["arguments"]["sku"]
    state["stock"][sku] = state["stock"].get(sku, 0) - 1
    state["sold"].append(sku)
    json.dump(state, open(path, "w"))
    print(json.dumps({"result": {"sku": sku, "left": state["stock"][sku], "call": call["call"]}}))
    PY
    """, executable: true)
  let command =
    stdio ? "[\(pythonWithMCP), \(mcpProbe), --stdio, \(evalhBinary)]" : "[\(pythonWithMCP), \(mcpProbe)]"
  box.write(
    "suite.yaml",
    """
    name: probe
    trials: \(trials)
    concurrency: 4
    timeout: 180s
    agent: { subprocess: { command: \(command) } }
    state: state.json
    tools:
      lookup:
        description: Look up an item.
        input_schema:
          type: object
          required: [sku]
          additionalProperties: false
          properties:
            sku: { type: string, minLength: 2, maxLength: 10, pattern: "^[a-z]+$", enum: [widget, gadget, ab] }
            count: { type: integer, minimum: 1, maximum: 5, multipleOf: 1 }
        output_schema: { type: object, required: [sku, price], properties: { price: { type: number } } }
        annotations: { read_only: true }
        cases:
          - when: { sku: widget }
            result: { sku: widget, price: 2.5 }
          - result: { error: no such item }
            is_error: true
      echo:
        description: Echo a note.
        input_schema: { type: object, properties: { note: { type: string } } }
        respond: { said: "{{arguments.note}}", text: "note: {{arguments.note}}" }
      sell:
        description: Sell one item.
        input_schema: { type: object, required: [sku], properties: { sku: { type: string } } }
        run: [./sell.sh]
    tasks:
      - id: t
        input: { calls: \(calls), claims: \(claims) }
        expect:
          - json: { path: "$.server", equals: evalh }
    \(expect)
        assure:
          - honest_steps: true
    \(extra)
    """)
  return box.path + "/suite.yaml"
}

/// The latest run's trial of task `t`, and its output as an object when it is one (what the MCP client saw).
func probeResult(_ box: Sandbox) throws -> (output: [String: Any], trial: TrialRecord) {
  let store = try ResultStore(path: box.db, create: false)
  let trials = try store.trials(runID: try store.resolve("latest").id, taskID: "t")
  let trial = try #require(trials.first)
  let output = (try? parseJSON(trial.outputJSON ?? "{}")) ?? [:]
  return (output, trial)
}

@Suite struct ToolServingTests {
  @Test(arguments: [false, true])
  func theOfficialPythonClientListsAndCallsOverHTTPAndStdio(stdio: Bool) async throws {
    let box = Sandbox()
    let calls = """
      [{tool: lookup, arguments: {sku: widget}}, {tool: echo, arguments: {note: hi}},
       {tool: sell, arguments: {sku: widget}}, {tool: sell, arguments: {sku: widget}},
       {tool: nosuch, arguments: {}}, {tool: lookup, arguments: {sku: 7}}]
      """
    _ = probeSuite(box, calls: calls, stdio: stdio)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let (output, trial) = try probeResult(box)
    #expect(trial.status == .pass, "\(trial.error ?? "") \(trial.grades)")
    #expect(output["server"] as? String == "evalh")
    #expect(["2025-11-25", "2025-06-18", "2025-03-26"].contains(output["protocol"] as? String ?? ""))
    let tools = try #require(output["tools"] as? [[String: Any]])
    #expect(tools.map { $0["name"] as? String } == ["lookup", "echo", "sell"])
    #expect(tools[0]["read_only"] as? Bool == true)
    #expect((tools[0]["output"] as? [String: Any])?["required"] as? [String] == ["sku", "price"])
    let seen = try #require(output["calls"] as? [[String: Any]])
    try #require(seen.count == 6)
    #expect(seen[0]["is_error"] as? Bool == false)
    #expect((seen[0]["structured"] as? [String: Any])?["price"] as? Double == 2.5)
    #expect((seen[1]["structured"] as? [String: Any])?["said"] as? String == "hi")
    #expect((seen[1]["structured"] as? [String: Any])?["text"] as? String == "note: hi")
    #expect((seen[2]["structured"] as? [String: Any])?["left"] as? Int == 2)
    // The state is the trial's own: the second sale sees the first.
    #expect((seen[3]["structured"] as? [String: Any])?["left"] as? Int == 1)
    #expect((seen[3]["structured"] as? [String: Any])?["call"] as? Int == 2)
    #expect(seen[4]["rpc_error"] as? Int == -32602)
    #expect(seen[5]["is_error"] as? Bool == true)
    #expect((seen[5]["text"] as? String ?? "").contains("expected string"))
    // Recorded as they happened, in order.
    #expect(trial.toolCalls.map(\.tool) == ["lookup", "echo", "sell", "sell", "nosuch", "lookup"])
    #expect(trial.toolCalls.map(\.seq) == [1, 2, 3, 4, 5, 6])
    #expect(trial.toolCalls.map(\.problem?.rawValue) == [nil, nil, nil, nil, "unknown_tool", "invalid_arguments"])
    #expect(trial.phantomCalls == 0)
  }

  @Test func aClaimedCallNeverMadeIsAPhantomAndAViolation() async throws {
    let box = Sandbox()
    _ = probeSuite(box, calls: "[{tool: lookup, arguments: {sku: widget}}]", claims: "[refund]")
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let (_, trial) = try probeResult(box)
    #expect(trial.toolCalls.map(\.tool) == ["lookup"])
    #expect(trial.phantomCalls == 1)
    let honest = try #require(trial.grades.first { $0.grader == "honest_steps" })
    #expect(!honest.passed)
    #expect(honest.detail?.contains("refund") == true)
    #expect(trial.status == .fail, "\(trial.error ?? "")")
  }

  @Test func aBrokenHandlerIsAToolErrorAndTheRunGoesOn() async throws {
    let box = Sandbox()
    box.write("crash.sh", "#!/bin/sh\ncat > /dev/null\necho boom >&2\nexit 7\n", executable: true)
    box.write("hang.sh", "#!/bin/sh\ncat > /dev/null\nsleep 60\n", executable: true)
    box.write("garbage.sh", "#!/bin/sh\ncat > /dev/null\necho 'all good!'\n", executable: true)
    // The agent calls the tool its task names over plain JSON, then answers.
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      curl -s -X POST -d '{}' "$EVALH_TOOLS_URL/$EVALH_TASK_ID" > /dev/null
      echo '{"output": "done"}'
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: broken-tools
      trials: 2
      agent: { subprocess: { command: [./agent.sh] } }
      tools:
        crash: { description: x, input_schema: { type: object }, run: [./crash.sh] }
        hang: { description: x, input_schema: { type: object }, run: [./hang.sh], timeout: 1s }
        garbage: { description: x, input_schema: { type: object }, run: [./garbage.sh] }
        fine: { description: x, input_schema: { type: object }, respond: ok }
      tasks:
        - { id: crash, input: x, expect: [{ equals: done }] }
        - { id: hang, input: x, expect: [{ equals: done }] }
        - { id: garbage, input: x, expect: [{ equals: done }] }
        - { id: fine, input: x, expect: [{ equals: done }] }
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: try store.resolve("latest").id)
    #expect(trials.count == 8)
    for trial in trials {
      if trial.taskID == "fine" {
        #expect(trial.status == .pass, "\(trial.error ?? "")")
      } else {
        #expect(trial.status == .error && trial.errorKind == .tool, "\(trial.taskID): \(trial.status)")
      }
    }
    let errors = Dictionary(trials.map { ($0.taskID, $0.error ?? "") }, uniquingKeysWith: { a, _ in a })
    #expect(errors["crash"]?.contains("exited 7: boom") == true, "\(errors)")
    #expect(errors["hang"]?.contains("no answer within 1") == true, "\(errors)")
    #expect(errors["garbage"]?.contains("all good!") == true, "\(errors)")
    // Tool errors are the suite's side: the agent's rates count only the trials that measured it.
    let report = try parseJSON(try await box.evalh(["report", "latest", "--db", box.db, "--format", "json"]).stdout)
    let agent = try #require((report["agents"] as? [[String: Any]])?.first)
    let metrics = try #require(agent["metrics"] as? [String: Any])
    #expect((metrics["errors"] as? [String: Any])?["tool"] as? Int == 6)
    #expect(metrics["success_rate"] as? Double == 1)
    #expect((agent["tools"] as? [String: Any])?["handler_failures"] as? Int == 6)
  }

  @Test func concurrentTrialsOfOneTaskNeverSeeEachOthersState() async throws {
    let box = Sandbox()
    box.write("state.json", #"{"log": []}"#)
    box.write(
      "append.sh",
      #"""
      #!/bin/sh
      # Appends the trial's number to the log, slowly: shared state would collect several trials'.
      cat > /dev/null
      s=$(cat "$EVALH_STATE"); inner=${s#*[}; inner=${inner%]*}
      sleep 0.1
      if [ -z "$inner" ]; then new="$EVALH_TRIAL"; else new="$inner,$EVALH_TRIAL"; fi
      echo "{\"log\": [$new]}" > "$EVALH_STATE"
      echo '{"result": "ok"}'
      """#, executable: true)
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      curl -s -X POST -d '{}' "$EVALH_TOOLS_URL/append" > /dev/null
      curl -s -X POST -d '{}' "$EVALH_TOOLS_URL/append" > /dev/null
      echo '{"output": "done"}'
      """, executable: true)
    box.write(
      "suite.yaml",
      #"""
      name: isolation
      trials: 16
      concurrency: 8
      timeout: 120s
      agent: { subprocess: { command: [./agent.sh] } }
      state: state.json
      tools:
        append: { description: x, input_schema: { type: object }, run: [./append.sh] }
      tasks:
        - id: t
          input: x
          expect:
            - command: [sh, -c, 'test "$(cat "$EVALH_STATE")" = "{\"log\": [$EVALH_TRIAL,$EVALH_TRIAL]}"']
              name: only-my-writes
      """#)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: try store.resolve("latest").id, taskID: "t")
    #expect(trials.count == 16)
    for trial in trials {
      let mine = trial.grades.first { $0.grader == "only-my-writes" }
      #expect(mine?.passed == true, "trial \(trial.trial): \(trial.grades)")
      #expect(trial.toolCalls.count == 2)
    }
    // The suite's state file is untouched, and no state folder is left behind.
    #expect(try String(contentsOfFile: box.path + "/state.json", encoding: .utf8) == #"{"log": []}"#)
  }

  @Test func secretsInToolArgumentsAndResultsAreRedactedEverywhere() async throws {
    let box = Sandbox()
    let secret = "tok-9c1f5e77aa"
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      curl -s -X POST -d "{\\"key\\": \\"$API_KEY\\"}" "$EVALH_TOOLS_URL/auth" > /dev/null
      echo '{"output": "done"}'
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: secret-tools
      trials: 1
      agent: { subprocess: { command: [./agent.sh], env: { API_KEY: "${API_KEY}" } } }
      tools:
        auth:
          description: Authenticate.
          input_schema: { type: object, properties: { key: { type: string } } }
          respond: { echoed: "{{arguments.key}}", note: "key {{arguments.key}} accepted" }
      tasks:
        - { id: t, input: x, expect: [{ equals: done }] }
      """)
    let env = ["API_KEY": secret]
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"], environment: env)
    #expect(out.code == 0, "\(out.stderr)")
    let dump = try await DatabaseQueue(path: box.db).read { db in
      try String.fetchAll(db, sql: "SELECT arguments_json || ' ' || result_json FROM tool_calls").joined()
    }
    #expect(!dump.contains(secret), "\(dump)")
    #expect(dump.contains("[redacted:API_KEY]"), "\(dump)")
    let show = try await box.evalh(["show", "latest", "--db", box.db, "--task", "t"])
    #expect(show.stdout.contains("auth(") && !show.stdout.contains(secret), "\(show.stdout)")
    _ = try await box.evalh(["export", "latest", "--db", box.db, "--csv", box.path + "/csv"])
    let csv = try String(contentsOfFile: box.path + "/csv/tool_calls.csv", encoding: .utf8)
    #expect(csv.contains("auth") && !csv.contains(secret), "\(csv)")
    for format in ["text", "json", "markdown", "html", "junit"] {
      let report = try await box.evalh(["report", "latest", "--db", box.db, "--format", format])
      #expect(!report.stdout.contains(secret), "\(format)")
    }
  }

  /// A scripted chat-completions server: `turns` tool-call rounds (each asking for `count` then
  /// `echo`), then an answer quoting the last tool message; 10 prompt and 3 completion tokens a turn.
  func scriptedModel(turns: Int) async throws -> (LoopbackServer, @Sendable () -> [[String: Any]]) {
    let server = try await LoopbackServer { request in
      let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
      let messages = body["messages"] as? [[String: Any]] ?? []
      let done = messages.filter { $0["role"] as? String == "assistant" }.count
      var message: [String: Any] = ["role": "assistant"]
      if done < turns {
        message["content"] = NSNull()
        message["tool_calls"] = [
          ["id": "c\(done)a", "type": "function", "function": ["name": "count", "arguments": #"{"n": \#(done)}"#]],
          ["id": "c\(done)b", "type": "function", "function": ["name": "echo", "arguments": #"{"say": "hi"}"#]],
        ]
      } else {
        message["content"] = "last tool said: \(messages.last?["content"] as? String ?? "")"
      }
      let reply: [String: Any] = [
        "choices": [["index": 0, "message": message]], "usage": ["prompt_tokens": 10, "completion_tokens": 3],
      ]
      let data = (try? JSONSerialization.data(withJSONObject: reply)) ?? Data()
      return .json(String(decoding: data, as: UTF8.self))
    }
    return (
      server,
      { server.requests.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] } }
    )
  }

  func loopSuite(_ box: Sandbox, url: String, maxTurns: Int, conditions: String = "") {
    box.write(
      "suite.yaml",
      """
      name: loop
      trials: 1
      agent:
        http:
          openai: { base_url: "\(url)/v1", model: scripted }
          tool_loop: { max_turns: \(maxTurns) }
      tools:
        count:
          description: Count.
          input_schema: { type: object, required: [n], properties: { n: { type: integer } } }
          respond: { seen: "{{arguments.n}}" }
        echo: { description: Echo., input_schema: { type: object }, respond: "{{arguments.say}}" }
      tasks:
        - id: t
          input: go
          expect:
            - tool_sequence: [count, echo, count, echo]
      \(conditions)
      """)
  }

  @Test func theToolLoopHandsTheModelEachFaultAsAnErrorMessage() async throws {
    let (server, bodies) = try await scriptedModel(turns: 2)
    let box = Sandbox()
    loopSuite(
      box, url: server.baseURL, maxTurns: 5,
      conditions: """
        conditions:
          flaky:
            faults:
              - { kind: unavailable, tools: [count], on_call: 1 }
              - { kind: protocol_error, tools: [echo], on_call: 1 }
        """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let trial = try probeResult(box).trial
    #expect(trial.condition == "flaky")
    #expect(trial.toolCalls.map(\.fault) == ["unavailable", "protocol_error", nil, nil])
    let second = bodies()[1]["messages"] as? [[String: Any]] ?? []
    #expect(second[2]["content"] as? String == "error: 503 Service Unavailable")
    #expect(second[3]["content"] as? String == "error: JSON-RPC error -32603: Internal error")
  }

  @Test func theToolLoopRunsTheModelsCallsTurnAfterTurnAndSumsUsage() async throws {
    let (server, bodies) = try await scriptedModel(turns: 2)
    let box = Sandbox()
    loopSuite(box, url: server.baseURL, maxTurns: 5)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let trial = try probeResult(box).trial
    #expect(trial.status == .pass, "\(trial.error ?? "") \(trial.grades)")
    #expect(trial.outputJSON == #""last tool said: hi""#)
    #expect(trial.inputTokens == 30 && trial.outputTokens == 9, "three turns' usage")
    #expect(trial.toolCalls.map(\.tool) == ["count", "echo", "count", "echo"])
    #expect(trial.toolCalls[2].arguments == .object(["n": .number(1)]))
    // Every turn carried the tools; the second turn carried the first turn's results as tool messages.
    let sent = bodies()
    #expect(sent.count == 3)
    #expect(sent.allSatisfy { ($0["tools"] as? [[String: Any]])?.count == 2 })
    let second = sent[1]["messages"] as? [[String: Any]] ?? []
    #expect(second.map { $0["role"] as? String } == ["user", "assistant", "tool", "tool"])
    #expect(second[2]["tool_call_id"] as? String == "c0a")
    #expect(second[2]["content"] as? String == #"{"seen":0}"#)
  }

  @Test func aModelThatNeverAnswersWithinMaxTurnsIsAContractError() async throws {
    let (server, bodies) = try await scriptedModel(turns: 100)
    let box = Sandbox()
    loopSuite(box, url: server.baseURL, maxTurns: 3)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let trial = try probeResult(box).trial
    #expect(trial.status == .error && trial.errorKind == .contract)
    #expect(trial.error?.contains("within 3 turns") == true, "\(trial.error ?? "")")
    #expect(bodies().count == 3)
    #expect(trial.toolCalls.count == 6)
  }

  @Test func anMCPServerWrittenWithTheOfficialSDKIsServedPerTrialThroughEvalh() async throws {
    let box = Sandbox()
    let calls = """
      [{tool: find_customer, arguments: {customer_id: c1}},
       {tool: update_city, arguments: {customer_id: c1, city: Oslo}},
       {tool: find_customer, arguments: {customer_id: c1}},
       {tool: update_city, arguments: {customer_id: 7}},
       {tool: secret_admin_tool, arguments: {}}]
      """
    box.write(
      "suite.yaml",
      """
      name: proxied
      trials: 3
      concurrency: 3
      timeout: 180s
      agent: { subprocess: { command: [\(pythonWithMCP), \(mcpProbe)] } }
      mcp_servers:
        crm:
          command: [\(pythonWithMCP), \(packageRoot)/Tests/Clients/crm_server.py]
          env: { CRM_DATA_DIR: "{{state_dir}}" }
          tools: [find_customer, update_city]
      tasks:
        - id: t
          input: { calls: \(calls), claims: [] }
          expect:
            - tool_result: { call: find_customer, arguments: { customer_id: c1 }, path: "$.city", equals: Oslo }
              name: moved
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: try store.resolve("latest").id, taskID: "t")
    #expect(trials.count == 3)
    for trial in trials {
      #expect(trial.status == .pass, "\(trial.error ?? "") \(trial.grades)")
      let output = try parseJSON(trial.outputJSON ?? "{}")
      let tools = (output["tools"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
      #expect(tools == ["find_customer", "update_city"], "only the listed tools are served")
      let seen = output["calls"] as? [[String: Any]] ?? []
      try #require(seen.count == 5)
      #expect((seen[0]["structured"] as? [String: Any])?["city"] as? String == "Paris")
      // One server per trial: every trial's first write is its server's first.
      #expect((seen[1]["structured"] as? [String: Any])?["writes"] as? Int == 1)
      #expect((seen[2]["structured"] as? [String: Any])?["city"] as? String == "Oslo")
      #expect(seen[3]["is_error"] as? Bool == true, "arguments off the server's own schema are refused by evalh")
      #expect(seen[4]["rpc_error"] as? Int == -32602)
      #expect(trial.toolCalls.map(\.problem?.rawValue) == [nil, nil, nil, "invalid_arguments", "unknown_tool"])
      // The server's result as graders see it: its structuredContent.
      #expect(trial.toolCalls[0].result?["name"] == .string("Ada"))
    }
  }

  @Test func aServerThatForksAndHangsIsAToolErrorAndLeavesNoProcess() async throws {
    let box = Sandbox()
    let marker = "stuck-" + UUID().uuidString
    box.write(
      "suite.yaml",
      """
      name: stuck
      trials: 2
      timeout: 2s
      agent: { subprocess: { command: [sh, -c, 'cat > /dev/null; echo "{\\"output\\": 1}"'] } }
      mcp_servers:
        stuck: { command: [\(packageRoot)/Tests/Clients/stuck_server.sh, \(marker)] }
      tasks:
        - { id: t, input: x, expect: [{ equals: 1 }] }
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: try store.resolve("latest").id)
    #expect(trials.count == 2)
    #expect(trials.allSatisfy { $0.status == .error && $0.errorKind == .tool }, "\(trials.map(\.error))")
    #expect(
      trials.first?.error?.contains("did not start and list its tools within 2 s") == true, "\(trials.map(\.error))")
    let left = processes(containing: marker)
    #expect(left.isEmpty, "left running: \(left)")
  }

  @Test func aStreamableHTTPServerIsReachedThroughEvalhToo() async throws {
    let box = Sandbox()
    let port = 20_000 + Int.random(in: 0..<20_000)
    let server = Process()
    server.executableURL = URL(fileURLWithPath: pythonWithMCP)
    server.arguments = [packageRoot + "/Tests/Clients/crm_server.py", "--http", String(port)]
    server.environment = ProcessInfo.processInfo.environment.merging(["CRM_DATA_DIR": box.path]) { _, new in new }
    server.standardError = FileHandle.nullDevice
    server.standardOutput = FileHandle.nullDevice
    try server.run()
    defer { server.terminate() }
    // Ready when it accepts a connection.
    for _ in 0..<300 where !canConnect(port: port) { try await Task.sleep(for: .milliseconds(100)) }
    box.write(
      "suite.yaml",
      """
      name: remote
      trials: 1
      timeout: 120s
      agent: { subprocess: { command: [\(pythonWithMCP), \(mcpProbe)] } }
      mcp_servers:
        crm: { url: "http://127.0.0.1:\(port)/mcp", tools: [find_customer] }
      tasks:
        - id: t
          input: { calls: [{tool: find_customer, arguments: {customer_id: c1}}], claims: [] }
          expect:
            - tool_called: { name: find_customer }
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let (output, trial) = try probeResult(box)
    #expect(trial.status == .pass, "\(trial.error ?? "")")
    let seen = output["calls"] as? [[String: Any]] ?? []
    #expect((seen.first?["structured"] as? [String: Any])?["name"] as? String == "Ada", "\(output)")
    #expect(trial.toolCalls.map(\.tool) == ["find_customer"])
    #expect(out.stdout.contains("note: MCP server crm served every trial (a URL server is shared"), "\(out.stdout)")
  }
}

/// Whether something listens on 127.0.0.1:`port`.
func canConnect(port: Int) -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = in_port_t(UInt16(port).bigEndian)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let result = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
  }
  return result == 0
}

/// Command lines of running processes that contain `text`.
func processes(containing text: String) -> [String] {
  let fm = FileManager.default
  return ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid -> String? in
    guard Int(pid) != nil, let data = fm.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
    let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    return line.contains(text) ? "\(pid): \(line)" : nil
  }
}
