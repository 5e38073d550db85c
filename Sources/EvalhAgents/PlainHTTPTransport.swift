import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// HTTP/1.1 over plain TCP for `http://` agents: up to `max_connections` worker threads, each
/// keeping one keep-alive connection and taking the attempts queued for the agent.
///
/// Why not AsyncHTTPClient here: against a local agent its channel pipeline, codecs and
/// per-request state machines were half of evalh's CPU per trial (docs/performance.md). A worker
/// blocks in poll(2) on its socket and the interruption pipe with the trial's deadline as the
/// timeout, so silence, a trickled body and Ctrl-C all end an attempt on time, and a body over its
/// limit is cut without being read. `https://` agents keep AsyncHTTPClient (TLS, HTTP/2).
final class PlainHTTPTransport: HTTPTransport, @unchecked Sendable {
  let endpoint: Endpoint
  let maxConnections: Int

  // The queue of attempts and the workers; all guarded by `lock`.
  private let lock = NSCondition()
  private var queue: [Job] = []
  private var queueHead = 0
  private var workers = 0
  private var idle = 0
  private var closing = false

  /// `url` must be an `http://` URL (`Endpoint.parse`).
  init(endpoint: Endpoint, maxConnections: Int) {
    self.endpoint = endpoint
    self.maxConnections = max(1, maxConnections)
  }

  func send(
    _ request: OutgoingRequest, bodyLimit: Int, errorLimit: Int, deadline: ContinuousClock.Instant,
    interruption: Interruption?
  ) async -> AttemptResult {
    let left = ContinuousClock.now.duration(to: deadline)
    let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
    return await withUnsafeContinuation { continuation in
      enqueue(
        Job(
          request: request, bodyLimit: bodyLimit, errorLimit: errorLimit,
          deadline: ChildProcess.monotonicSeconds() + seconds, interruptFD: interruption?.fd ?? -1,
          continuation: continuation))
    }
  }

  func shutdown() async {
    stopWorkers()
  }

  /// Ends the workers once the attempts queued are done, closing their connections.
  private func stopWorkers() {
    lock.lock()
    closing = true
    lock.broadcast()
    while workers > 0 { lock.wait() }
    lock.unlock()
  }

  private func enqueue(_ job: Job) {
    lock.lock()
    defer { lock.unlock() }
    guard !closing else {
      job.continuation.resume(returning: .connectionFailed("the agent's connections were shut down"))
      return
    }
    queue.append(job)
    // A worker more when more attempts wait than idle workers can take.
    if queue.count - queueHead > idle, workers < maxConnections {
      workers += 1
      let thread = Thread { [self] in work() }
      thread.stackSize = 256 << 10
      thread.start()
    }
    lock.signal()
  }

  /// The next attempt, or nil once the transport shuts down.
  private func next() -> Job? {
    lock.lock()
    defer { lock.unlock() }
    idle += 1
    while queueHead == queue.count && !closing { lock.wait() }
    idle -= 1
    guard queueHead < queue.count else { return nil }
    let job = queue[queueHead]
    queueHead += 1
    if queueHead > 64 && queueHead * 2 > queue.count {
      queue.removeFirst(queueHead)
      queueHead = 0
    }
    return job
  }

  private func work() {
    var connection: Connection?
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    while let job = next() {
      let result = perform(job, connection: &connection, buffer: &buffer)
      job.continuation.resume(returning: result)
    }
    connection?.close()
    lock.lock()
    workers -= 1
    lock.broadcast()
    lock.unlock()
  }

  /// One attempt, following up to five redirects (a redirect elsewhere gets a connection of its own).
  private func perform(_ job: Job, connection pooled: inout Connection?, buffer: inout [UInt8]) -> AttemptResult {
    // Queued behind slower attempts until past its deadline: do not send it at all.
    guard ChildProcess.monotonicSeconds() < job.deadline else { return .timedOut }
    var target = endpoint
    var request = job.request
    var redirects = 0
    while true {
      var other: Connection?
      defer { other?.close() }
      let result: AttemptResult
      if target.sameServer(as: endpoint) {
        result = exchange(request, to: target, job: job, connection: &pooled, buffer: &buffer)
      } else {
        result = exchange(request, to: target, job: job, connection: &other, buffer: &buffer)
      }
      guard case .response(let response) = result, let location = response.location,
        [301, 302, 303, 307, 308].contains(response.status)
      else { return result }
      // Another attempt would only go round again: a loop is not retried.
      guard redirects < 5 else { return .unusable("more than 5 redirects, the last to \(location)") }
      guard let next = target.resolve(location) else {
        return .unusable("redirected to \(location), which evalh's plain HTTP transport cannot follow (use that URL)")
      }
      redirects += 1
      target = next
      // As browsers and AsyncHTTPClient do: 303, and 301/302 after a POST, become a GET without a body.
      if response.status == 303 || ([301, 302].contains(response.status) && request.method == "POST") {
        request.method = "GET"
        request.body = nil
      }
    }
  }

  /// Sends `request` to `target` on `connection` (made when nil or stale) and reads the response.
  private func exchange(
    _ request: OutgoingRequest, to target: Endpoint, job: Job, connection: inout Connection?, buffer: inout [UInt8]
  ) -> AttemptResult {
    // A kept connection the server has closed (or written to unasked) is readable while idle: drop it.
    if let kept = connection, kept.isReadable() {
      kept.close()
      connection = nil
    }
    if connection == nil {
      switch Connection.open(target, deadline: job.deadline, interruptFD: job.interruptFD) {
      case .success(let opened): connection = opened
      case .failure(let failure): return failure.result
      }
    }
    var reader = ResponseReader(connection: connection!, deadline: job.deadline, interruptFD: job.interruptFD)
    let outcome = reader.exchange(
      target.requestBytes(request), method: request.method, bodyLimit: job.bodyLimit, errorLimit: job.errorLimit,
      buffer: &buffer)
    if case .response(_, let reusable) = outcome, reusable { return outcome.result }
    connection?.close()
    connection = nil
    return outcome.result
  }

  struct Job {
    var request: OutgoingRequest
    var bodyLimit: Int
    var errorLimit: Int
    /// CLOCK_MONOTONIC seconds.
    var deadline: Double
    var interruptFD: Int32
    var continuation: UnsafeContinuation<AttemptResult, Never>
  }
}

/// Where an `http://` URL points, and how a request to it starts.
struct Endpoint: Sendable {
  var host: String
  var port: Int
  /// Path and query, "/" when empty.
  var target: String
  /// Basic credentials from the URL's user info, if any.
  var authorization: String?

  /// nil when the URL is not a plain `http://` URL with a host.
  static func parse(_ url: String) -> Endpoint? {
    guard let parts = URLComponents(string: url), parts.scheme?.lowercased() == "http", var host = parts.host,
      !host.isEmpty
    else { return nil }
    // An IPv6 address comes with its URL brackets on some platforms; getaddrinfo wants it bare.
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    var target = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
    if let query = parts.percentEncodedQuery { target += "?" + query }
    var authorization: String?
    if let user = parts.user {
      authorization = "Basic " + Data("\(user):\(parts.password ?? "")".utf8).base64EncodedString()
    }
    return Endpoint(host: host, port: parts.port ?? 80, target: target, authorization: authorization)
  }

  /// The host as a URL and a Host header write it: an IPv6 address in brackets.
  var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }

  func sameServer(as other: Endpoint) -> Bool { host == other.host && port == other.port }

  /// A redirect's `Location`, relative to this endpoint; nil when it leaves plain HTTP.
  func resolve(_ location: String) -> Endpoint? {
    guard let base = URL(string: "http://\(bracketedHost):\(port)\(target)"),
      let next = URL(string: location, relativeTo: base)?.absoluteString
    else { return nil }
    return Endpoint.parse(next)
  }

  /// The request line, headers and body, as written on the wire.
  func requestBytes(_ request: OutgoingRequest) -> [UInt8] {
    var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(bracketedHost)\(port == 80 ? "" : ":\(port)")\r\n"
    var hasAuthorization = false
    for (name, value) in request.headers {
      head += "\(name): \(value)\r\n"
      if name.lowercased() == "authorization" { hasAuthorization = true }
    }
    if let authorization, !hasAuthorization { head += "Authorization: \(authorization)\r\n" }
    if let body = request.body { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    var bytes = Array(head.utf8)
    if let body = request.body { bytes += body }
    return bytes
  }
}

/// A non-blocking TCP socket; every wait is a poll(2) bounded by the deadline and the interruption pipe.
struct Connection {
  let fd: Int32

  enum Failure: Error {
    case failed(String)
    case timedOut
    case interrupted

    var result: AttemptResult {
      switch self {
      case .failed(let why): .connectionFailed(why)
      case .timedOut: .timedOut
      case .interrupted: .interrupted
      }
    }
  }

  static func open(_ endpoint: Endpoint, deadline: Double, interruptFD: Int32) -> Result<Connection, Failure> {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV
    var found: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &found)
    guard status == 0, let first = found else {
      return .failure(.failed("cannot resolve \(endpoint.host): \(String(cString: gai_strerror(status)))"))
    }
    defer { freeaddrinfo(first) }
    var why = "no address for \(endpoint.host)"
    var next: UnsafeMutablePointer<addrinfo>? = first
    while let address = next {
      next = address.pointee.ai_next
      let fd = socket(
        address.pointee.ai_family,
        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
          | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else {
        why = "socket: \(String(cString: strerror(errno)))"
        continue
      }
      let connection = Connection(fd: fd)
      if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
        why = "connect to \(endpoint.host):\(endpoint.port): \(String(cString: strerror(errno)))"
        connection.close()
        continue
      }
      switch connection.wait(for: Int16(POLLOUT), deadline: deadline, interruptFD: interruptFD) {
      case .failure(let failure):
        connection.close()
        return .failure(failure)
      case .success:
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
          why = "connect to \(endpoint.host):\(endpoint.port): \(String(cString: strerror(error)))"
          connection.close()
          continue
        }
      }
      var one: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      return .success(connection)
    }
    return .failure(.failed(why))
  }

  func close() { _ = Glibc.close(fd) }

  /// Whether an idle connection has something to read: the server closed it or wrote unasked.
  func isReadable() -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  /// Waits until the socket is ready for `events`, the deadline passes or evalh is interrupted.
  func wait(for events: Int16, deadline: Double, interruptFD: Int32) -> Result<Void, Failure> {
    while true {
      let left = deadline - ChildProcess.monotonicSeconds()
      guard left > 0 else { return .failure(.timedOut) }
      var fds = [
        pollfd(fd: fd, events: events, revents: 0), pollfd(fd: interruptFD, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&fds, 2, Int32(min(left, 3600) * 1000) + 1)
      if ready < 0 {
        if errno == EINTR { continue }
        return .failure(.failed("poll: \(String(cString: strerror(errno)))"))
      }
      if fds[1].revents != 0 { return .failure(.interrupted) }
      if fds[0].revents != 0 { return .success(()) }
    }
  }
}

/// Writes one request and reads its response from a connection, keeping at most a limit of body.
struct ResponseReader {
  let connection: Connection
  let deadline: Double
  let interruptFD: Int32
  /// Bytes read and not yet consumed: `buffer[start..<end]` of the caller's buffer, moved into `pending`.
  var pending: [UInt8] = []
  var start = 0
  /// Whether any byte of the response arrived.
  var heardBack = false

  init(connection: Connection, deadline: Double, interruptFD: Int32) {
    self.connection = connection
    self.deadline = deadline
    self.interruptFD = interruptFD
  }

  /// The response head's fields evalh reads.
  struct Head {
    var status = 0
    var contentLength: Int?
    var chunked = false
    var keepAlive = true
    var retryAfter: String?
    var location: String?
  }

  enum Outcome {
    case response(IncomingResponse, reusable: Bool)
    case failed(Connection.Failure)

    var result: AttemptResult {
      switch self {
      case .response(let response, _): .response(response)
      case .failed(let failure): failure.result
      }
    }
  }

  /// Heads longer than this are a broken or hostile server, not an answer.
  static let headLimit = 64 << 10

  mutating func exchange(_ bytes: [UInt8], method: String, bodyLimit: Int, errorLimit: Int, buffer: inout [UInt8])
    -> Outcome
  {
    if case .failure(let failure) = write(bytes) { return .failed(failure) }
    do {
      var head = try readHead(buffer: &buffer)
      // 1xx answers (100 Continue, 103 Early Hints) precede the real one.
      while (100..<200).contains(head.status) { head = try readHead(buffer: &buffer) }
      let limit = (200..<300).contains(head.status) ? bodyLimit : errorLimit
      var body: [UInt8] = []
      var complete = true
      if method == "HEAD" || head.status == 204 || head.status == 304 {
      } else if head.chunked {
        complete = try readChunked(into: &body, limit: limit, buffer: &buffer)
      } else if let length = head.contentLength {
        complete = try read(length, into: &body, limit: limit, buffer: &buffer)
      } else {
        complete = try readToEnd(into: &body, limit: limit, buffer: &buffer)
        head.keepAlive = false
      }
      let response = IncomingResponse(
        status: head.status, retryAfter: head.retryAfter, location: head.location, body: body, truncated: !complete)
      return .response(response, reusable: complete && head.keepAlive && pending.count == start)
    } catch {
      return .failed(error)
    }
  }

  func write(_ bytes: [UInt8]) -> Result<Void, Connection.Failure> {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes {
        send(connection.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
      }
      if n > 0 {
        offset += n
      } else if n < 0 && errno == EINTR {
        continue
      } else if n < 0 && errno == EAGAIN {
        if case .failure(let failure) = connection.wait(
          for: Int16(POLLOUT), deadline: deadline, interruptFD: interruptFD)
        {
          return .failure(failure)
        }
      } else {
        return .failure(.failed("sending the request: \(String(cString: strerror(errno)))"))
      }
    }
    return .success(())
  }

  /// Reads more bytes into `pending`; false at the end of the stream.
  mutating func fill(buffer: inout [UInt8]) throws(Connection.Failure) -> Bool {
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
      if n > 0 {
        if start == pending.count {
          pending.removeAll(keepingCapacity: true)
          start = 0
        }
        pending.append(contentsOf: buffer[0..<n])
        heardBack = true
        return true
      }
      if n == 0 { return false }
      if errno == EINTR { continue }
      guard errno == EAGAIN else {
        throw .failed(
          (heardBack ? "reading the response: " : "") + String(cString: strerror(errno)).lowercased())
      }
      if case .failure(let failure) = connection.wait(for: Int16(POLLIN), deadline: deadline, interruptFD: interruptFD)
      {
        throw failure
      }
    }
  }

  /// The next line (without CRLF), reading as needed; `limit` bounds its length.
  mutating func readLine(
    buffer: inout [UInt8], limit: Int,
    tooLong: @autoclosure () -> String = "the response head is over \(Self.headLimit) bytes"
  ) throws(Connection.Failure) -> Substring {
    let line = try readLineBytes(buffer: &buffer, limit: limit, tooLong: tooLong())
    return Substring(decoding: pending[line], as: UTF8.self)
  }

  /// Where the next line (without CRLF) sits in `pending`, reading as needed; `limit` bounds its length.
  mutating func readLineBytes(buffer: inout [UInt8], limit: Int, tooLong: @autoclosure () -> String)
    throws(Connection.Failure) -> Range<Int>
  {
    var scanned = start
    while true {
      if let lf = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
        guard lf - start <= limit else { throw .failed(tooLong()) }
        let end = lf > start && pending[lf - 1] == UInt8(ascii: "\r") ? lf - 1 : lf
        defer { start = lf + 1 }
        return start..<end
      }
      scanned = pending.count
      guard pending.count - start <= limit else { throw .failed(tooLong()) }
      let before = start
      guard try fill(buffer: &buffer) else {
        throw .failed(heardBack ? "the server closed the connection mid-response" : "the server closed the connection")
      }
      scanned -= before - start  // fill may have moved the pending bytes to the front
    }
  }

  /// Whether `pending[range]` is `lowercase`, ignoring ASCII case (header names).
  func matches(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
    guard range.count == lowercase.utf8CodeUnitCount else { return false }
    let name = lowercase.utf8Start
    for i in 0..<range.count where pending[range.lowerBound + i] | 0x20 != name[i] { return false }
    return true
  }

  mutating func readHead(buffer: inout [UInt8]) throws(Connection.Failure) -> Head {
    let statusLine = try readLine(buffer: &buffer, limit: Self.headLimit)
    let fields = statusLine.split(separator: " ", maxSplits: 2)
    guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let status = Int(fields[1]), (100..<600).contains(status)
    else { throw .failed("not an HTTP/1 response: \(statusLine.prefix(80))") }
    var head = Head(status: status)
    head.keepAlive = fields[0] != "HTTP/1.0"
    var size = statusLine.utf8.count
    while true {
      let line = try readLineBytes(
        buffer: &buffer, limit: Self.headLimit - size, tooLong: "the response head is over \(Self.headLimit) bytes")
      size += line.count + 2
      if line.isEmpty { return head }
      // Only the fields evalh reads are made into strings.
      guard let colon = pending[line].firstIndex(of: UInt8(ascii: ":")) else { continue }
      let name = line.lowerBound..<colon
      var value: String {
        String(Substring(decoding: pending[(colon + 1)..<line.upperBound], as: UTF8.self).trimmingSpaces)
      }
      if matches(name, "content-length") {
        guard let length = Int(value), length >= 0 else { throw .failed("bad Content-Length: \(value.prefix(40))") }
        head.contentLength = length
      } else if matches(name, "transfer-encoding") {
        head.chunked = value.lowercased().contains("chunked")
      } else if matches(name, "connection") {
        let tokens = value.lowercased()
        if tokens.contains("close") {
          head.keepAlive = false
        } else if tokens.contains("keep-alive") {
          head.keepAlive = true
        }
      } else if matches(name, "retry-after") {
        head.retryAfter = value
      } else if matches(name, "location") {
        head.location = value
      }
    }
  }

  /// Consumes `count` body bytes, keeping them while within `limit`; false when the limit cut it.
  mutating func read(_ count: Int, into body: inout [UInt8], limit: Int, buffer: inout [UInt8]) throws(Connection
    .Failure)
    -> Bool
  {
    var left = count
    while left > 0 {
      if start == pending.count {
        guard try fill(buffer: &buffer) else { throw .failed("the server closed the connection mid-body") }
      }
      let take = min(left, pending.count - start)
      let room = limit - body.count
      if take > room {
        body += pending[start..<(start + room)]
        return false
      }
      body += pending[start..<(start + take)]
      start += take
      left -= take
    }
    return true
  }

  mutating func readChunked(into body: inout [UInt8], limit: Int, buffer: inout [UInt8]) throws(Connection.Failure)
    -> Bool
  {
    while true {
      let line = try readLine(buffer: &buffer, limit: 1024, tooLong: "a chunk-size line is over 1024 bytes")
      let digits = line.prefix { $0 != ";" }.trimmingSpaces
      guard let size = Int(digits, radix: 16), size >= 0 else { throw .failed("bad chunk size: \(line.prefix(40))") }
      if size == 0 {
        // Trailer fields, up to the empty line.
        while try !readLine(buffer: &buffer, limit: Self.headLimit).isEmpty {}
        return true
      }
      guard try read(size, into: &body, limit: limit, buffer: &buffer) else { return false }
      guard try readLine(buffer: &buffer, limit: 2, tooLong: "a chunk is longer than its size").isEmpty else {
        throw .failed("a chunk is longer than its size")
      }
    }
  }

  /// A body that ends when the server closes the connection.
  mutating func readToEnd(into body: inout [UInt8], limit: Int, buffer: inout [UInt8]) throws(Connection.Failure)
    -> Bool
  {
    while true {
      let take = pending.count - start
      if body.count + take > limit {
        body += pending[start..<(start + limit - body.count)]
        return false
      }
      body += pending[start...]
      start = pending.count
      guard try fill(buffer: &buffer) else { return true }
    }
  }
}

extension Substring {
  /// Without the spaces and tabs around it (header values, chunk sizes).
  var trimmingSpaces: Substring {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
    return self[first...last]
  }
}
