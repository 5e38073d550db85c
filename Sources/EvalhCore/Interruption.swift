import CEvalhSys
import Foundation

/// A shared "stop now" signal that every wait loop (children, HTTP attempts, graders) watches.
public final class Interruption: Sendable {
  private let readFD: Int32
  private let writeFD: Int32

  /// A pipe nobody has written to yet.
  public init() {
    var fds: [Int32] = [-1, -1]
    if evalh_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) != 0 { fds = [-1, -1] }
    readFD = fds[0]
    writeFD = fds[1]
  }

  deinit {
    close(readFD)
    close(writeFD)
  }

  /// Wakes every wait loop; idempotent and async-signal-safe.
  public func trigger() {
    var byte: UInt8 = 1
    _ = write(writeFD, &byte, 1)
  }

  /// Whether `trigger()` was called.
  public var isTriggered: Bool {
    var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  /// The pipe's read end: readable once triggered, for poll(2) loops.
  public var fd: Int32 { readFD }
}

/// CLOCK_MONOTONIC: the clock every deadline of a wait loop is measured on.
public enum Monotonic {
  /// Seconds since an arbitrary, fixed point; never jumps with the wall clock.
  public static func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}

/// The conventional name of a signal number ("SIGKILL"), or "signal N".
public func signalName(_ s: Int32) -> String {
  let names: [Int32: String] = [
    SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
    SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
    SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
    SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
  ]
  return names[s] ?? "signal \(s)"
}
