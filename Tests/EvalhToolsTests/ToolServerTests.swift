import EvalhCore
import Foundation
import MCP
import Testing

@testable import EvalhTools

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A plain HTTP request to the tool server: status and body.
func send(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, JSONValue?) {
  var request = URLRequest(url: try #require(URL(string: url)))
  request.httpMethod = method
  if let body {
    request.httpBody = Data(body.utf8)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
  }
  let (data, response) = try await URLSession.shared.data(for: request)
  return ((response as? HTTPURLResponse)?.statusCode ?? 0, JSONValue.parse(data))
}

func lookupTools() throws -> [ToolSpec] {
  [
    try tool(
      "lookup", input: #"{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}"#,
      .cases([ToolCase(when: try json(#"{"id":"1"}"#), result: try json(#"{"id":"1","ok":true}"#))])),
    try tool("ping", .respond(.string("pong"))),
  ]
}

@Suite struct ToolServerTests {
  @Test func plainJSONListsAndCallsTheTrialsTools() async throws {
    let server = try await ToolServer()
    let (tools, _) = try trialTools(try lookupTools())
    let access = server.open(tools)
    let (status, list) = try await send("GET", access.url)
    #expect(status == 200)
    #expect(list?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } == ["lookup", "ping"])
    #expect(list?.arrayValue?.first?["type"] == .string("function"))
    #expect(list?.arrayValue?.first?["function"]?["parameters"]?["required"] == .array([.string("id")]))
    let ok = try await send("POST", access.url + "/lookup", body: #"{"id":"1"}"#)
    let expected = try json(#"{"result":{"id":"1","ok":true}}"#)
    #expect(ok.0 == 200 && ok.1 == expected)
    let invalid = try await send("POST", access.url + "/lookup", body: #"{"id":1}"#)
    #expect(invalid.0 == 200 && invalid.1?["error"]?.stringValue?.contains("invalid arguments") == true)
    let unknown = try await send("POST", access.url + "/nope", body: "{}")
    #expect(unknown.0 == 200 && unknown.1?["error"]?.stringValue?.contains("unknown tool 'nope'") == true)
    let notJSON = try await send("POST", access.url + "/ping", body: "{nope")
    #expect(notJSON.0 == 400)
    await server.close(access)
    #expect(tools.close().calls.map(\.tool) == ["lookup", "lookup", "nope"])
    await server.shutdown()
  }

  @Test func anotherTrialsTokenAGuessOrAnEndedTrialIsRefusedAndNotRecorded() async throws {
    let server = try await ToolServer()
    let (mine, _) = try trialTools(try lookupTools())
    let (theirs, _) = try trialTools(try lookupTools())
    let a = server.open(mine)
    let b = server.open(theirs)
    #expect(a.token != b.token && a.token.count == 32)
    // B's token reaches B's tools only.
    #expect(try await send("POST", b.url + "/ping", body: "{}").0 == 200)
    let guessed = a.url.replacingOccurrences(of: a.token, with: String(repeating: "0", count: 32))
    #expect(try await send("POST", guessed + "/ping", body: "{}").0 == 404)
    await server.close(a)
    #expect(try await send("POST", a.url + "/ping", body: "{}").0 == 404)
    #expect(try await send("GET", a.url).0 == 404)
    #expect(mine.close().calls.isEmpty)
    #expect(theirs.close().calls.count == 1)
    await server.shutdown()
  }

  @Test func theSwiftSDKClientSpeaksMCPToIt() async throws {
    let server = try await ToolServer()
    let (tools, _) = try trialTools(try lookupTools())
    let access = server.open(tools)
    let client = Client(name: "test", version: "1")
    let initialized = try await client.connect(
      transport: HTTPClientTransport(endpoint: try #require(URL(string: access.mcpURL)), streaming: false))
    #expect(initialized.serverInfo.name == "evalh")
    #expect(initialized.capabilities.tools != nil)
    let listed = try await client.listTools().tools
    #expect(listed.map(\.name) == ["lookup", "ping"])
    #expect(listed[0].inputSchema.objectValue?["required"] == .array([.string("id")]))
    let (content, isError) = try await client.callTool(name: "lookup", arguments: ["id": .string("1")])
    #expect(isError != true)
    #expect(content.contains { if case .text(let t, _, _) = $0 { t.contains(#""ok":true"#) } else { false } })
    let (_, refused) = try await client.callTool(name: "lookup", arguments: ["id": .int(1)])
    #expect(refused == true)
    await #expect(throws: MCPError.self) { _ = try await client.callTool(name: "nope", arguments: [:]) }
    await client.disconnect()
    await server.close(access)
    #expect(tools.close().calls.map(\.problem) == [nil, .invalidArguments, .unknownTool])
    await server.shutdown()
  }
}

@Suite struct MCPFastPathTests {
  /// A tools/call POST as a client sends it.
  func post(_ body: String, headers: [String: String] = [:]) -> ToolHTTPRequest {
    var all = [
      "Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Host": "127.0.0.1:1",
    ]
    all.merge(headers) { _, new in new }
    return ToolHTTPRequest(method: "POST", path: "/t/x/mcp", headers: all, body: Array(body.utf8))
  }

  @Test(arguments: [
    #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup","arguments":{"id":"1"}}}"#,
    #"{"jsonrpc":"2.0","id":"s-2","method":"tools/call","params":{"name":"lookup","arguments":{"id":1}}}"#,
    #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
    #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"ping"}}"#,
  ])
  func toolsCallAnswersExactlyAsTheSDKServerDoes(body: String) async throws {
    let (fastTools, _) = try trialTools(try lookupTools())
    let (sdkTools, _) = try trialTools(try lookupTools())
    let fast = try #require(await MCPSession.fastToolsCall(post(body), tools: fastTools))
    let session = MCPSession(tools: sdkTools)
    let sdk = await session.handle(post(body))
    await session.stop()
    #expect(fast.status == sdk.status)
    let a = JSONValue.parse(String(decoding: fast.body, as: UTF8.self))
    let b = JSONValue.parse(String(decoding: sdk.body, as: UTF8.self))
    #expect(
      a != nil && a == b,
      "fast: \(String(decoding: fast.body, as: UTF8.self))\nsdk:  \(String(decoding: sdk.body, as: UTF8.self))")
    #expect(fastTools.close().calls.map(\.problem) == sdkTools.close().calls.map(\.problem))
  }

  @Test func theSDKsChecksStillApplyAndOtherMethodsGoToTheSDK() async throws {
    let (tools, _) = try trialTools(try lookupTools())
    let call = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping"}}"#
    let rebinding = await MCPSession.fastToolsCall(post(call, headers: ["Origin": "http://evil.example"]), tools: tools)
    #expect(rebinding.map { $0.status >= 400 } == true)
    let wrongHost = await MCPSession.fastToolsCall(post(call, headers: ["Host": "evil.example"]), tools: tools)
    #expect(wrongHost.map { $0.status >= 400 } == true)
    let noJSON = await MCPSession.fastToolsCall(post(call, headers: ["Accept": "text/html"]), tools: tools)
    #expect(noJSON.map { $0.status >= 400 } == true)
    #expect(tools.close().calls.isEmpty, "refused calls are not served")
    let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
    let (other, _) = try trialTools(try lookupTools())
    #expect(await MCPSession.fastToolsCall(post(list), tools: other) == nil)
  }

  @Test(arguments: ["2025-11-25", "2025-06-18", "2025-03-26"])
  func eachProtocolRevisionIsNegotiated(version: String) async throws {
    let (tools, _) = try trialTools(try lookupTools())
    let session = MCPSession(tools: tools)
    let initialize =
      #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
    let answer = await session.handle(post(initialize))
    let result = JSONValue.parse(String(decoding: answer.body, as: UTF8.self))?["result"]
    #expect(result?["protocolVersion"] == .string(version))
    #expect(result?["serverInfo"]?["name"] == .string("evalh"))
    // Later requests carry the revision in their header.
    let list = await session.handle(
      post(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, headers: ["MCP-Protocol-Version": version]))
    let names = JSONValue.parse(String(decoding: list.body, as: UTF8.self))?["result"]?["tools"]?.arrayValue?
      .compactMap { $0["name"]?.stringValue }
    #expect(names == ["lookup", "ping"])
    await session.stop()
  }
}
