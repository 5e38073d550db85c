import EvalhCore
import EvalhTools
import Foundation
import LoopbackHTTP

/// tools.md's speed figure: evalh's own time per tool call (fixed-result handler, one keep-alive
/// client, calls one after another), as the p50 round trip through evalh's tool server less the
/// p50 round trip of a bare server answering the same call with the same bytes.
enum ToolCallBench {
  struct Figures {
    var plain: [Double]
    var mcp: [Double]
    var bare: [Double]
    var recorded: Int
  }

  static let result = #"{"order_id":"A100","status":"delivered","total":42.5}"#

  static func measure(calls: Int, folder: String) async throws -> Figures? {
    let spec = ToolSpec(
      name: "lookup_order", description: "Look up an order.",
      inputSchema: try JSONSchema(
        JSONValue.parse(#"{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string"}}}"#)
          ?? .null),
      handler: .respond(JSONValue.parse(result) ?? .null))
    let server = try await ToolServer()
    let tools = TrialTools(
      tools: [spec], context: CallContext(task: "t", trial: 1, seed: 1, statePath: nil, stateDir: folder))
    let access = server.open(tools)
    let answer = Array(#"{"result":\#(result)}"#.utf8)
    let bareServer = try await LoopbackServer(keepRequests: false) { _ in
      .respond(status: 200, headers: [("Content-Type", "application/json")], body: answer)
    }
    defer { Task { await bareServer.shutdown() } }
    let arguments = #"{"order_id":"A100"}"#
    let mcpCall =
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup_order","arguments":\#(arguments)}}"#
    let plainPath = String(access.url.dropFirst("http://127.0.0.1:\(server.port)".count)) + "/lookup_order"
    let mcpPath = String(access.mcpURL.dropFirst("http://127.0.0.1:\(server.port)".count))
    guard let plain = roundTrips(port: server.port, path: plainPath, body: arguments, count: calls),
      let mcp = roundTrips(port: server.port, path: mcpPath, body: mcpCall, count: calls),
      let bare = roundTrips(port: bareServer.port, path: "/tools/lookup_order", body: arguments, count: calls)
    else { return nil }
    await server.close(access)
    let recorded = tools.close().calls.count
    await server.shutdown()
    return Figures(plain: plain, mcp: mcp, bare: bare, recorded: recorded)
  }

  /// Milliseconds per round trip over one keep-alive connection, after a warm-up.
  static func roundTrips(port: Int, path: String, body: String, count: Int) -> [Double]? {
    guard var client = KeepAliveClient(port: port, path: path, body: body) else { return nil }
    defer { client.close() }
    for _ in 0..<200 where !client.roundTrip() { return nil }
    // Every answer is the result, not an error: the figure is of calls that were served.
    guard String(decoding: client.last, as: UTF8.self).contains("delivered") else {
      FileHandle.standardError.write(
        Data("· \(path): \(String(decoding: client.last, as: UTF8.self).prefix(400))\n".utf8))
      return nil
    }
    var times: [Double] = []
    times.reserveCapacity(count)
    for _ in 0..<count {
      let start = Measure.now()
      guard client.roundTrip() else { return nil }
      times.append((Measure.now() - start) * 1000)
    }
    return times
  }
}
