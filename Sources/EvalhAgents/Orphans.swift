import CEvalhSys
import EvalhCore
import Foundation
import Synchronization

/// What a trial leaves behind after its process group is killed: descendants that left the group
/// (`setsid()` then fork) are not reached by killing it. evalh is a child subreaper, so such a
/// process is reparented to evalh when its parent dies; every child evalh starts carries a mark in
/// its environment (inherited by its descendants), and once that child is over, evalh's children
/// with its mark are killed and reaped until none is left.
enum Orphans {
  /// The environment variable every child of evalh gets.
  static let variable = "EVALH_PROCESS_MARK"

  /// Marks of children still running: a sweep for anything unmarked spares their descendants.
  private static let live = Mutex<Set<String>>([])
  private static let counter = Atomic<Int>(0)

  /// Makes evalh a subreaper and arms the crash handler; once per process.
  static let setUp: Void = {
    _ = evalh_set_child_subreaper()
    evalh_install_crash_handler()
  }()

  /// A fresh mark for a child about to start, recorded as live.
  static func newMark() -> String {
    let mark = "\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)"
    live.withLock { _ = $0.insert(mark) }
    return mark
  }

  /// Ends every orphan carrying `mark` (the child that had it, leader of `group`, is over), then
  /// forgets the mark. Zombies of the group (reparented to evalh when the leader died) are reaped.
  static func sweep(mark: String, group: pid_t) {
    let needle = Array("\(variable)=\(mark)".utf8)
    end(group: group) { environment in environment.split(separator: 0).contains { $0.elementsEqual(needle) } }
    live.withLock { _ = $0.remove(mark) }
  }

  /// Ends every orphan carrying a mark of this evalh whose child is over: one reparented after its
  /// child's own sweep (a parent in the group that took a moment to die). Called at the end of a run.
  /// A descendant that both left the group and dropped its environment (`env -i`) is not found.
  static func sweepAll() {
    let prefix = Array("\(variable)=\(getpid())-".utf8)
    let running = live.withLock { $0 }
    end(group: nil) { environment in
      guard let entry = environment.split(separator: 0).first(where: { $0.starts(with: prefix) }) else { return false }
      let mark = String(decoding: entry.dropFirst(variable.utf8.count + 1), as: UTF8.self)
      return !running.contains(mark)
    }
  }

  /// Ends the processes an evalh that no longer exists started (it was killed with -9, which no
  /// handler sees): any process carrying a mark whose evalh pid is gone. Reads every process's
  /// environment once; called when a run starts.
  static func endStrays() {
    let me = getpid()
    let prefix = Array("\(variable)=".utf8)
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = pid_t(name), pid != me, let environment = environment(of: pid),
        let entry = environment.split(separator: 0).first(where: { $0.starts(with: prefix) })
      else { continue }
      let mark = String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)
      guard let owner = pid_t(mark.prefix { $0 != "-" }), owner != me else { continue }
      if kill(owner, 0) != 0 && errno == ESRCH { kill(pid, SIGKILL) }
    }
  }

  /// Kills and reaps evalh's orphaned children whose environment `doomed` picks, and reaps the
  /// zombies of `group`, round after round (a killed orphan's children are reparented to evalh in
  /// turn), for at most 100 rounds.
  private static func end(group: pid_t?, _ doomed: ([UInt8]) -> Bool) {
    for _ in 0..<100 {
      var victims: [pid_t] = []
      for pid in children() {
        guard let (zombie, pgid) = status(of: pid) else { continue }
        if zombie {
          // Dead already, without an environment to read: reaped when it was of the trial's group.
          if let group, pgid == group { victims.append(pid) }
        } else if let environment = environment(of: pid), doomed(environment) {
          victims.append(pid)
        }
      }
      if victims.isEmpty { return }
      for pid in victims { kill(pid, SIGKILL) }
      for pid in victims { reap(pid) }
    }
  }

  /// The children of evalh's main thread, where the kernel reparents orphans (children evalh starts
  /// itself are children of the thread that started them).
  private static func children() -> [pid_t] {
    let me = getpid()
    guard let text = try? String(contentsOfFile: "/proc/\(me)/task/\(me)/children", encoding: .utf8) else { return [] }
    return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  }

  private static func environment(of pid: pid_t) -> [UInt8]? {
    FileManager.default.contents(atPath: "/proc/\(pid)/environ").map { Array($0) }
  }

  /// Whether `pid` is a zombie, and its process group, from /proc/PID/stat.
  private static func status(of pid: pid_t) -> (zombie: Bool, pgid: pid_t)? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm) ": state, ppid, pgrp, ...
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 2, let pgid = pid_t(fields[2]) else { return nil }
    return (fields[0] == "Z", pgid)
  }

  /// Waits for a killed orphan, up to a second (SIGKILL is not instant for a process in the kernel).
  private static func reap(_ pid: pid_t) {
    var status: Int32 = 0
    for _ in 0..<200 {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid || (r < 0 && errno != EINTR) { return }
      usleep(5_000)
    }
  }
}
