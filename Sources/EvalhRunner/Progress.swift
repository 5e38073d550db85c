import EvalhCore
import Foundation
import Synchronization

/// The live progress display on stderr: a rewritten line on a terminal, sparse plain lines otherwise.
public final class ProgressDisplay: Sendable {
  /// How progress is shown.
  public enum Mode: Sendable {
    case terminal
    case plain
    case none
  }

  /// The counts so far and when the line was last drawn.
  private struct State {
    var done = 0
    var passed = 0
    var failed = 0
    var errors = 0
    var lastDraw = Date.distantPast
  }

  private let state = Mutex(State())
  private let mode: Mode
  private let total: Int
  private let start = Date()
  private let interval: TimeInterval
  private let sink: @Sendable (String) -> Void

  /// `total` trials to run; `mode` from the terminal and `--no-progress`; `sink` receives the text (stderr).
  public init(
    total: Int, mode: Mode, interval: TimeInterval? = nil,
    sink: @escaping @Sendable (String) -> Void = { StandardStream.error.write($0) }
  ) {
    self.total = total
    self.mode = mode
    self.interval = interval ?? (mode == .terminal ? 0.1 : 5)
    self.sink = sink
  }

  /// Counts a finished trial and redraws when due.
  public func record(_ status: TrialStatus) {
    state.withLock { s in
      s.done += 1
      switch status {
      case .pass: s.passed += 1
      case .fail: s.failed += 1
      case .error, .timeout: s.errors += 1
      }
      let now = Date()
      if now.timeIntervalSince(s.lastDraw) >= interval || s.done == total {
        s.lastDraw = now
        draw(s, final: false)
      }
    }
  }

  /// Ends the display (a newline after the live line).
  public func finish() {
    state.withLock { s in
      guard mode != .none else { return }
      if mode == .terminal || s.done != total || s.lastDraw == .distantPast { draw(s, final: true) }
    }
  }

  private func draw(_ s: State, final: Bool) {
    guard mode != .none else { return }
    let elapsed = Date().timeIntervalSince(start)
    var line =
      "\(s.done)/\(total) trials  pass \(s.passed)  fail \(s.failed)  error \(s.errors)  \(Durations.format(elapsed))"
    if s.done > 0, s.done < total {
      line += "  ETA \(Durations.format(elapsed / Double(s.done) * Double(total - s.done)))"
    }
    switch mode {
    case .terminal: sink("\r\u{1B}[2K\(line)\(final ? "\n" : "")")
    case .plain: sink("\(line)\n")
    case .none: break
    }
  }
}
