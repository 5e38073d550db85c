import EvalhCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

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
      let n = bytes.withUnsafeBytes { buf in
        let rest = UnsafeRawBufferPointer(rebasing: buf[offset...])
        return send(connection.fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
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
    // A server that never stops sending (endless 100 Continue lines) never makes recv wait: the
    // deadline is checked before every read, not only when the socket is quiet.
    guard Monotonic.seconds() < deadline else { throw .timedOut }
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
      if n > 0 {
        if start == pending.count {
          pending.removeAll(keepingCapacity: true)
          start = 0
        } else if start >= 64 << 10 {
          // Read lines are dropped once there are many: a server streaming heads without end
          // (100 Continue after 100 Continue) must not grow this buffer without end.
          pending.removeFirst(start)
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
        // Two lengths that differ leave the body's end unknowable (RFC 9112 §6.3): not guessed.
        if let earlier = head.contentLength, earlier != length {
          throw .failed("conflicting Content-Length headers: \(earlier) and \(length)")
        }
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
