import CEvalhSys
import EvalhCore
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A child that lives as long as a trial, not a single exchange: a proxied MCP stdio server. It
/// starts in its own process group with piped stdin and stdout (its stderr is drained, the tail
/// kept), and `stop` ends the whole group, whatever it forked, and reaps it.
public final class ServerProcess: Sendable {
  /// The child's pid and process group.
  public let pid: pid_t
  /// Writes to its stdin.
  public let stdin: Int32
  /// Reads its stdout.
  public let stdout: Int32
  private let stderr: Int32
  private let mark: String
  private let tail = Mutex<[UInt8]>([])
  private let stopped = Mutex(false)

  /// Bytes of stderr kept for messages.
  static let tailLimit = 4096

  /// Starts `argv`; fails with the reason (and whether evalh's own resources ran out).
  public static func start(_ argv: [String], cwd: String, environment: [String: String]) -> Result<
    ServerProcess, ChildProcess.SpawnFailure
  > {
    guard !argv.isEmpty else { return .failure(.init(message: "empty command", isHarness: false)) }
    let mark = Orphans.newMark()
    switch ChildProcess.spawn(argv, cwd: cwd, environment: environment, mark: mark) {
    case .failure(let failure):
      Orphans.sweep(mark: mark, group: 0)
      return .failure(failure)
    case .success(let child):
      evalh_track_group(child.pid)
      let server = ServerProcess(child, mark: mark)
      let thread = Thread { server.drainStderr() }
      thread.stackSize = 256 << 10
      thread.start()
      return .success(server)
    }
  }

  private init(_ child: ChildProcess.Spawned, mark: String) {
    pid = child.pid
    stdin = child.stdin
    stdout = child.stdout
    stderr = child.stderr
    self.mark = mark
  }

  /// The last of what it wrote to stderr.
  public var stderrTail: String { String(decoding: tail.withLock { $0 }, as: UTF8.self) }

  /// `stopNow` on a thread of its own: it waits for the child, and the async pool must not.
  public func stop(grace: Double = 1) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      let thread = Thread {
        self.stopNow(grace: grace)
        done.resume()
      }
      thread.stackSize = 256 << 10
      thread.start()
    }
  }

  /// Ends the process group: SIGTERM, then SIGKILL after `grace` seconds; reaps the child and sweeps
  /// whatever of its descendants left the group but kept its mark. Blocks; safe to call twice.
  public func stopNow(grace: Double = 1) {
    let first = stopped.withLock { done -> Bool in
      defer { done = true }
      return !done
    }
    guard first else { return }
    kill(-pid, SIGTERM)
    let deadline = Monotonic.seconds() + grace
    var status: Int32 = 0
    var reaped = false
    while Monotonic.seconds() < deadline {
      if waitpid(pid, &status, WNOHANG) == pid {
        reaped = true
        break
      }
      usleep(10_000)
    }
    kill(-pid, SIGKILL)
    if !reaped { while waitpid(pid, &status, 0) < 0, errno == EINTR {} }
    evalh_untrack_group(pid)
    Orphans.sweep(mark: mark, group: pid)
    close(stdin)
    close(stdout)
  }

  private func drainStderr() {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(stderr, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { break }
      tail.withLock { kept in
        kept += buffer[0..<n]
        if kept.count > Self.tailLimit { kept.removeFirst(kept.count - Self.tailLimit) }
      }
    }
    close(stderr)
  }
}
