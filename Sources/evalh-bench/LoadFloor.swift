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
    let deadline = Measure.now() + seconds
    let counts = (0..<8).map { _ in Count() }
    let group = DispatchGroup()
    for index in 0..<8 {
      group.enter()
      let slot = counts[index]
      Thread {
        defer { group.leave() }
        guard var client = KeepAliveClient(port: port, path: parsed.path, body: body) else { return }
        defer { client.close() }
        while Measure.now() < deadline {
          guard client.roundTrip() else { return }
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
