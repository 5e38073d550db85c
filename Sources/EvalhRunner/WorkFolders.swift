import CEvalhSys
import EvalhCore
import Foundation
import Synchronization

/// The trials' working folders, under one root: every trial, subprocess or HTTP, gets a fresh one
/// (agent-protocol.md). A folder its trial left empty is kept as a spare and renamed into place for a
/// later trial instead of being removed and made again: on ext4 two renames cost about 15 µs against
/// 50 µs for rmdir and mkdir (measured alone; under a busy run, making directories was an eighth of
/// evalh's own time per subprocess trial).
final class WorkFolders: Sendable {
  let root: String
  private let spares = Mutex<[String]>([])
  private let named = Atomic<Int>(0)

  init(root: String) { self.root = root }

  /// `root/agent/task/trial`, the last `trial-CONDITION` under a condition other than `clean`. Names
  /// are checked when the suite is loaded (`Names`); each is still made a single safe component here,
  /// so no name read from anywhere can climb out of the root.
  func path(agent: String, condition: String = Condition.defaultName, task: String, trial: Int) -> String {
    Self.path(root: root, agent: agent, condition: condition, task: task, trial: trial)
  }

  /// `path(agent:condition:task:trial:)` under any root (the trials' tool state folders too).
  static func path(root: String, agent: String, condition: String, task: String, trial: Int) -> String {
    let last = condition == Condition.defaultName ? "\(trial)" : Names.pathComponent("\(trial)-\(condition)")
    return "\(root)/\(Names.pathComponent(agent))/\(Names.pathComponent(task))/\(last)"
  }

  /// An empty folder at `path`, whatever was there (a resumed run's leftover is removed).
  /// Makes the empty folder `path`, exclusively: one that already exists is never reused or
  /// removed (nil then, with the reason: the harness's failure).
  func make(_ path: String) -> String? {
    if let spare = spares.withLock({ $0.popLast() }) {
      if move(spare, to: path) { return nil }
      _ = rmdir(spare)
    }
    if mkdir(path, 0o755) == 0 { return nil }
    if errno == ENOENT {
      makeParent(of: path)
      if mkdir(path, 0o755) == 0 { return nil }
    }
    return "could not make the fresh working folder \(path): \(String(cString: strerror(errno)))"
  }

  /// Removes the trial's folder, or keeps it as a spare when the trial left it empty and as made.
  func remove(_ path: String) {
    if Self.isPristine(path) {
      let spare = "\(root)/.spare-\(named.add(1, ordering: .relaxed).newValue)"
      if rename(path, spare) == 0 {
        spares.withLock { $0.append(spare) }
        return
      }
    }
    if rmdir(path) == 0 || errno == ENOENT { return }
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Removes the spares (the root itself stays when failed trials' folders are kept).
  func removeSpares() {
    for spare in spares.withLock({ s in
      defer { s.removeAll() }
      return s
    }) { _ = rmdir(spare) }
  }

  /// Renames `spare` to `path` if nothing is there, making the parent if need be.
  private func move(_ spare: String, to path: String) -> Bool {
    if evalh_rename_noreplace(spare, path) == 0 { return true }
    guard errno == ENOENT else { return false }
    makeParent(of: path)
    return evalh_rename_noreplace(spare, path) == 0
  }

  private func makeParent(of path: String) {
    // The first trial of this agent and task: the parents are made once.
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
  }

  /// Empty, and with the mode it was made with (an agent may have changed it).
  static func isPristine(_ path: String) -> Bool {
    guard let dir = opendir(path) else { return false }
    defer { closedir(dir) }
    var info = stat()
    guard fstat(dirfd(dir), &info) == 0, info.st_mode & 0o7777 == 0o755 else { return false }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { return false }
    }
    return true
  }
}
