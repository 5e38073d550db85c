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
      cArgs.forEach { free($0) }
      cEnv.forEach { free($0) }
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
  static func spawnLoop(_ program: String, count: Int, threads: Int) -> Double {
    let start = now()
    let perThread = count / threads
    let group = DispatchGroup()
    for _ in 0..<threads {
      group.enter()
      Thread {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let args = [strdup(program), nil]
        for _ in 0..<perThread {
          var pid: pid_t = 0
          if posix_spawn(&pid, program, &actions, nil, args, environ) == 0 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
          }
        }
        free(args[0])
        posix_spawn_file_actions_destroy(&actions)
        group.leave()
      }.start()
    }
    group.wait()
    return Double(perThread * threads) / (now() - start)
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
