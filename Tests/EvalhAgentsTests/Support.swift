import EvalhCore
import Foundation

@testable import EvalhAgents

/// A temporary folder removed when the value goes away.
final class TempDir: Sendable {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "evalh-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes an executable shell script and returns its path.
  @discardableResult
  func script(_ name: String, _ body: String) -> String {
    let file = "\(path)/\(name)"
    writeExecutable(file, "#!/bin/sh\n\(body)\n")
    return file
  }
}

/// Writes an executable with O_CLOEXEC, so children spawned meanwhile by other threads
/// do not inherit the write descriptor (which makes exec fail with ETXTBSY).
func writeExecutable(_ file: String, _ text: String) {
  unlink(file)
  let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
  precondition(fd >= 0, "cannot write \(file)")
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  close(fd)
}

/// Whether a process is alive: present in /proc and not a zombie (PID 1 here does not reap orphans).
func isAlive(_ pid: Int32) -> Bool {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
  guard let close = stat.lastIndex(of: ")") else { return false }
  let state = stat[stat.index(close, offsetBy: 2)]
  return state != "Z" && state != "X"
}

/// Reads a pid a test agent wrote, waiting (without blocking the pool) for the file.
func readPID(_ file: String) async -> Int32? {
  for _ in 0..<2000 {
    if let text = try? String(contentsOfFile: file, encoding: .utf8),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    {
      return pid
    }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return nil
}

func task(_ id: String = "t1", input: JSONValue = .string("hello")) -> TaskSpec {
  TaskSpec(
    id: id, input: input, tags: ["x"], metadata: ["k": .string("v")], trials: nil, timeout: nil, expect: [], assure: [])
}

func request(_ dir: TempDir) -> AgentRequest {
  AgentRequest(runID: "r-test", suite: "s", agent: "a", task: task(), trial: 2, seed: 1234, workdir: dir.path)
}

func agent(_ argv: [String], format: OutputFormat = .envelope, maxOutput: Int = 4 << 20, cwd: String = "/tmp")
  -> SubprocessAgent
{
  SubprocessAgent(
    config: SubprocessConfig(command: argv, cwd: cwd, env: ["EXTRA": "yes"], format: format, maxOutput: maxOutput))
}

/// A TCP listener on loopback that never accepts: the kernel completes each connection, and
/// nothing is ever read or written on it.
struct MuteListener {
  let descriptor: Int32
  let port: Int

  init() throws {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
          && getsockname(descriptor, socketAddress, &length) == 0
      }
    }
    guard descriptor >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
    self.descriptor = descriptor
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  func close() { _ = Glibc.close(descriptor) }
}
