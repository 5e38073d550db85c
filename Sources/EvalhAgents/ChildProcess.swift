import CEvalhSys
import EvalhCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What to start, and the limits it runs under.
public struct ChildSpec: Sendable {
  /// argv; argv[0] is searched on PATH unless it holds a slash (then relative to `cwd`).
  public var argv: [String]
  /// Working directory of the child.
  public var cwd: String
  /// The child's whole environment.
  public var environment: [String: String]
  /// Bytes written to stdin, which is then closed.
  public var stdin: [UInt8]
  /// Seconds before SIGTERM to the process group.
  public var timeout: Double
  /// Bytes of stdout kept; the rest is read and dropped.
  public var maxStdout: Int
  /// Bytes of stderr kept from the end.
  public var stderrTail: Int
  /// Seconds between SIGTERM and SIGKILL.
  public var killGrace: Double

  /// A child to run; limits default to agent-protocol.md's.
  public init(
    argv: [String], cwd: String, environment: [String: String], stdin: [UInt8] = [], timeout: Double,
    maxStdout: Int = 4 << 20, stderrTail: Int = 64 << 10, killGrace: Double = 2
  ) {
    self.argv = argv
    self.cwd = cwd
    self.environment = environment
    self.stdin = stdin
    self.timeout = timeout
    self.maxStdout = maxStdout
    self.stderrTail = stderrTail
    self.killGrace = killGrace
  }
}

/// How a child ended.
public enum ChildTermination: Sendable, Hashable {
  /// Exited with a status.
  case exited(Int32)
  /// Killed by a signal it did not get from evalh.
  case signaled(Int32)
  /// Ran past its timeout and was killed.
  case timedOut
  /// evalh was interrupted and killed it.
  case interrupted
  /// Never started (missing binary, no permission, bad cwd).
  case failedToStart(String)
  /// evalh could not start it for want of its own resources (file descriptors, processes, memory):
  /// the harness's failure, not the child's.
  case harnessFailure(String)
}

/// A finished child: how it ended and what it wrote.
public struct ChildResult: Sendable {
  /// How it ended.
  public var termination: ChildTermination
  /// The first `maxStdout` bytes of stdout.
  public var stdout: [UInt8]
  /// Whether stdout was longer than kept.
  public var stdoutTruncated: Bool
  /// The last `stderrTail` bytes of stderr.
  public var stderr: [UInt8]
  /// Seconds from spawn to exit.
  public var elapsed: Double
}

/// Runs child processes in their own process group, with bounded capture and a hard
/// deadline; no process of the group outlives the call.
public enum ChildProcess {
  /// Runs `spec` on a dedicated thread (it blocks in poll), so the async pool is never held.
  /// Cancelling the calling task ends the child like an interruption.
  public static func run(_ spec: ChildSpec, interruption: Interruption? = nil) async -> ChildResult {
    let cancellation = Interruption()
    return await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let thread = Thread {
          continuation.resume(returning: runBlocking(spec, interruption: interruption, cancellation: cancellation))
        }
        thread.stackSize = 1 << 20
        thread.start()
      }
    } onCancel: {
      cancellation.trigger()
    }
  }

  private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

  /// Runs `spec` on the calling thread.
  public static func runBlocking(
    _ spec: ChildSpec, interruption: Interruption? = nil, cancellation: Interruption? = nil
  )
    -> ChildResult
  {
    _ = ignoreSIGPIPE
    _ = Orphans.setUp
    let start = Monotonic.seconds()
    func failed(_ reason: String, harness: Bool = false) -> ChildResult {
      ChildResult(
        termination: harness ? .harnessFailure(reason) : .failedToStart(reason), stdout: [], stdoutTruncated: false,
        stderr: [], elapsed: Monotonic.seconds() - start)
    }
    guard !spec.argv.isEmpty else { return failed("empty command") }
    let mark = Orphans.newMark()
    var spawned: pid_t = 0
    defer { Orphans.sweep(mark: mark, group: spawned) }
    let child: Spawned
    switch spawn(spec.argv, cwd: spec.cwd, environment: spec.environment, mark: mark) {
    case .success(let started): child = started
    case .failure(let failure): return failed(failure.message, harness: failure.isHarness)
    }
    let pid = child.pid
    spawned = pid
    evalh_track_group(pid)
    defer { evalh_untrack_group(pid) }
    var loop = WaitLoop(
      pid: pid, spec: spec, stdinFD: child.stdin, stdoutFD: child.stdout, stderrFD: child.stderr,
      interruptFD: interruption?.fd ?? -1, cancelFD: cancellation?.fd ?? -1, start: start)
    return loop.run()
  }

  /// A started child: its pid (and process group) and evalh's ends of its three pipes.
  public struct Spawned: Sendable {
    /// The child's pid, also its process group's id.
    public let pid: pid_t
    /// Writes to the child's stdin.
    public let stdin: Int32
    /// Reads the child's stdout.
    public let stdout: Int32
    /// Reads the child's stderr.
    public let stderr: Int32
  }

  /// Why a child did not start; `isHarness` when evalh ran out of its own resources.
  public struct SpawnFailure: Error, Sendable {
    /// For people.
    public let message: String
    /// Out of descriptors, processes or memory: evalh's side.
    public let isHarness: Bool
  }

  /// Starts `argv` in its own process group with piped stdin, stdout and stderr, default signal
  /// dispositions, no descriptor but the three inherited, and `mark` in its environment.
  static func spawn(_ argv: [String], cwd: String, environment: [String: String], mark: String)
    -> Result<Spawned, SpawnFailure>
  {
    _ = ignoreSIGPIPE
    _ = Orphans.setUp
    func failed(_ reason: String, harness: Bool = false) -> Result<Spawned, SpawnFailure> {
      .failure(SpawnFailure(message: reason, isHarness: harness))
    }

    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    guard evalh_pipe2(&inPipe, O_CLOEXEC) == 0 else {
      return failed("evalh could not make a pipe: \(errnoText())", harness: true)
    }
    guard evalh_pipe2(&outPipe, O_CLOEXEC) == 0 else {
      closeAll(inPipe)
      return failed("evalh could not make a pipe: \(errnoText())", harness: true)
    }
    guard evalh_pipe2(&errPipe, O_CLOEXEC) == 0 else {
      closeAll(inPipe + outPipe)
      return failed("evalh could not make a pipe: \(errnoText())", harness: true)
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    evalh_spawn_addchdir(&actions, cwd)
    evalh_spawn_addclosefrom(&actions, 3)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Own process group (pgid = pid), so timeouts and teardown reach every descendant;
    // default dispositions and an empty mask, whatever evalh ignores or blocks itself.
    posix_spawnattr_setpgroup(&attributes, 0)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var environment = environment
    environment[Orphans.variable] = mark
    let cArgv = argv.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for p in cArgv { free(p) }
      for p in envp { free(p) }
    }
    var pid: pid_t = 0
    var rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, envp)
    // ETXTBSY: another thread of this process is between fork and exec while holding the
    // script open for writing (it was just written). Transient; retry briefly.
    for attempt in 1...20 where rc == ETXTBSY {
      usleep(useconds_t(attempt * 5_000))
      rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, envp)
    }
    close(inPipe[0])
    close(outPipe[1])
    close(errPipe[1])
    guard rc == 0 else {
      closeAll([inPipe[1], outPipe[0], errPipe[0]])
      // Out of descriptors, processes or memory: evalh's own limits, not the agent's fault.
      let exhausted = [EMFILE, ENFILE, EAGAIN, ENOMEM].contains(rc)
      return failed(
        "\(exhausted ? "evalh could not start" : "cannot start") '\(argv[0])' in \(cwd): \(String(cString: strerror(rc)))",
        harness: exhausted)
    }

    return .success(Spawned(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0]))
  }

  /// Ends every process left by children that are over, marked or not (call when no child of the
  /// caller is meant to be running, at the end of a run).
  public static func endOrphans() { Orphans.sweepAll() }

  /// Ends what an evalh killed with -9 left running (its agents, marked with its pid).
  public static func endStrays() { Orphans.endStrays() }

  static func closeAll(_ fds: [Int32]) {
    for fd in fds where fd >= 0 { close(fd) }
  }

  /// What errno says, with what to do when the process is out of descriptors.
  static func errnoText() -> String {
    let out = errno == EMFILE || errno == ENFILE
    return String(cString: strerror(errno)) + (out ? " (lower --concurrency, or raise the limit: ulimit -n)" : "")
  }

}

/// The poll loop of one child: feeds stdin, drains stdout/stderr, enforces the deadline.
private struct WaitLoop {
  let pid: pid_t
  let spec: ChildSpec
  var stdinFD: Int32
  var stdoutFD: Int32
  var stderrFD: Int32
  let interruptFD: Int32
  let cancelFD: Int32
  let start: Double

  var stdinOffset = 0
  var stdout: [UInt8] = []
  var stdoutTruncated = false
  var stderr: [UInt8] = []
  var scratch = [UInt8](repeating: 0, count: 64 << 10)

  init(
    pid: pid_t, spec: ChildSpec, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, interruptFD: Int32, cancelFD: Int32,
    start: Double
  ) {
    self.cancelFD = cancelFD
    self.pid = pid
    self.spec = spec
    self.stdinFD = stdinFD
    self.stdoutFD = stdoutFD
    self.stderrFD = stderrFD
    self.interruptFD = interruptFD
    self.start = start
    for fd in [stdinFD, stdoutFD, stderrFD] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    if spec.stdin.isEmpty { closeStdin() }
  }

  mutating func run() -> ChildResult {
    let pidfd = evalh_pidfd_open(pid)
    defer { if pidfd >= 0 { close(pidfd) } }
    var reason: ChildTermination?  // set once evalh decided to end the child
    var killAt = Double.infinity
    let deadline = start + spec.timeout
    var exited = false
    var status: Int32 = 0

    while !exited {
      let now = Monotonic.seconds()
      if reason == nil, now >= deadline {
        reason = .timedOut
        signalGroup(SIGTERM)
        killAt = now + spec.killGrace
      }
      if reason == nil, (interruptFD >= 0 && isReadable(interruptFD)) || (cancelFD >= 0 && isReadable(cancelFD)) {
        reason = .interrupted
        signalGroup(SIGTERM)
        killAt = now + spec.killGrace
      }
      if now >= killAt {
        signalGroup(SIGKILL)
        killAt = .infinity
      }
      let wake = min(reason == nil ? deadline : killAt, now + (pidfd >= 0 ? 3600 : 0.002))
      var fds = [
        pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
        pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
        pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0),
        pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
        pollfd(fd: reason == nil ? interruptFD : -1, events: Int16(POLLIN), revents: 0),
        pollfd(fd: reason == nil ? cancelFD : -1, events: Int16(POLLIN), revents: 0),
      ]
      let waitMs = Int32(max(0, min(wake - now, 3600)) * 1000) + 1
      let ready = poll(&fds, nfds_t(fds.count), waitMs)
      if ready < 0, errno != EINTR { break }
      if fds[0].revents != 0 { drainStdout() }
      if fds[1].revents != 0 { drainStderr() }
      if fds[2].revents != 0 { feedStdin() }
      if pidfd >= 0 {
        exited = fds[3].revents != 0
      } else {
        // No pidfd (old kernel): peek without reaping so the pgid stays ours until the group is killed.
        var info = siginfo_t()
        exited =
          waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
      }
    }
    // The agent has exited (a zombie still holding its pid and pgid): end the rest of its
    // group, take what it wrote (its writes are all in the pipes by now), then reap it.
    signalGroup(SIGKILL)
    drainStdout()
    drainStderr()
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    closeStdin()
    ChildProcess.closeAll([stdoutFD, stderrFD])

    let termination: ChildTermination
    if let reason {
      termination = reason
    } else if status & 0x7f == 0 {
      termination = .exited((status >> 8) & 0xff)
    } else {
      termination = .signaled(status & 0x7f)
    }
    return ChildResult(
      termination: termination, stdout: stdout, stdoutTruncated: stdoutTruncated, stderr: stderr,
      elapsed: Monotonic.seconds() - start)
  }

  func signalGroup(_ s: Int32) { kill(-pid, s) }

  func isReadable(_ fd: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  mutating func closeStdin() {
    if stdinFD >= 0 { close(stdinFD) }
    stdinFD = -1
  }

  mutating func feedStdin() {
    guard stdinFD >= 0 else { return }
    while stdinOffset < spec.stdin.count {
      let n = spec.stdin.withUnsafeBytes { buf in
        let rest = UnsafeRawBufferPointer(rebasing: buf[stdinOffset...])
        return write(stdinFD, rest.baseAddress, rest.count)
      }
      if n > 0 {
        stdinOffset += n
      } else if n < 0, errno == EINTR {
        continue
      } else if n < 0, errno == EAGAIN {
        return
      } else {
        break  // EPIPE: the agent closed stdin without reading it all.
      }
    }
    closeStdin()
  }

  /// Reads what is available; keeps the first `maxStdout` bytes and counts the rest as truncated.
  mutating func drainStdout() {
    guard stdoutFD >= 0 else { return }
    while true {
      let n = scratch.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress, $0.count) }
      if n > 0 {
        let room = spec.maxStdout - stdout.count
        if room >= n {
          stdout.append(contentsOf: scratch[0..<n])
        } else {
          if room > 0 { stdout.append(contentsOf: scratch[0..<room]) }
          stdoutTruncated = true
        }
      } else if n < 0, errno == EINTR {
        continue
      } else {
        if n == 0 {
          close(stdoutFD)
          stdoutFD = -1
        }
        return
      }
    }
  }

  /// Reads what is available, keeping only the last `stderrTail` bytes.
  mutating func drainStderr() {
    guard stderrFD >= 0 else { return }
    while true {
      let n = scratch.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress, $0.count) }
      if n > 0 {
        stderr.append(contentsOf: scratch[0..<n])
        if stderr.count > 2 * spec.stderrTail { stderr.removeFirst(stderr.count - spec.stderrTail) }
      } else if n < 0, errno == EINTR {
        continue
      } else {
        if n == 0 {
          close(stderrFD)
          stderrFD = -1
        }
        if stderr.count > spec.stderrTail { stderr.removeFirst(stderr.count - spec.stderrTail) }
        return
      }
    }
  }
}
