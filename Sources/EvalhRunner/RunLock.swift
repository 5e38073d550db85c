import EvalhCore
import Foundation
import Synchronization

/// One evalh at a time on a run: two `--resume` of one run (or a resume while the run is still
/// going) would run the same trials twice. An flock(2) on a file named after the database and the
/// run, released by the kernel however evalh ends (kill -9 included), so a killed run stays resumable.
final class RunLock: Sendable {
  private let fd: Int32
  private let path: String

  private init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  // Unlinked while still held, so no file is left behind; `acquire` checks that the file it locked
  // is still the one at the path, so a file being unlinked is never taken for the lock.
  deinit {
    guard fd >= 0 else { return }
    unlink(path)
    close(fd)
  }

  /// Takes the lock of `runID` in the database at `database`, or says who holds it.
  static func acquire(database: String, runID: String) throws(RunError) -> RunLock {
    let absolute = URL(fileURLWithPath: database).standardizedFileURL.path
    let hash = FNV1a(Array(absolute.utf8) + [0] + Array(runID.utf8)).value
    let path = NSTemporaryDirectory() + "evalh-run-lock-" + String(hash, radix: 16)
    for _ in 0..<10 {
      let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
      // Without a lock file (a read-only /tmp) evalh runs as before rather than not at all.
      guard fd >= 0 else { return RunLock(fd: -1, path: path) }
      if flock(fd, LOCK_EX | LOCK_NB) != 0 {
        let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
          in: .whitespacesAndNewlines)
        close(fd)
        throw .cannotResume(
          "run \(VisibleText.of(runID)) is being run by another evalh right now\(holder.map { " (pid \($0))" } ?? ""); wait for it to finish, or stop it, then resume"
        )
      }
      // Locked: but if its holder unlinked it meanwhile, the path now names another file (or none).
      var held = stat()
      var named = stat()
      guard fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev
      else {
        close(fd)
        continue
      }
      _ = ftruncate(fd, 0)
      let pid = Array("\(getpid())\n".utf8)
      _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      return RunLock(fd: fd, path: path)
    }
    throw .cannotResume("run \(VisibleText.of(runID)): its lock file \(path) keeps changing; try again")
  }
}

/// The locks a runner took, held as long as it lives.
final class RunLocks: Sendable {
  private let held = Mutex<[RunLock]>([])

  func keep(_ lock: RunLock) { held.withLock { $0.append(lock) } }
}
