import EvalhCore
import Foundation
import Testing

@testable import EvalhTools

/// A trial's tools over `specs`, with a state file holding `state` when given.
func trialTools(_ specs: [ToolSpec], state: String? = nil) throws -> (TrialTools, String) {
  let dir = NSTemporaryDirectory() + "evalh-tools-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  var statePath: String?
  if let state {
    statePath = dir + "/state.json"
    try state.write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
  }
  let context = CallContext(task: "t", trial: 1, seed: 7, statePath: statePath, stateDir: dir)
  return (TrialTools(tools: specs, context: context), dir)
}

func schema(_ json: String) throws -> JSONSchema {
  try JSONSchema(try #require(JSONValue.parse(json)))
}

func tool(_ name: String, input: String = #"{"type":"object"}"#, output: String? = nil, _ handler: ToolHandler)
  throws -> ToolSpec
{
  ToolSpec(
    name: name, description: name, inputSchema: try schema(input), outputSchema: try output.map(schema),
    handler: handler)
}

func json(_ text: String) throws -> JSONValue { try #require(JSONValue.parse(text)) }

/// A shell script as a `run` handler.
func script(_ body: String) throws -> [String] {
  let path = NSTemporaryDirectory() + "evalh-handler-" + UUID().uuidString + ".sh"
  try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  chmod(path, 0o755)
  return [path]
}

@Suite struct CallPathTests {
  /// Every keyword evalh's JSON Schema supports, with a call that breaks it.
  static let keywordCases: [(keyword: String, schema: String, bad: String)] = [
    ("type", #"{"type":"object","properties":{"a":{"type":"integer"}}}"#, #"{"a":1.5}"#),
    ("enum", #"{"type":"object","properties":{"a":{"enum":["x","y"]}}}"#, #"{"a":"z"}"#),
    ("const", #"{"type":"object","properties":{"a":{"const":3}}}"#, #"{"a":4}"#),
    ("properties", #"{"type":"object","properties":{"a":{"type":"string"}}}"#, #"{"a":true}"#),
    ("required", #"{"type":"object","required":["a"]}"#, #"{}"#),
    ("additionalProperties", #"{"type":"object","additionalProperties":false}"#, #"{"b":1}"#),
    ("items", #"{"type":"object","properties":{"a":{"items":{"type":"number"}}}}"#, #"{"a":["x"]}"#),
    (
      "prefixItems", #"{"type":"object","properties":{"a":{"prefixItems":[{"type":"string"}]}}}"#, #"{"a":[1]}"#
    ),
    ("minItems", #"{"type":"object","properties":{"a":{"minItems":2}}}"#, #"{"a":[1]}"#),
    ("maxItems", #"{"type":"object","properties":{"a":{"maxItems":1}}}"#, #"{"a":[1,2]}"#),
    ("uniqueItems", #"{"type":"object","properties":{"a":{"uniqueItems":true}}}"#, #"{"a":[1,1]}"#),
    ("minLength", #"{"type":"object","properties":{"a":{"minLength":3}}}"#, #"{"a":"ab"}"#),
    ("maxLength", #"{"type":"object","properties":{"a":{"maxLength":1}}}"#, #"{"a":"ab"}"#),
    ("pattern", #"{"type":"object","properties":{"a":{"pattern":"^[0-9]+$"}}}"#, #"{"a":"12x"}"#),
    ("minimum", #"{"type":"object","properties":{"a":{"minimum":1}}}"#, #"{"a":0}"#),
    ("maximum", #"{"type":"object","properties":{"a":{"maximum":1}}}"#, #"{"a":2}"#),
    ("exclusiveMinimum", #"{"type":"object","properties":{"a":{"exclusiveMinimum":1}}}"#, #"{"a":1}"#),
    ("exclusiveMaximum", #"{"type":"object","properties":{"a":{"exclusiveMaximum":1}}}"#, #"{"a":1}"#),
    ("multipleOf", #"{"type":"object","properties":{"a":{"multipleOf":0.5}}}"#, #"{"a":0.7}"#),
    ("allOf", #"{"type":"object","allOf":[{"required":["a"]},{"required":["b"]}]}"#, #"{"a":1}"#),
    ("anyOf", #"{"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]}"#, #"{"c":1}"#),
    ("oneOf", #"{"type":"object","oneOf":[{"required":["a"]},{"required":["b"]}]}"#, #"{"a":1,"b":2}"#),
    ("not", #"{"type":"object","not":{"required":["a"]}}"#, #"{"a":1}"#),
    (
      "$ref", ##"{"type":"object","properties":{"a":{"$ref":"#/$defs/n"}},"$defs":{"n":{"type":"number"}}}"##,
      #"{"a":"x"}"#
    ),
  ]

  @Test func everySupportedKeywordRefusesABreakingCall() async throws {
    // The list covers the whole supported set (but `$defs`, which only holds what `$ref` names).
    #expect(Set(Self.keywordCases.map(\.keyword)) == JSONSchema.supported.subtracting(["$defs"]))
    for (keyword, input, bad) in Self.keywordCases {
      let (tools, _) = try trialTools([try tool("f", input: input, .respond(.string("ok")))])
      let answer = await tools.call("f", arguments: try json(bad))
      guard case .result(let message, isError: true) = answer else {
        Issue.record("\(keyword): a breaking call was answered \(answer)")
        continue
      }
      #expect(message.gradingText.hasPrefix("invalid arguments for 'f'"), "\(keyword): \(message)")
      let end = tools.close()
      #expect(end.calls.first?.problem == .invalidArguments, "\(keyword)")
      #expect(end.failure == nil, "\(keyword): the agent's mistake is not the suite's")
    }
  }

  @Test func casesMatchInOrderByContainmentAndRespondFillsArguments() async throws {
    let lookup = try tool(
      "lookup",
      .cases([
        ToolCase(when: try json(#"{"id":"1","deep":{"x":1}}"#), result: .string("first")),
        ToolCase(when: try json(#"{"id":"1"}"#), result: .string("second")),
        ToolCase(when: nil, result: .string("nothing"), isError: true),
      ]))
    let echo = try tool("echo", .respond(try json(#"{"whole":"{{arguments.n}}","text":"n={{arguments.n}}!"}"#)))
    let (tools, _) = try trialTools([lookup, echo])
    #expect(
      await tools.call("lookup", arguments: try json(#"{"id":"1","deep":{"x":1,"y":2}}"#))
        == .result(.string("first"), isError: false))
    #expect(await tools.call("lookup", arguments: try json(#"{"id":1}"#)) == .result(.string("second"), isError: false))
    #expect(
      await tools.call("lookup", arguments: try json(#"{"id":"2"}"#)) == .result(.string("nothing"), isError: true))
    #expect(
      await tools.call("echo", arguments: try json(#"{"n":42}"#))
        == .result(try json(#"{"whole":42,"text":"n=42!"}"#), isError: false))
    guard case .unknownTool = await tools.call("nope", arguments: .object([:])) else {
      Issue.record("an unknown tool was answered")
      return
    }
    let end = tools.close()
    #expect(end.calls.map(\.seq) == [1, 2, 3, 4, 5])
    #expect(end.calls.map(\.problem) == [nil, nil, nil, nil, .unknownTool])
    // After the trial: refused, not recorded.
    guard case .unknownTool = await tools.call("echo", arguments: .object([:])) else {
      Issue.record("a call after the trial ended was answered")
      return
    }
    #expect(tools.close().calls.count == 5)
  }

  @Test func aRunHandlerGetsTheCallAndRewritesTheState() async throws {
    let argv = try script(
      #"""
      call=$(cat)
      echo "$call" > "$EVALH_STATE_DIR/last-call.json"
      n=$(cat "$EVALH_STATE")
      echo $((n + 1)) > "$EVALH_STATE"
      echo "{\"result\": {\"count\": $((n + 1))}}"
      """#)
    let counter = try tool("bump", .run(argv: argv, cwd: "/", timeout: 5))
    let (tools, dir) = try trialTools([counter], state: "0")
    #expect(
      await tools.call("bump", arguments: try json(#"{"by":1}"#)) == .result(try json(#"{"count":1}"#), isError: false))
    #expect(
      await tools.call("bump", arguments: try json(#"{"by":1}"#)) == .result(try json(#"{"count":2}"#), isError: false))
    let call = try json(try String(contentsOfFile: dir + "/last-call.json", encoding: .utf8))
    #expect(call["tool"] == .string("bump"))
    #expect(call["call"] == .number(2))
    #expect(call["task"] == .string("t"))
    #expect(call["trial"] == .number(1))
    #expect(call["seed"] == .number(7))
    #expect(call["state"] == .string(dir + "/state.json"))
    #expect(call["arguments"] == (try json(#"{"by":1}"#)))
    #expect(tools.close().failure == nil)
  }

  @Test(arguments: [
    ("exit 3", "exited 3"), ("kill -9 $$", "killed by SIGKILL"), ("sleep 30", "no answer within"),
    ("echo 'not json at all'", "not {\"result\""), ("echo '{\"result\": 1, \"extra\": 2}'", "exactly one"),
  ])
  func aBrokenHandlerIsTheSuitesFault(body: String, expected: String) async throws {
    let broken = try tool("broken", .run(argv: try script("cat > /dev/null\n" + body), cwd: "/", timeout: 1))
    let (tools, _) = try trialTools([broken])
    guard case .result(let message, isError: true) = await tools.call("broken", arguments: .object([:])) else {
      Issue.record("a broken handler's call was not an error")
      return
    }
    // A hanging handler says "no answer within": it was ended at its timeout (no timing asserted: shared machines).
    #expect(message.gradingText.contains(expected), "\(message)")
    let end = tools.close()
    #expect(end.calls.first?.problem == .handlerFailed)
    #expect(end.failure?.contains(expected) == true, "\(end.failure ?? "nil")")
  }

  @Test func aHandlerErrorIsTheAgentsToSeeNotAFailure() async throws {
    let refusing = try tool(
      "refuse", .run(argv: try script(#"cat > /dev/null; echo '{"error": "out of stock"}'"#), cwd: "/", timeout: 5))
    let (tools, _) = try trialTools([refusing])
    #expect(await tools.call("refuse", arguments: .object([:])) == .result(.string("out of stock"), isError: true))
    let end = tools.close()
    #expect(end.failure == nil)
    #expect(end.calls.first?.problem == nil)
  }

  @Test func aResultOffItsOutputSchemaIsAToolError() async throws {
    let off = try tool(
      "off", output: #"{"type":"object","required":["price"]}"#,
      .run(argv: try script(#"cat > /dev/null; echo '{"result": {"name": "x"}}'"#), cwd: "/", timeout: 5))
    let (tools, _) = try trialTools([off])
    guard case .result(let message, isError: true) = await tools.call("off", arguments: .object([:])) else {
      Issue.record("a result off its schema reached the agent as a result")
      return
    }
    #expect(message.gradingText.contains("output_schema"))
    let end = tools.close()
    #expect(end.calls.first?.problem == .invalidResult)
    #expect(end.failure != nil)
  }

  @Test func concurrentCallsRunOneAtATimeInArrivalOrder() async throws {
    // Each call appends to the state after a pause: interleaved handlers would lose writes.
    let argv = try script(
      #"""
      cat > /dev/null
      n=$(cat "$EVALH_STATE"); sleep 0.05; echo $((n + 1)) > "$EVALH_STATE"
      echo "{\"result\": $((n + 1))}"
      """#)
    let (tools, dir) = try trialTools([try tool("inc", .run(argv: argv, cwd: "/", timeout: 5))], state: "0")
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<8 { group.addTask { _ = await tools.call("inc", arguments: .object([:])) } }
    }
    #expect(
      try String(contentsOfFile: dir + "/state.json", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        == "8")
    let end = tools.close()
    #expect(end.calls.map(\.seq) == Array(1...8))
    #expect(end.calls.compactMap(\.result?.numberValue) == (1...8).map(Double.init))
  }
}
