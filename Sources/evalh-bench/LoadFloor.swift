import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The HTTP floor: requests per second a keep-alive load generator gets from the same server,
/// with 8 connections: wrk when installed, else a minimal blocking client on 8 threads.
enum LoadFloor {
  static func measure(url: String, body: String, seconds: Int) -> (rate: Double, tool: String) {
    if let rate = wrk(url: url, body: body, seconds: seconds) { return (rate, "wrk") }
    return (builtIn(url: url, body: body, seconds: Double(seconds)), "built-in generator")
  }

  static func wrk(url: String, body: String, seconds: Int) -> Double? {
    let script = NSTemporaryDirectory() + "evalh-bench-\(getpid()).lua"
    let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    FileManager.default.createFile(
      atPath: script,
      contents: Data(
        "wrk.method = \"POST\"\nwrk.body = \"\(escaped)\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n".utf8)
    )
    defer { unlink(script) }
    let run = Measure.run(["wrk", "-t2", "-c8", "-d\(seconds)s", "-s", script, url])
    guard run.status == 0, let line = run.stdout.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") })
    else {
      return nil
    }
    return Double(line.split(separator: " ").last ?? "")
  }

  /// 8 threads, each one keep-alive connection sending the request and reading the answer in a loop.
  static func builtIn(url: String, body: String, seconds: Double) -> Double {
    guard let parsed = URL(string: url), let port = parsed.port else { return .nan }
    let request = Array(
      "POST \(parsed.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        .utf8)
    let deadline = Measure.now() + seconds
    let counts = (0..<8).map { _ in Count() }
    let group = DispatchGroup()
    for index in 0..<8 {
      group.enter()
      let slot = counts[index]
      Thread {
        defer { group.leave() }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
          }
        }
        guard connected == 0 else { return }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Measure.now() < deadline {
          guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return }
          // Read one response: headers, then Content-Length bytes of body.
          var received: [UInt8] = []
          var needed = -1
          while needed < 0 || received.count < needed {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            received += buffer[0..<n]
            if needed < 0, let end = find(received, "\r\n\r\n") {
              let head = String(decoding: received[0..<end], as: UTF8.self).lowercased()
              let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
              needed = end + 4 + length
            }
          }
          slot.value.add(1, ordering: .relaxed)
        }
      }.start()
    }
    group.wait()
    return Double(counts.map { $0.value.load(ordering: .relaxed) }.reduce(0, +)) / seconds
  }

  static func find(_ bytes: [UInt8], _ pattern: String) -> Int? {
    let p = Array(pattern.utf8)
    guard bytes.count >= p.count else { return nil }
    for i in 0...(bytes.count - p.count) where bytes[i] == p[0] && Array(bytes[i..<i + p.count]) == p { return i }
    return nil
  }
}

/// One thread's count, read after the threads are joined.
final class Count: Sendable {
  let value = Atomic<Int>(0)
}
