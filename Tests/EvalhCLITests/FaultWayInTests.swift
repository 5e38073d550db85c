import EvalhCore
import EvalhStore
import Foundation
import GRDB
import Testing

/// Each fault kind reaches the official MCP Python client as tools.md's table says, over Streamable
/// HTTP and through `evalh mcp-stdio`, and is recorded on the call it fired on.
@Suite struct FaultWayInTests {
  /// One condition per kind, each firing on the first `lookup`; on `echo` for the kinds that mangle a
  /// result (`lookup` has an output schema, which the Python client enforces: it refuses such a
  /// result itself), on `sell` for lost_response.
  static let conditions = """
    conditions:
      unavailable: { faults: [{ kind: unavailable, tools: [lookup], on_call: 1 }] }
      rate_limit: { faults: [{ kind: rate_limit, tools: [lookup], on_call: 1, retry_after: 2s }] }
      timeout: { faults: [{ kind: timeout, tools: [lookup], on_call: 1, after: 400ms }] }
      latency: { faults: [{ kind: latency, tools: [lookup], on_call: 1, delay: 400ms }] }
      malformed: { faults: [{ kind: malformed, tools: [echo], on_call: 1 }] }
      empty: { faults: [{ kind: empty, tools: [echo], on_call: 1 }] }
      schema_drift: { faults: [{ kind: schema_drift, tools: ["ech*"], on_call: 1 }] }
      lost_response: { faults: [{ kind: lost_response, tools: [sell], on_call: 1 }] }
      protocol_error: { faults: [{ kind: protocol_error, tools: [lookup], on_call: 1 }] }
    """

  @Test(arguments: [false, true])
  func eachKindReachesTheOfficialClientAsToolsMDSays(stdio: Bool) async throws {
    let box = Sandbox()
    let calls = """
      [{tool: lookup, arguments: {sku: widget}, timeout: 5}, {tool: lookup, arguments: {sku: widget}, timeout: 5},
       {tool: echo, arguments: {note: hi}, timeout: 5}, {tool: echo, arguments: {note: hi}, timeout: 5},
       {tool: sell, arguments: {sku: widget}, timeout: 3}]
      """
    _ = probeSuite(
      box, calls: calls, stdio: stdio, extra: Self.conditions,
      expect: #"      - { state: { path: "$.sold", equals: [widget] }, name: sold-once }"#)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress", "--concurrency", "2"])
    #expect(out.code == 0 || out.code == 1, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let run = try store.resolve("latest")
    #expect(run.plan.conditions.count == FaultKind.allCases.count)
    var seen: [String: [[String: Any]]] = [:]
    var records: [String: TrialRecord] = [:]
    var lostSession: String?
    for kind in FaultKind.allCases {
      let trial = try #require(try store.trials(runID: run.id, condition: kind.rawValue, taskID: "t").first)
      records[kind.rawValue] = trial
      let output = (try? parseJSON(trial.outputJSON ?? "{}")) ?? [:]
      seen[kind.rawValue] = output["calls"] as? [[String: Any]] ?? []
      if kind == .lostResponse { lostSession = output["session_error"] as? String }
      // The fault is on the call it fired on, and on no other.
      let faulted = trial.toolCalls.filter { $0.fault != nil }
      #expect(faulted.map(\.fault) == [kind.rawValue], "\(kind) \(trial.toolCalls)")
      let mangles: Set<FaultKind> = [.malformed, .empty, .schemaDrift]
      #expect(faulted.first?.tool == (kind == .lostResponse ? "sell" : mangles.contains(kind) ? "echo" : "lookup"))
      // The sale happened once in every condition, the lost response's too.
      #expect(trial.grades.first { $0.grader == "sold-once" }?.passed == true, "\(kind) \(trial.grades)")
    }
    func first(_ kind: String) -> [String: Any] { seen[kind]?.first ?? [:] }
    #expect(first("unavailable")["is_error"] as? Bool == true)
    #expect(first("unavailable")["text"] as? String == "503 Service Unavailable")
    #expect(first("rate_limit")["text"] as? String == "429 Too Many Requests, retry after 2 s")
    #expect(first("timeout")["rpc_error"] as? Int == -32001)
    #expect((first("timeout")["seconds"] as? Double ?? 0) >= 0.4)
    #expect(first("latency")["is_error"] as? Bool == false)
    #expect((first("latency")["structured"] as? [String: Any])?["price"] as? Double == 2.5)
    #expect((first("latency")["seconds"] as? Double ?? 0) >= 0.4)
    func echo(_ kind: String) -> [String: Any] { seen[kind].flatMap { $0.count > 2 ? $0[2] : nil } ?? [:] }
    let cut = echo("malformed")["text"] as? String ?? ""
    #expect(!cut.isEmpty && (try? JSONSerialization.jsonObject(with: Data(cut.utf8))) == nil, "\(cut)")
    #expect(echo("malformed")["is_error"] as? Bool == false && echo("malformed")["structured"] is NSNull)
    #expect(echo("empty")["text"] as? String == "" && echo("empty")["is_error"] as? Bool == false)
    let drifted = (echo("schema_drift")["structured"] as? [String: Any]).map { Set($0.keys) }
    #expect(drifted == ["said_v2", "text"] || drifted == ["said", "text_v2"], "\(String(describing: drifted))")
    #expect(first("protocol_error")["rpc_error"] as? Int == -32603)
    // The second call of each tool is clean everywhere.
    for kind in FaultKind.allCases {
      let calls = seen[kind.rawValue] ?? []
      try #require(calls.count >= 4, "\(kind) \(calls)")
      #expect((calls[1]["structured"] as? [String: Any])?["price"] as? Double == 2.5, "\(kind) \(calls[1])")
      #expect((calls[3]["structured"] as? [String: Any])?["said"] as? String == "hi", "\(kind) \(calls[3])")
    }
    // A lost response: the client never gets the sale's answer (its session may break with it).
    let sale = (seen["lost_response"] ?? []).count > 4 ? seen["lost_response"]?[4] ?? [:] : [:]
    #expect(sale["structured"] == nil, "\(sale)")
    #expect(sale["transport_error"] != nil || sale["rpc_error"] != nil || lostSession != nil, "\(sale)")
    #expect(records["lost_response"]?.toolCalls.last?.isError == true)
  }
}
