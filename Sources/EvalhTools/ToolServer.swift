import EvalhCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The run's tool server on 127.0.0.1: one port, an endpoint per trial under an unguessable
/// token. `/t/TOKEN/mcp` speaks MCP over Streamable HTTP; `/t/TOKEN/tools` and
/// `/t/TOKEN/tools/NAME` speak plain JSON. A token that is not open (another run's, a guess, a
/// trial that ended) gets 404 and nothing is recorded.
public final class ToolServer: Sendable {
  let channel: any Channel
  let endpoints: Endpoints

  /// The open trials, by token.
  final class Endpoints: Sendable {
    let open = Mutex<[String: Endpoint]>([:])
    subscript(token: String) -> Endpoint? { open.withLock { $0[token] } }
  }

  /// One trial's way in.
  struct Endpoint: Sendable {
    let tools: TrialTools
    let mcp: MCPSession
  }

  /// What a trial's agent is told.
  public struct Access: Sendable {
    /// The token in the trial's paths.
    public let token: String
    /// MCP over Streamable HTTP.
    public let mcpURL: String
    /// Plain JSON: `GET` lists, `POST …/NAME` calls.
    public let url: String
  }

  /// The largest request body accepted.
  static let maxBody = 8 << 20

  /// The port it listens on.
  public var port: Int { channel.localAddress?.port ?? 0 }

  /// Starts listening on 127.0.0.1, any free port.
  public init() async throws {
    let endpoints = Endpoints()
    self.endpoints = endpoints
    channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 512)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(ToolRequestHandler(endpoints: endpoints))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
  }

  /// Opens a trial's endpoint.
  public func open(_ tools: TrialTools) -> Access {
    let token = Self.newToken()
    endpoints.open.withLock { $0[token] = Endpoint(tools: tools, mcp: MCPSession(tools: tools)) }
    let base = "http://127.0.0.1:\(port)/t/\(token)"
    return Access(token: token, mcpURL: base + "/mcp", url: base + "/tools")
  }

  /// Closes a trial's endpoint: later calls with its token are refused.
  public func close(_ access: Access) async {
    let endpoint = endpoints.open.withLock { $0.removeValue(forKey: access.token) }
    await endpoint?.mcp.stop()
  }

  /// Stops listening.
  public func shutdown() async {
    try? await channel.close()
    let all = endpoints.open.withLock { open in
      defer { open.removeAll() }
      return Array(open.values)
    }
    for endpoint in all { await endpoint.mcp.stop() }
  }

  /// 128 random bits as hex.
  static func newToken() -> String {
    var g = SystemRandomNumberGenerator()
    return (0..<2).map { _ in String(g.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}

/// A request as the routes see it.
struct ToolHTTPRequest: Sendable {
  var method: String
  var path: String
  var headers: [String: String]
  var body: [UInt8]
}

/// A response for the NIO handler to write.
struct ToolHTTPResponse: Sendable {
  var status: Int
  var headers: [(String, String)] = [("Content-Type", "application/json")]
  var body: [UInt8]
  /// Close the connection without answering (`lost_response`).
  var dropsConnection = false

  /// No answer: the connection is closed.
  static let dropped = ToolHTTPResponse(status: 500, headers: [], body: [], dropsConnection: true)

  static func json(_ value: JSONValue, status: Int = 200) -> ToolHTTPResponse {
    ToolHTTPResponse(status: status, body: Array(value.compactText.utf8))
  }

  static func error(_ message: String, status: Int) -> ToolHTTPResponse {
    .json(.object(["error": .string(message)]), status: status)
  }
}

/// Reads one request, routes it, writes the answer; keep-alive and pipelining as NIO's HTTP server does.
final class ToolRequestHandler: ChannelInboundHandler, @unchecked Sendable {
  // Only touched on the channel's event loop.
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  let endpoints: ToolServer.Endpoints
  private var head: HTTPRequestHead?
  private var body: [UInt8] = []
  private var tooLarge = false

  init(endpoints: ToolServer.Endpoints) { self.endpoints = endpoints }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let h):
      head = h
      body.removeAll(keepingCapacity: true)
      tooLarge = false
    case .body(let buffer):
      if body.count + buffer.readableBytes > ToolServer.maxBody {
        tooLarge = true
      } else {
        body += buffer.readableBytesView
      }
    case .end:
      guard let head else { return }
      self.head = nil
      let keepAlive = head.isKeepAlive
      if tooLarge {
        write(.error("request body larger than \(ToolServer.maxBody) bytes", status: 413), head, keepAlive, context)
        return
      }
      var headers: [String: String] = [:]
      for (name, value) in head.headers {
        headers[name] = headers[name].map { $0 + ", " + value } ?? value
      }
      let request = ToolHTTPRequest(
        method: head.method.rawValue, path: String(head.uri.split(separator: "?").first ?? ""), headers: headers,
        body: body)
      let endpoints = self.endpoints
      let loop = context.eventLoop
      nonisolated(unsafe) let context = context
      Task {
        let response = await ToolRoutes.answer(request, endpoints: endpoints)
        loop.execute {
          if response.dropsConnection {
            context.close(promise: nil)
          } else {
            self.write(response, head, keepAlive, context)
          }
        }
      }
    }
  }

  func write(_ response: ToolHTTPResponse, _ head: HTTPRequestHead, _ keepAlive: Bool, _ context: ChannelHandlerContext)
  {
    var headers = HTTPHeaders(response.headers)
    headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
    if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
    let responseHead = HTTPResponseHead(
      version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
    context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
    var buffer = context.channel.allocator.buffer(capacity: response.body.count)
    buffer.writeBytes(response.body)
    context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    let done = context.writeAndFlushWithPromise(wrapOutboundOut(.end(nil)))
    if !keepAlive {
      let channel = context.channel
      done.whenComplete { _ in channel.close(promise: nil) }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}

extension ChannelHandlerContext {
  func writeAndFlushWithPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
    let promise = eventLoop.makePromise(of: Void.self)
    writeAndFlush(data, promise: promise)
    return promise.futureResult
  }
}

/// The routes: which trial, then MCP or plain JSON.
enum ToolRoutes {
  static func answer(_ request: ToolHTTPRequest, endpoints: ToolServer.Endpoints) async -> ToolHTTPResponse {
    let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    guard parts.count >= 3, parts[0] == "t", let endpoint = endpoints[parts[1]] else {
      return .error("no such trial endpoint (a wrong token, or the trial has ended)", status: 404)
    }
    switch (parts[2], parts.count) {
    case ("mcp", 3):
      if let answered = await MCPSession.fastToolsCall(request, tools: endpoint.tools) { return answered }
      return await endpoint.mcp.handle(request)
    case ("tools", 3):
      guard request.method == "GET" else {
        return ToolHTTPResponse(status: 405, headers: [("Allow", "GET")], body: Array(#"{"error":"use GET"}"#.utf8))
      }
      return .json(endpoint.tools.openAIList)
    case ("tools", 4):
      guard request.method == "POST" else {
        return ToolHTTPResponse(status: 405, headers: [("Allow", "POST")], body: Array(#"{"error":"use POST"}"#.utf8))
      }
      return await PlainCall.answer(request, tool: parts[3].removingPercentEncoding ?? parts[3], tools: endpoint.tools)
    default:
      return .error("no such route: use /mcp, /tools or /tools/NAME", status: 404)
    }
  }
}

/// `POST $EVALH_TOOLS_URL/NAME` with the arguments object.
enum PlainCall {
  static func answer(_ request: ToolHTTPRequest, tool: String, tools: TrialTools) async -> ToolHTTPResponse {
    let text = String(decoding: request.body, as: UTF8.self)
    let arguments: JSONValue
    if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      arguments = .object([:])
    } else if let parsed = JSONValue.parse(text) {
      arguments = parsed
    } else {
      return .error("the body is not JSON (send the arguments object)", status: 400)
    }
    switch await tools.call(tool, arguments: arguments) {
    case .result(let value, let isError):
      return .json(.object([isError ? "error" : "result": isError ? .string(value.gradingText) : value]))
    case .unknownTool(let message):
      // tools.md: HTTP 200 whether the answer is a result or an error.
      return .json(.object(["error": .string(message)]))
    case .refused(let status, let message, let retryAfter):
      var response = ToolHTTPResponse.error(message, status: status)
      if let retryAfter { response.headers.append(("Retry-After", String(Int(retryAfter.rounded(.up))))) }
      return response
    case .rpcError(let code, let message):
      // A timeout is a gateway's 504; any other server-side failure a 500.
      return .error(message, status: code == -32001 ? 504 : 500)
    case .malformed(let text):
      // The body itself cut short: `{"result":` and the first half of the result's text.
      return ToolHTTPResponse(status: 200, body: Array(#"{"result":"#.utf8) + Array(text.utf8))
    case .empty:
      return .json(.object(["result": .null]))
    case .connectionLost:
      return .dropped
    }
  }
}
