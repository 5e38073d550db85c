import EvalhCore
import Foundation

/// The live progress display on stderr: a rewritten line on a terminal, sparse plain lines otherwise.
public final class ProgressDisplay: @unchecked Sendable {
  /// How progress is shown.
  public enum Mode: Sendable {
    case terminal
    case plain
    case none
  }

  private let lock = NSLock()
  private let mode: Mode
  private let total: Int
  private let start = Date()
  private var done = 0
  private var passed = 0
  private var failed = 0
  private var errors = 0
  private var lastDraw = Date.distantPast
  private let interval: TimeInterval
  private let sink: @Sendable (String) -> Void

  /// `total` trials to run; `mode` from the terminal and `--no-progress`; `sink` receives the text (stderr).
  public init(
    total: Int, mode: Mode, interval: TimeInterval? = nil,
    sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
  ) {
    self.total = total
    self.mode = mode
    self.interval = interval ?? (mode == .terminal ? 0.1 : 5)
    self.sink = sink
  }

  /// Counts a finished trial and redraws when due.
  public func record(_ status: TrialStatus) {
    lock.lock()
    defer { lock.unlock() }
    done += 1
    switch status {
    case .pass: passed += 1
    case .fail: failed += 1
    case .error, .timeout: errors += 1
    }
    let now = Date()
    if now.timeIntervalSince(lastDraw) >= interval || done == total {
      lastDraw = now
      draw(final: false)
    }
  }

  /// Ends the display (a newline after the live line).
  public func finish() {
    lock.lock()
    defer { lock.unlock() }
    guard mode != .none else { return }
    if mode == .terminal {
      draw(final: true)
    } else if done != total || lastDraw == .distantPast {
      draw(final: true)
    }
  }

  private func draw(final: Bool) {
    guard mode != .none else { return }
    let elapsed = Date().timeIntervalSince(start)
    var line = "\(done)/\(total) trials  pass \(passed)  fail \(failed)  error \(errors)  \(Durations.format(elapsed))"
    if done > 0, done < total {
      line += "  ETA \(Durations.format(elapsed / Double(done) * Double(total - done)))"
    }
    switch mode {
    case .terminal: sink("\r\u{1B}[2K\(line)\(final ? "\n" : "")")
    case .plain: sink("\(line)\n")
    case .none: break
    }
  }
}
