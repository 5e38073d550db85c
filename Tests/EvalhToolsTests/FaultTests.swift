import EvalhCore
import Foundation
import Testing

@testable import EvalhTools

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A trial's tools under one rule firing on the first call of every tool.
func faultedTools(
  _ kind: FaultKind, after: Double? = nil, delay: Double? = nil, retryAfter: Double? = nil,
  timeout: Double = 60
) throws -> (TrialTools, String) {
  let dir = NSTemporaryDirectory() + "evalh-faults-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  try #"{"count": 0}"#.write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
  let rule = FaultRule(kind: kind, when: .onCall(1), after: after, delay: delay, retryAfter: retryAfter)
  let context = CallContext(
    task: "t", trial: 1, seed: 7, statePath: dir + "/state.json", stateDir: dir,
    faults: FaultPlan(condition: "c", rules: [rule]), runSeed: 42, timeout: timeout)
  let bump = try script(
    #"python3 -c 'import json,sys,os; p=os.environ["EVALH_STATE"]; s=json.load(open(p)); s["count"]+=1; json.dump(s,open(p,"w")); print(json.dumps({"result":{"count":s["count"],"order_id":"A1"}}))'"#
  )
  let specs = [
    try tool("lookup", .respond(try json(#"{"order_id":"A1","total_cents":4250}"#))),
    try tool("bump", .run(argv: bump, cwd: dir, timeout: 30)),
  ]
  return (TrialTools(tools: specs, context: context), dir)
}

/// What a plain HTTP client gets: the status, the headers, the body; or the error of a dropped connection.
/// (Foundation's client on Linux notices a dropped connection only at its timeout, curl and httpx at once.)
func plainCall(_ url: String, _ body: String = "{}", timeout: Double = 30) async -> (
  status: Int, headers: [String: String], body: String
)? {
  guard let address = URL(string: url) else { return nil }
  var request = URLRequest(url: address)
  request.httpMethod = "POST"
  request.httpBody = Data(body.utf8)
  request.timeoutInterval = timeout
  guard let (data, response) = try? await URLSession.shared.data(for: request),
    let http = response as? HTTPURLResponse
  else { return nil }
  var headers: [String: String] = [:]
  for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
  return (http.statusCode, headers, String(decoding: data, as: UTF8.self))
}

@Suite struct FaultTests {
  @Test func eachKindOverPlainJSONAsToolsMDSays() async throws {
    let server = try await ToolServer()
    defer { Task { await server.shutdown() } }
    var seen: [FaultKind: (first: (status: Int, headers: [String: String], body: String)?, second: String?)] = [:]
    for kind in FaultKind.allCases {
      let (tools, _) = try faultedTools(kind, after: 0.2, delay: 0.2, retryAfter: 2)
      let access = server.open(tools)
      let tool = kind == .lostResponse ? "bump" : "lookup"
      let first = await plainCall(access.url + "/" + tool, timeout: kind == .lostResponse ? 2 : 30)
      let second = await plainCall(access.url + "/" + tool)?.body
      seen[kind] = (first, second)
      await server.close(access)
      // Recorded on the first call only: the second is clean.
      let calls = tools.close().calls
      #expect(calls.map(\.fault) == [kind.rawValue, nil], "\(kind)")
    }
    #expect(seen[.unavailable]?.first?.status == 503)
    #expect(seen[.rateLimit]?.first?.status == 429 && seen[.rateLimit]?.first?.headers["retry-after"] == "2")
    #expect(seen[.timeout]?.first?.status == 504)
    #expect(seen[.protocolError]?.first?.status == 500)
    #expect(seen[.latency]?.first?.status == 200)
    #expect(JSONValue.parse(seen[.latency]?.first?.body ?? "")?["result"]?["total_cents"] == .number(4250))
    let cut = try #require(seen[.malformed]?.first)
    #expect(cut.status == 200 && cut.body.hasPrefix(#"{"result":{"#) && JSONValue.parse(cut.body) == nil)
    #expect(JSONValue.parse(seen[.empty]?.first?.body ?? "") == .object(["result": .null]))
    let drifted = JSONValue.parse(seen[.schemaDrift]?.first?.body ?? "")?["result"]?.objectValue
    #expect(drifted?.count == 2 && (drifted?["totalCents"] != nil || drifted?["order_id_v2"] != nil))
    #expect(drifted?["total_cents"] == nil || drifted?["order_id"] == nil)
    // The connection is dropped: no response at all.
    #expect(seen[.lostResponse]?.first == nil)
    // Every second call is answered as if nothing happened.
    for kind in FaultKind.allCases where kind != .lostResponse {
      #expect(JSONValue.parse(seen[kind]?.second ?? "")?["result"]?["order_id"] == .string("A1"), "\(kind)")
    }
  }

  @Test func aLostResponseRanTheHandlerSoARetryWritesTwice() async throws {
    let (tools, dir) = try faultedTools(.lostResponse)
    #expect(await tools.call("bump", arguments: .object([:])) == .connectionLost)
    #expect(
      await tools.call("bump", arguments: .object([:]))
        == .result(try json(#"{"count":2,"order_id":"A1"}"#), isError: false))
    let state = JSONValue.parse(try String(contentsOfFile: dir + "/state.json", encoding: .utf8))
    #expect(state?["count"] == .number(2))
    let calls = tools.close().calls
    // Recorded as the agent met it (an error), with what the handler did.
    #expect(calls[0].isError && calls[0].fault == "lost_response" && calls[0].result?["count"] == .number(1))
  }

  @Test func faultsThatStopACallRunNoHandler() async throws {
    for kind in [FaultKind.unavailable, .rateLimit, .timeout, .protocolError] {
      let (tools, dir) = try faultedTools(kind, after: 0.01)
      _ = await tools.call("bump", arguments: .object([:]))
      let state = JSONValue.parse(try String(contentsOfFile: dir + "/state.json", encoding: .utf8))
      #expect(state?["count"] == .number(0), "\(kind)")
    }
  }

  @Test func aTimeoutIsBoundedByTheTrialsTimeout() async throws {
    let (tools, _) = try faultedTools(.timeout, after: 600, timeout: 0.3)
    let clock = ContinuousClock()
    let started = clock.now
    let answer = await tools.call("lookup", arguments: .object([:]))
    #expect(answer == .rpcError(code: -32001, message: "Request timed out after 300 ms"))
    // Well under the rule's 600 s: the trial's 0.3 s bounds it.
    #expect(clock.now - started < .seconds(60))
  }

  @Test func callsOutsideTheTrajectoryMeetNoFault() async throws {
    let (tools, _) = try faultedTools(.unavailable)
    let (answer, problem) = await tools.callOutsideTrajectory("lookup", arguments: .object([:]))
    #expect(problem == nil && answer == .result(try json(#"{"order_id":"A1","total_cents":4250}"#), isError: false))
    // ... and do not use up the first call: the agent's first call still meets it.
    #expect(
      await tools.call("lookup", arguments: .object([:]))
        == .refused(status: 503, message: "503 Service Unavailable", retryAfter: nil))
  }

  @Test func theToolLoopSeesEachFaultAsText() {
    #expect(
      ToolAnswer.refused(status: 429, message: "429 Too Many Requests, retry after 1s", retryAfter: 1).asResult.isError)
    #expect(
      ToolAnswer.rpcError(code: -32603, message: "Internal error").asResult.result
        == .string("JSON-RPC error -32603: Internal error"))
    #expect(ToolAnswer.malformed(#"{"a":"#).asResult == (.string(#"{"a":"#), false))
    #expect(ToolAnswer.empty.asResult == (.string(""), false))
    #expect(ToolAnswer.connectionLost.asResult.isError)
  }
}
