import EvalhCore
import Foundation
import MCP

/// A trial's MCP endpoint: the Swift SDK's server over its stateless Streamable HTTP transport
/// (JSON answers, no SSE). `tools/list` and `tools/call` answer from the trial's tools; the SDK does
/// the JSON-RPC, initialization and version negotiation. Stateless means any client may open as
/// many sessions as it likes (LangChain's adapters open one per call): each `initialize` is
/// answered by a server of its own, everything else by the trial's one lenient server.
actor MCPSession {
  let tools: TrialTools
  private var started: (server: Server, transport: StatelessHTTPServerTransport)?
  private var stopped = false

  init(tools: TrialTools) { self.tools = tools }

  /// The SDK's own checks of a POST, in its transport's order: origin (DNS rebinding), Accept,
  /// Content-Type, protocol version.
  static let validators: [any HTTPRequestValidator] = [
    OriginValidator.localhost(), AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(),
    ProtocolVersionValidator(),
  ]

  /// `tools/call` without the SDK server's message loop: the same checks, the SDK's own request
  /// and response types and encoding, the same handler; nil for anything else (the SDK answers).
  /// The loop hops between threads several times per message, which made a call cost about 1 ms
  /// (docs/performance.md); the hot path stays on the SDK's types, not hand-written JSON-RPC.
  nonisolated static func fastToolsCall(_ request: ToolHTTPRequest, tools: TrialTools) async -> ToolHTTPResponse? {
    guard request.method == "POST",
      let call = try? JSONDecoder().decode(Request<CallTool>.self, from: Data(request.body)),
      call.method == CallTool.name
    else { return nil }
    let sdkRequest = HTTPRequest(
      method: request.method, headers: request.headers, body: Data(request.body), path: request.path)
    let context = HTTPValidationContext(
      httpMethod: "POST", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: Version.supported)
    for validator in validators {
      if let refusal = validator.validate(sdkRequest, context: context) { return convert(refusal) }
    }
    let arguments = JSONValue.object((call.params.arguments ?? [:]).mapValues(MCPShapes.json))
    let response: Response<CallTool>
    let answer = await tools.call(call.params.name, arguments: arguments)
    // `lost_response`: the handler ran; the client gets no answer at all.
    if answer == .connectionLost { return .dropped }
    do {
      response = Response(id: call.id, result: try MCPShapes.result(answer))
    } catch {
      response = Response(id: call.id, error: error)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let body = try? encoder.encode(response) else { return nil }
    return ToolHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body))
  }

  static func convert(_ response: HTTPResponse) -> ToolHTTPResponse {
    ToolHTTPResponse(
      status: response.statusCode, headers: response.headers.map { ($0.key, $0.value) },
      body: response.bodyData.map { Array($0) } ?? [])
  }

  func handle(_ request: ToolHTTPRequest) async -> ToolHTTPResponse {
    guard !stopped else { return .error("the trial has ended", status: 404) }
    let sdkRequest = HTTPRequest(
      method: request.method, headers: request.headers, body: Data(request.body), path: request.path)
    let response: HTTPResponse
    if Self.isInitialize(request.body) {
      guard let (server, transport) = await Self.makeServer(tools) else {
        return .error("the MCP server could not start", status: 500)
      }
      response = await transport.handleRequest(sdkRequest)
      await server.stop()
    } else {
      guard let transport = await transport() else { return .error("the MCP server could not start", status: 500) }
      response = await transport.handleRequest(sdkRequest)
    }
    return Self.convert(response)
  }

  func stop() async {
    stopped = true
    guard let (server, _) = started else { return }
    started = nil
    await server.stop()
  }

  private func transport() async -> StatelessHTTPServerTransport? {
    if let started { return started.transport }
    guard let made = await Self.makeServer(tools) else { return nil }
    started = made
    return made.1
  }

  /// Whether a POST body is a JSON-RPC `initialize` request.
  static func isInitialize(_ body: [UInt8]) -> Bool {
    JSONValue.parse(String(decoding: body, as: UTF8.self))?["method"]?.stringValue == "initialize"
  }

  /// A lenient server (no `initialize` required first) answering from `tools`.
  static func makeServer(_ tools: TrialTools) async -> (Server, StatelessHTTPServerTransport)? {
    let server = Server(
      name: "evalh", version: "1", capabilities: .init(tools: .init(listChanged: false)),
      configuration: .default)
    await server.withMethodHandler(ListTools.self) { _ in
      ListTools.Result(tools: tools.ordered.map(MCPShapes.tool))
    }
    await server.withMethodHandler(CallTool.self) { params in
      let arguments = JSONValue.object((params.arguments ?? [:]).mapValues(MCPShapes.json))
      return try MCPShapes.result(await tools.call(params.name, arguments: arguments))
    }
    let transport = StatelessHTTPServerTransport()
    do {
      try await server.start(transport: transport)
    } catch {
      return nil
    }
    return (server, transport)
  }
}

/// Between evalh's JSON values and the SDK's.
enum MCPShapes {
  static func tool(_ spec: ToolSpec) -> Tool {
    let a = spec.annotations
    return Tool(
      name: spec.name, description: spec.description, inputSchema: value(spec.inputSchema.root),
      annotations: .init(
        readOnlyHint: a.readOnly, destructiveHint: a.destructive, idempotentHint: a.idempotent,
        openWorldHint: a.openWorld),
      outputSchema: spec.outputSchema.map { value($0.root) })
  }

  /// A call's answer as MCP carries it (tools.md's table of faults); errors are JSON-RPC errors.
  static func result(_ answer: ToolAnswer) throws(MCPError) -> CallTool.Result {
    switch answer {
    case .result(let value, let isError): return result(value, isError: isError)
    case .unknownTool(let message): throw .invalidParams(message)
    case .refused(_, let message, _):
      return CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    case .rpcError(let code, let message): throw .serverError(code: code, message: message)
    case .malformed(let text): return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)])
    case .empty: return CallTool.Result(content: [])
    // Only the SDK's own loop gets here (the fast path drops the connection): the nearest it can say.
    case .connectionLost: throw .connectionClosed
    }
  }

  /// An object result is `structuredContent` too; the text content is always the JSON (or the string).
  static func result(_ value: JSONValue, isError: Bool) -> CallTool.Result {
    let text = value.stringValue ?? value.compactText
    let structured: Value? = value.objectValue != nil && !isError ? self.value(value) : nil
    return CallTool.Result(
      content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: structured,
      isError: isError ? true : nil)
  }

  static func value(_ v: JSONValue) -> Value {
    switch v {
    case .null: .null
    case .bool(let b): .bool(b)
    case .number(let n):
      if n.rounded() == n, abs(n) < 9e15 { .int(Int(n)) } else { .double(n) }
    case .string(let s): .string(s)
    case .array(let items): .array(items.map(value))
    case .object(let members): .object(members.mapValues(value))
    }
  }

  static func json(_ v: Value) -> JSONValue {
    switch v {
    case .null: .null
    case .bool(let b): .bool(b)
    case .int(let i): .number(Double(i))
    case .double(let d): .number(d)
    case .string(let s): .string(s)
    case .data(_, let data): .string(data.base64EncodedString())
    case .array(let items): .array(items.map(json))
    case .object(let members): .object(members.mapValues(json))
    }
  }
}
