import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small scripted HTTP/1.1 server on 127.0.0.1, for the example agent's `serve` mode, the tests
/// and the benchmarks: each request is answered by a closure, and the faults a real agent server
/// shows (resets, silence, trickled or huge bodies) are replies too.
public final class LoopbackServer: Sendable {
  /// One request as the server saw it.
  public struct Request: Sendable {
    /// The request method.
    public var method: String
    /// The request target as sent.
    public var uri: String
    /// Header names and values, in order.
    public var headers: [(name: String, value: String)]
    /// The request body.
    public var body: [UInt8]
    /// Which accepted connection carried it (1, 2, …): keep-alive reuse shows as repeats.
    public var connection: Int

    /// The first value of the header `name` (any case), if any.
    public func header(_ name: String) -> String? {
      headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
  }

  /// How to answer.
  public indirect enum Reply: Sendable {
    case respond(status: Int, headers: [(String, String)] = [], body: [UInt8])
    /// Close with a TCP reset, no answer.
    case reset
    /// Never answer (the connection stays open).
    case silence
    /// Send the head, then `count` chunks, one every `interval`.
    case trickle(status: Int, chunk: [UInt8], interval: TimeAmount, count: Int)
    /// A body of `bytes` bytes, written as the client reads it.
    case large(status: Int, bytes: Int)
    /// Answer after a pause.
    case delayed(TimeAmount, Reply)

    /// A JSON reply with `text` as its body.
    public static func json(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> Reply {
      .respond(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }
  }

  /// Answers one request.
  public typealias Handler = @Sendable (Request) -> Reply

  let channel: any Channel
  let state: ServerState

  /// The port it listens on.
  public var port: Int { channel.localAddress?.port ?? 0 }
  /// `http://127.0.0.1:PORT`.
  public var baseURL: String { "http://127.0.0.1:\(port)" }
  /// Connections accepted so far.
  public var connections: Int { state.counts.withLock { $0.connections } }
  /// Requests received so far (when `keepRequests`).
  public var requests: [Request] { state.counts.withLock { $0.requests } }
  /// Nanoseconds from each request's last byte received to its answer's last byte written
  /// (when `keepTimings`): the server's own handling time.
  public var handlingTimes: [Int64] { state.timings.withLock { $0 } }
  /// Forgets the handling times measured so far.
  public func resetHandlingTimes() { state.timings.withLock { $0.removeAll(keepingCapacity: true) } }

  /// Starts listening on 127.0.0.1 (`port` 0: any free port).
  public init(port: Int = 0, keepRequests: Bool = true, keepTimings: Bool = false, handler: @escaping Handler)
    async throws
  {
    let state = ServerState(handler: handler, keepRequests: keepRequests, keepTimings: keepTimings)
    self.state = state
    channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 512)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        let number = state.counts.withLock { s in
          s.connections += 1
          return s.connections
        }
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(connection: number, state: state))
        }
      }
      .bind(host: "127.0.0.1", port: port).get()
  }

  /// Stops listening; open connections are closed with it.
  public func shutdown() async {
    try? await channel.close()
  }
}

/// What every connection of a server shares.
final class ServerState: Sendable {
  let handler: LoopbackServer.Handler
  let keepRequests: Bool
  let keepTimings: Bool
  let counts = Mutex<(connections: Int, requests: [LoopbackServer.Request])>((0, []))
  let timings = Mutex<[Int64]>([])

  init(handler: @escaping LoopbackServer.Handler, keepRequests: Bool, keepTimings: Bool) {
    self.handler = handler
    self.keepRequests = keepRequests
    self.keepTimings = keepTimings
  }
}

/// One connection: gathers each request, asks the handler, writes the reply.
final class ConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  let connection: Int
  let state: ServerState
  var head: HTTPRequestHead?
  var body: [UInt8] = []
  var receivedAt = NIODeadline.now()

  init(connection: Int, state: ServerState) {
    self.connection = connection
    self.state = state
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let h):
      head = h
      body = []
    case .body(let chunk):
      body += chunk.readableBytesView
    case .end:
      guard let head else { return }
      if state.keepTimings { receivedAt = .now() }
      let request = LoopbackServer.Request(
        method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body,
        connection: connection)
      if state.keepRequests { state.counts.withLock { $0.requests.append(request) } }
      answer(state.handler(request), context: context, keepAlive: head.isKeepAlive)
      self.head = nil
    }
  }

  func answer(_ reply: LoopbackServer.Reply, context: ChannelHandlerContext, keepAlive: Bool) {
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    let this = NIOLoopBound(self, eventLoop: context.eventLoop)
    func head(_ status: Int, _ headers: [(String, String)], length: Int?) -> HTTPServerResponsePart {
      var fields = HTTPHeaders(headers)
      if let length { fields.replaceOrAdd(name: "Content-Length", value: String(length)) }
      if !keepAlive { fields.replaceOrAdd(name: "Connection", value: "close") }
      return .head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields))
    }
    let receivedAt = self.receivedAt
    let state = self.state
    @Sendable func end() {
      let context = bound.value
      context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
        if state.keepTimings {
          let handled = (NIODeadline.now() - receivedAt).nanoseconds
          state.timings.withLock { $0.append(handled) }
        }
        if !keepAlive { bound.value.close(promise: nil) }
      }
    }
    switch reply {
    case .respond(let status, let headers, let body):
      context.write(wrapOutboundOut(head(status, headers, length: body.count)), promise: nil)
      context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
      end()
    case .reset:
      let channel = context.channel
      guard let socket = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
      socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    case .silence:
      break
    case .trickle(let status, let chunk, let interval, let count):
      context.writeAndFlush(wrapOutboundOut(head(status, [], length: chunk.count * count)), promise: nil)
      @Sendable func send(_ left: Int) {
        guard left > 0 else { return end() }
        bound.value.eventLoop.scheduleTask(in: interval) {
          let context = bound.value
          guard context.channel.isActive else { return }
          context.writeAndFlush(
            NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk)))), promise: nil)
          send(left - 1)
        }
      }
      send(count)
    case .large(let status, let bytes):
      context.write(wrapOutboundOut(head(status, [("Content-Type", "application/json")], length: bytes)), promise: nil)
      let block = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
      // Each block is written once the previous one left: memory stays at one block, not the whole body.
      @Sendable func send(_ left: Int) {
        guard left > 0 else { return end() }
        let context = bound.value
        guard context.channel.isActive else { return }
        guard let part = block.getSlice(at: 0, length: min(left, block.readableBytes)) else { return end() }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(part)))).whenSuccess {
          send(left - part.readableBytes)
        }
      }
      send(bytes)
    case .delayed(let pause, let next):
      context.eventLoop.scheduleTask(in: pause) {
        guard bound.value.channel.isActive else { return }
        this.value.answer(next, context: bound.value, keepAlive: keepAlive)
      }
    }
  }
}
