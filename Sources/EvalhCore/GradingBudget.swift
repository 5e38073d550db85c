import Foundation
import Synchronization

/// How long in-process grading of one trial may take. A catastrophic regular expression
/// (`(x+x+)+y` against 3,000 `x`) would otherwise never return, and Ctrl-C could not end it: every
/// match made while a budget is current stops at its deadline or at an interruption, and the
/// budget remembers that it was spent (the trial is then a `grader` error, not a fail).
public final class GradingBudget: Sendable {
  /// The budget of the grading under way, if any (set by the runner around in-process grading).
  @TaskLocal public static var current: GradingBudget?

  /// CLOCK_MONOTONIC seconds (`Monotonic.seconds()`).
  public let deadline: Double
  private let interruption: Interruption?
  private let spent = Atomic<Bool>(false)

  /// A budget of `seconds` from now, ended early by `interruption`.
  public init(seconds: Double, interruption: Interruption?) {
    deadline = Monotonic.seconds() + seconds
    self.interruption = interruption
  }

  /// Whether some match was stopped by the deadline or an interruption.
  public var isSpent: Bool { spent.load(ordering: .relaxed) }

  /// Whether grading must stop now (and from then on).
  func isOver() -> Bool {
    if isSpent { return true }
    guard Monotonic.seconds() >= deadline || interruption?.isTriggered == true else { return false }
    spent.store(true, ordering: .relaxed)
    return true
  }
}

extension NSRegularExpression {
  /// Whether the expression matches somewhere in `text`; with a current `GradingBudget`, the match
  /// is given up (false, the budget marked spent) once the budget is over.
  func matchesWithinBudget(_ text: String) -> Bool {
    let range = NSRange(text.startIndex..., in: text)
    guard let budget = GradingBudget.current else { return firstMatch(in: text, range: range) != nil }
    if budget.isOver() { return false }
    var found = false
    // .reportProgress calls the block every so often during a long match, so it can be stopped.
    enumerateMatches(in: text, options: [.reportProgress], range: range) { match, _, stop in
      if match != nil {
        found = true
        stop.pointee = true
      } else if budget.isOver() {
        stop.pointee = true
      }
    }
    return found
  }
}
