import AsyncHTTPClient
import EvalhCore
import NIOCore
import NIOHTTP1

/// AsyncHTTPClient for `https://` agents: TLS, HTTP/2 when the server offers it, redirects followed.
final class AsyncHTTPClientTransport: HTTPTransport {
  let url: String
  let client: HTTPClient

  init(url: String, maxConnections: Int) {
    self.url = url
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(
      idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections))
    // evalh retries itself, counting attempts and keeping within the trial's timeout.
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout = .init(connect: .seconds(10))
    configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
    client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
  }

  /// Closes the connections; one still being opened (a TLS handshake the server never
  /// finishes) is left to the process's end rather than waited for until the connect timeout.
  func shutdown() async {
    await awaitAtMost(.seconds(1)) { [client] in try? await client.shutdown() }
  }

  func send(
    _ request: OutgoingRequest, bodyLimit: Int, errorLimit: Int, deadline: ContinuousClock.Instant,
    interruption: Interruption?
  ) async -> AttemptResult {
    var outgoing = HTTPClientRequest(url: url)
    outgoing.method = HTTPMethod(rawValue: request.method)
    for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
    if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
    let left = ContinuousClock.now.duration(to: deadline)
    let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
    return await race(until: deadline, interruption: interruption) { [client, outgoing] in
      do {
        let response = try await client.execute(outgoing, deadline: .now() + .nanoseconds(nanoseconds))
        let status = Int(response.status.code)
        let (bytes, truncated) = try await Self.read(
          response.body, limit: (200..<300).contains(status) ? bodyLimit : errorLimit)
        return .response(
          IncomingResponse(
            status: status, retryAfter: response.headers.first(name: "Retry-After"), body: bytes, truncated: truncated))
      } catch {
        return .connectionFailed("\(error)")
      }
    }
  }

  /// Runs `work` until it ends, the deadline passes or evalh is interrupted, whichever is first.
  /// The losers are cancelled: AsyncHTTPClient then closes the connection, so a server that never
  /// answers or trickles its body costs no more than the timeout.
  func race(
    until deadline: ContinuousClock.Instant, interruption: Interruption?,
    _ work: @escaping @Sendable () async -> AttemptResult
  ) async -> AttemptResult {
    await withTaskGroup(of: AttemptResult?.self) { group in
      group.addTask { await work() }
      // One watcher for both the deadline and an interruption: it sleeps in slices of at most 50 ms.
      group.addTask {
        let clock = ContinuousClock()
        while !Task.isCancelled {
          if interruption?.isTriggered == true { return .interrupted }
          let now = clock.now
          if now >= deadline { return .timedOut }
          try? await Task.sleep(until: min(deadline, now.advanced(by: .milliseconds(50))), clock: clock)
        }
        return nil
      }
      defer { group.cancelAll() }
      while let next = await group.next() {
        if let next { return next }
      }
      return .timedOut
    }
  }

  /// Reads at most `limit` bytes; says whether there was more (the rest is not read).
  static func read(_ body: HTTPClientResponse.Body, limit: Int) async throws -> ([UInt8], Bool) {
    var bytes: [UInt8] = []
    for try await chunk in body {
      let room = limit - bytes.count
      if chunk.readableBytes > room {
        bytes += chunk.readableBytesView.prefix(room)
        return (bytes, true)
      }
      bytes += chunk.readableBytesView
    }
    return (bytes, false)
  }
}
