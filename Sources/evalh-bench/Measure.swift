import CEvalhSys
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What one child process took: wall time, peak memory, exit status, its stdout.
struct ChildRun {
  var seconds: Double
  var maxRSSMiB: Double
  var status: Int32
  var stdout: String
}

enum Measure {
  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// Runs `argv` to completion (stdout to a file, stderr discarded) and reads its rusage with wait4:
  /// the peak resident memory of that child alone.
  static func run(_ argv: [String], environment: [String: String] = [:], stdin: String? = nil) -> ChildRun {
    let outFile = NSTemporaryDirectory() + "evalh-bench-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { unlink(outFile) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for p in cArgs { free(p) }
      for p in cEnv { free(p) }
    }
    let start = now()
    var pid: pid_t = 0
    guard posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv) == 0 else {
      return ChildRun(seconds: 0, maxRSSMiB: 0, status: 127, stdout: "")
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let seconds = now() - start
    let out = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ChildRun(seconds: seconds, maxRSSMiB: Double(usage.ru_maxrss) / 1024, status: code, stdout: out)
  }

  /// The floor of subprocess trials: `count` bare spawn-and-wait cycles of `program` on `threads` threads.
  /// With `plumbing`, each cycle also does what any harness keeping agent-protocol.md's promises must:
  /// three pipes (the request written to stdin, stdout and stderr read to the end), a process group
  /// of its own, default signal dispositions, and a fresh working folder made and removed.
  static func spawnLoop(_ program: String, count: Int, threads: Int, plumbing: Bool = false, folder: String = "")
    -> Double
  {
    let start = now()
    let perThread = count / threads
    let group = DispatchGroup()
    for thread in 0..<threads {
      group.enter()
      Thread {
        let args = [strdup(program), nil]
        let request = Array(#"{"protocol":"evalh/1","task":{"id":"t-1","input":"q"}}\#n"#.utf8)
        var scratch = [UInt8](repeating: 0, count: 65536)
        for cycle in 0..<perThread {
          var actions = posix_spawn_file_actions_t()
          posix_spawn_file_actions_init(&actions)
          var attributes = posix_spawnattr_t()
          posix_spawnattr_init(&attributes)
          var fds: [Int32] = []
          let workdir = "\(folder)/\(thread)-\(cycle)"
          if plumbing {
            var pipes = [Int32](repeating: -1, count: 6)
            // Close-on-exec, as a harness running trials side by side must: another thread's child
            // holding this one's stdin open would never let it see the end of its request.
            for i in 0..<3 {
              var pair: [Int32] = [-1, -1]
              _ = evalh_pipe2(&pair, O_CLOEXEC)
              pipes[2 * i] = pair[0]
              pipes[2 * i + 1] = pair[1]
            }
            posix_spawn_file_actions_adddup2(&actions, pipes[0], 0)
            posix_spawn_file_actions_adddup2(&actions, pipes[3], 1)
            posix_spawn_file_actions_adddup2(&actions, pipes[5], 2)
            mkdir(workdir, 0o755)
            evalh_spawn_addchdir(&actions, workdir)
            var defaults = sigset_t()
            sigemptyset(&defaults)
            for s in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, s) }
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
            fds = pipes
          } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
          }
          var pid: pid_t = 0
          if posix_spawn(&pid, program, &actions, &attributes, args, environ) == 0 {
            if plumbing {
              for i in [0, 3, 5] { close(fds[i]) }
              _ = request.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
              close(fds[1])
              while scratch.withUnsafeMutableBytes({ read(fds[2], $0.baseAddress, $0.count) }) > 0 {}
              while scratch.withUnsafeMutableBytes({ read(fds[4], $0.baseAddress, $0.count) }) > 0 {}
              close(fds[2])
              close(fds[4])
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
          }
          if plumbing { rmdir(workdir) }
          posix_spawn_file_actions_destroy(&actions)
          posix_spawnattr_destroy(&attributes)
        }
        free(args[0])
        group.leave()
      }.start()
    }
    group.wait()
    return Double(perThread * threads) / (now() - start)
  }

  /// The share of the machine's CPU time the hypervisor gave to other guests ("steal" in /proc/stat)
  /// while `body` ran: on a shared host, a figure measured under steal is low by about that much.
  static func steal<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    func times() -> (steal: Double, total: Double) {
      guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
      else { return (0, 0) }
      let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
      guard fields.count >= 8 else { return (0, 0) }
      // user nice system idle iowait irq softirq steal (guest time is already in user).
      return (fields[7], fields.prefix(8).reduce(0, +))
    }
    let before = times()
    let result = try body()
    let after = times()
    let total = after.total - before.total
    return (result, total > 0 ? (after.steal - before.steal) / total : 0)
  }

  /// The value at quantile `q` (linear interpolation) of unsorted `values`.
  static func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let position = q * Double(sorted.count - 1)
    let low = Int(position.rounded(.down))
    let high = min(low + 1, sorted.count - 1)
    return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
  }

  static func median(_ values: [Double]) -> Double { quantile(values, 0.5) }
}
