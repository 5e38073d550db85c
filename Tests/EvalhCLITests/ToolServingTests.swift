import EvalhCore
import EvalhStore
import Foundation
import GRDB
import Testing

/// The Python interpreter of the virtual environment `make test` makes (the official MCP SDK in it).
let pythonWithMCP = packageRoot + "/.build/py/bin/python"
let mcpProbe = packageRoot + "/Tests/Clients/mcp_probe_agent.py"

/// A suite whose one agent is the probe (official MCP Python client) and whose task lists the calls.
func probeSuite(_ box: Sandbox, calls: String, claims: String = "[]", stdio: Bool = false, trials: Int = 1) -> String {
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
    timeout: 30s
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
        assure:
          - honest_steps: true
    """)
  return box.path + "/suite.yaml"
}

/// The probe's output (what the MCP client saw) of the latest run's only trial, and its stored calls.
func probeResult(_ box: Sandbox) throws -> (output: [String: Any], trial: TrialRecord) {
  let store = try ResultStore(path: box.db, create: false)
  let trials = try store.trials(runID: try store.resolve("latest").id, taskID: "t")
  let trial = try #require(trials.first)
  let output = try parseJSON(trial.outputJSON ?? "{}")
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
}
