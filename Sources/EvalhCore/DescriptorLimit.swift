import Foundation

/// The process's limit on open file descriptors. Each subprocess trial holds three pipes (six
/// descriptors) while it runs, so `--concurrency 400` needs more than the 1,024 many systems give
/// a shell by default; the hard limit is usually far higher, and a process may raise its own soft
/// limit up to it.
public enum DescriptorLimit {
  /// Descriptors a run may hold per trial in flight (a child's pipes, a connection, its folder),
  /// plus the run's own (the database, the tool server, the event loops).
  public static func needed(concurrency: Int) -> Int { concurrency * 8 + 64 }

  /// Raises the soft limit to `needed` when it is lower and the hard limit allows it (no higher, so
  /// children that still use select(2) keep a limit they can live with); the soft limit after.
  public static func ensure(_ needed: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
    guard limit.rlim_cur != rlim_t.max, limit.rlim_cur < rlim_t(needed) else {
      return limit.rlim_cur == rlim_t.max ? Int.max : Int(limit.rlim_cur)
    }
    let raised = limit.rlim_max == rlim_t.max ? rlim_t(needed) : min(limit.rlim_max, rlim_t(needed))
    var wanted = rlimit(rlim_cur: raised, rlim_max: limit.rlim_max)
    return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 ? Int(raised) : Int(limit.rlim_cur)
  }
}
