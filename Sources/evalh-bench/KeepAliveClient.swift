import Foundation

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 that sends a fixed request and reads each whole
/// response (headers, then Content-Length bytes): the floors' and the tool-call figure's client.
struct KeepAliveClient {
  let fd: Int32
  let request: [UInt8]
  private var buffer = [UInt8](repeating: 0, count: 65536)
  /// The last response, head and body.
  private(set) var last: [UInt8] = []

  /// Connects; nil when nothing listens on `port`.
  init?(port: Int, method: String = "POST", path: String, body: String) {
    request = Array(
      "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        .utf8)
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      Glibc.close(fd)
      return nil
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Sends the request and reads one response; false when the connection broke.
  mutating func roundTrip() -> Bool {
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
    var received: [UInt8] = []
    var needed = -1
    while needed < 0 || received.count < needed {
      let n = recv(fd, &buffer, buffer.count, 0)
      guard n > 0 else { return false }
      received += buffer[0..<n]
      if needed < 0, let end = LoadFloor.find(received, "\r\n\r\n") {
        let head = String(decoding: received[0..<end], as: UTF8.self).lowercased()
        let length =
          head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
          .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
        needed = end + 4 + length
      }
    }
    last = received
    return true
  }

  func close() { Glibc.close(fd) }
}
