import EvalhCore
import Foundation
import Synchronization
import Testing

@testable import EvalhAgents

#if canImport(Glibc)
  import Glibc
#endif

/// evalh's own HTTP/1.1 transport against a server that writes scripted bytes: the response
/// shapes a well-behaved server library never sends (chunked, HTTP/1.0, 1xx, broken heads,
/// idle connections closed, redirects).
@Suite struct PlainHTTPTransportTests {
  func agent(_ server: RawServer, path: String = "/agent", retries: Int = 0, maxOutput: Int = 1 << 20) -> HTTPAgent {
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL + path, retries: retries, maxOutput: maxOutput))
    #expect(agent.transport is PlainHTTPTransport)
    return agent
  }

  static let ok = #"{"output":"fine"}"#

  static func response(_ body: String, head: String = "HTTP/1.1 200 OK", _ headers: String = "") -> [UInt8] {
    Array("\(head)\r\nContent-Length: \(body.utf8.count)\r\n\(headers)\r\n\(body)".utf8)
  }

  @Test func aChunkedBodyIsJoinedAndTheConnectionKept() async throws {
    let server = try RawServer { _, _ in
      (
        Array(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{\"outp\r\nc;ext=1\r\nut\":\"fine\"}\r\n0\r\nX-Trailer: t\r\n\r\n"
            .utf8), false
      )
    }
    let agent = agent(server)
    for _ in 0..<3 {
      let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
      #expect(reply.output == .string("fine"), "\(reply.outcome)")
    }
    await agent.shutdown()
    server.shutdown()
    #expect(server.requests.count == 3 && server.connections == 1)
  }

  @Test func aChunkedBodyOverTheLimitIsCut() async throws {
    let chunk = String(repeating: "x", count: 1000)
    let server = try RawServer { _, _ in
      let chunks = String(repeating: "3e8\r\n\(chunk)\r\n", count: 10)
      return (Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(chunks)0\r\n\r\n".utf8), false)
    }
    let agent = agent(server, maxOutput: 2500)
    let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    #expect(reply.truncated && reply.output == .string(String(repeating: "x", count: 2500)))
  }

  @Test func anHTTP10BodyEndsWithTheConnection() async throws {
    let server = try RawServer { _, _ in (Array("HTTP/1.0 200 OK\r\n\r\n\(Self.ok)".utf8), true) }
    let agent = agent(server)
    for _ in 0..<2 {
      let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
      #expect(reply.output == .string("fine") && reply.attempts == 1, "\(reply.outcome)")
    }
    await agent.shutdown()
    server.shutdown()
    #expect(server.connections == 2)
  }

  @Test func informationalAnswersAreSkipped() async throws {
    let server = try RawServer { _, _ in
      (
        Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".utf8)
          + Self.response(Self.ok), false
      )
    }
    let agent = agent(server)
    let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    #expect(reply.output == .string("fine"), "\(reply.outcome)")
  }

  @Test func anIdleConnectionTheServerClosedIsReplacedWithoutAFailedAttempt() async throws {
    // The server answers, then closes the connection without saying so (a keep-alive timeout).
    let server = try RawServer { _, _ in (Self.response(Self.ok), true) }
    let agent = agent(server)
    for _ in 0..<3 {
      let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
      #expect(reply.output == .string("fine") && reply.attempts == 1, "\(reply.outcome)")
      try await Task.sleep(for: .milliseconds(50))
    }
    await agent.shutdown()
    server.shutdown()
    #expect(server.requests.count == 3 && server.connections == 3)
  }

  @Test func redirectsAreFollowedAsBrowsersDo() async throws {
    let server = try RawServer { _, head in
      if head.hasPrefix("POST /agent ") {
        return (Self.response("", head: "HTTP/1.1 302 Found", "Location: /moved\r\n"), false)
      }
      if head.hasPrefix("POST /keep ") {
        return (Self.response("", head: "HTTP/1.1 307 Temporary Redirect", "Location: /moved\r\n"), false)
      }
      return (Self.response(Self.ok), false)
    }
    let found = agent(server)
    let reply = await found.run(httpRequest(), timeout: 10, interruption: nil)
    #expect(reply.output == .string("fine") && reply.attempts == 1, "\(reply.outcome)")
    let kept = agent(server, path: "/keep")
    let again = await kept.run(httpRequest(), timeout: 10, interruption: nil)
    #expect(again.output == .string("fine"), "\(again.outcome)")
    await found.shutdown()
    await kept.shutdown()
    server.shutdown()
    let heads = server.requests.map { $0.prefix { $0 != "\r\n" } }
    // A POST answered 302 is followed by a GET without a body; a 307 keeps the POST and its body.
    #expect(heads == ["POST /agent HTTP/1.1", "GET /moved HTTP/1.1", "POST /keep HTTP/1.1", "POST /moved HTTP/1.1"])
    #expect(!server.requests[1].contains("Content-Length") && server.requests[3].contains("\"protocol\":\"evalh/1\""))
  }

  @Test func aRedirectToHTTPSIsAnErrorThatSaysSo() async throws {
    let server = try RawServer { _, _ in
      (Self.response("", head: "HTTP/1.1 301 Moved Permanently", "Location: https://example.com/agent\r\n"), false)
    }
    let agent = agent(server, retries: 2)
    let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message.contains("https://example.com/agent") && reply.attempts == 1)
  }

  @Test func aRedirectLoopEndsAfterFiveHopsUnretried() async throws {
    let server = try RawServer { n, _ in
      (Self.response("", head: "HTTP/1.1 302 Found", "Location: /again-\(n)\r\n"), false)
    }
    let agent = agent(server, retries: 2)
    let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message == "more than 5 redirects, the last to /again-6")
    #expect(reply.attempts == 1 && server.requests.count == 6)
  }

  @Test func brokenHeadsAreConnectionFailures() async throws {
    for (bytes, expected) in [
      (Array("SSH-2.0-OpenSSH_9.2\r\n".utf8), "not an HTTP/1 response"),
      (Array("HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n".utf8), "over 65536 bytes"),
      (Array("HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n".utf8), "bad Content-Length"),
      (Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"output\"".utf8), "closed the connection mid-body"),
      (Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), "bad chunk size"),
    ] {
      let server = try RawServer { _, _ in (bytes, true) }
      let agent = agent(server)
      let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
      await agent.shutdown()
      server.shutdown()
      guard case .transportError(let message) = reply.outcome else {
        Issue.record("\(expected): \(reply.outcome)")
        continue
      }
      #expect(message.hasPrefix("connection failed: ") && message.contains(expected), "\(message)")
    }
  }

  @Test func theHostHeaderAndBasicCredentialsFromTheURL() async throws {
    let server = try RawServer { _, _ in (Self.response(Self.ok), false) }
    let agent = HTTPAgent(config: HTTPConfig(url: "http://user:p%40ss@127.0.0.1:\(server.port)/agent?x=1"))
    let reply = await agent.run(httpRequest(), timeout: 10, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    #expect(reply.output == .string("fine"), "\(reply.outcome)")
    let head = try #require(server.requests.first)
    #expect(head.hasPrefix("POST /agent?x=1 HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"))
    #expect(head.contains("Authorization: Basic \(Data("user:p@ss".utf8).base64EncodedString())\r\n"))
  }

  @Test func endpointsFromURLs() throws {
    let v6 = try #require(Endpoint.parse("http://[::1]:8080/a/b?c=d%20e"))
    #expect(v6.host == "::1" && v6.port == 8080 && v6.target == "/a/b?c=d%20e" && v6.authorization == nil)
    let head = String(decoding: v6.requestBytes(OutgoingRequest(method: "GET", headers: [], body: nil)), as: UTF8.self)
    #expect(head == "GET /a/b?c=d%20e HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
    let plain = try #require(Endpoint.parse("HTTP://agent.local"))
    #expect(plain.port == 80 && plain.target == "/")
    let body = String(
      decoding: plain.requestBytes(OutgoingRequest(method: "POST", headers: [], body: [0x7B, 0x7D])), as: UTF8.self)
    #expect(body == "POST / HTTP/1.1\r\nHost: agent.local\r\nContent-Length: 2\r\n\r\n{}")
    #expect(v6.resolve("/x")?.target == "/x" && v6.resolve("/x")?.host == "::1")
    #expect(
      plain.resolve("http://other:9/y").map { ($0.host, $0.port, $0.target) } ?? ("", 0, "") == ("other", 9, "/y"))
    #expect(plain.resolve("https://secure/") == nil)
    #expect(Endpoint.parse("https://api.example.com/v1") == nil && Endpoint.parse("http:///nohost") == nil)
  }

  @Test func attemptsQueuedPastTheirDeadlineAreNotSent() async throws {
    // One connection, held by a silent answer: the second trial waits its whole timeout in the queue.
    let server = try RawServer { n, _ in n == 1 ? ([], false) : (Self.response(Self.ok), false) }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL, retries: 0, maxConnections: 1))
    async let first = agent.run(httpRequest(), timeout: 1, interruption: nil)
    try await Task.sleep(for: .milliseconds(100))
    let second = await agent.run(httpRequest(), timeout: 0.3, interruption: nil)
    let held = await first
    await agent.shutdown()
    server.shutdown()
    guard case .timedOut = second.outcome, case .timedOut = held.outcome else {
      Issue.record("\(second.outcome) \(held.outcome)")
      return
    }
    #expect(server.requests.count == 1)
  }
}

/// A TCP server on 127.0.0.1 answering each request with scripted bytes (nothing for silence),
/// closing the connection after the answer when told to.
final class RawServer: Sendable {
  typealias Script = @Sendable (_ number: Int, _ request: String) -> (bytes: [UInt8], close: Bool)
  let listener: Int32
  let port: Int
  let script: Script
  private let state = Mutex<(requests: [String], connections: Int, open: [Int32])>(([], 0, []))

  var baseURL: String { "http://127.0.0.1:\(port)" }
  var requests: [String] { state.withLock { $0.requests } }
  var connections: Int { state.withLock { $0.connections } }

  /// Sends the script's bytes again and again, never ending the answer (`forever`).
  let forever: Bool

  init(forever: Bool = false, script: @escaping Script) throws {
    self.script = script
    self.forever = forever
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    listener = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    port = Int(UInt16(bigEndian: address.sin_port))
    Thread { [self] in acceptLoop() }.start()
  }

  func shutdown() {
    state.withLock { s in
      Glibc.shutdown(listener, Int32(SHUT_RDWR))
      for fd in s.open { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }
  }

  private func acceptLoop() {
    while true {
      let fd = accept(listener, nil, nil)
      guard fd >= 0 else { break }
      state.withLock {
        $0.connections += 1
        $0.open.append(fd)
      }
      Thread { [self] in serve(fd) }.start()
    }
    close(listener)
  }

  /// Reads requests (head and Content-Length body) and answers each from the script.
  private func serve(_ fd: Int32) {
    // Closed under the lock, so shutdown never reaches a descriptor number reused elsewhere.
    defer {
      state.withLock { s in
        s.open.removeAll { $0 == fd }
        close(fd)
      }
    }
    var pending: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      var request: [UInt8]?
      while request == nil {
        if let end = pending.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
          let head = String(decoding: pending[..<end], as: UTF8.self)
          let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
          if pending.count >= end + length {
            request = Array(pending[..<(end + length)])
            pending.removeFirst(end + length)
            break
          }
        }
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return }
        pending += chunk[..<n]
      }
      let text = String(decoding: request!, as: UTF8.self)
      let number = state.withLock { s in
        s.requests.append(text)
        return s.requests.count
      }
      let (bytes, closeAfter) = script(number, text)
      repeat {
        var offset = 0
        while offset < bytes.count {
          let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
          guard n > 0 else { return }
          offset += n
        }
      } while forever
      if closeAfter { return }
    }
  }
}
