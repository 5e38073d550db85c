import Foundation

/// The result of one grader or assurance check on one trial (a `grades` row).
public struct Grade: Sendable, Hashable, Codable {
  /// `expect` or `assure`.
  public var kind: GradeKind
  /// The grader's keyword or its `name:`.
  public var grader: String
  /// Whether it passed (for `assure`: whether the check was respected).
  public var passed: Bool
  /// A score in [0, 1] when the grader gave one.
  public var score: Double?
  /// Why it failed, for people.
  public var detail: String?

  /// A grade; score and detail are optional.
  public init(kind: GradeKind, grader: String, passed: Bool, score: Double? = nil, detail: String? = nil) {
    self.kind = kind
    self.grader = grader
    self.passed = passed
    self.score = score
    self.detail = detail
  }
}

/// Which list of the task a grade came from.
public enum GradeKind: String, Sendable, Codable {
  case expect
  case assure
}

/// What in-process grading says of one grader or check on one trial.
public enum GradingOutcome: Sendable {
  /// Graded here.
  case graded(Grade)
  /// Graded by running something outside evalh's process: the runner's job (`TrialGrader`).
  case external(ExternalGrader)
  /// What it measures is unknown for this trial (a cost or token count the agent did not report).
  case notEvaluated

  /// The grade, when graded here.
  public var grade: Grade? {
    if case .graded(let g) = self { g } else { nil }
  }
}

/// A grader or check that runs outside evalh's process.
public enum ExternalGrader: Sendable {
  /// A program judging the trial by its exit code.
  case command(CommandSpec)
  /// Another agent of the suite scoring the output.
  case judge(JudgeSpec)
  /// A call to one of the trial's tools after the agent finished.
  case toolResult(ToolResultCheck)
}
