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

/// What a grader sees of a trial.
public struct GradingInput: Sendable {
  /// The agent's `output`.
  public var output: JSONValue
  public init(output: JSONValue) { self.output = output }
}

/// Pure graders: everything but `command`, which the runner executes.
public enum Grading {
  /// Grades `input` with an in-process grader; nil for a command grader.
  public static func grade(_ grader: Grader, _ input: GradingInput) -> Grade? {
    let text = input.output.gradingText
    func result(_ passed: Bool, _ detail: @autoclosure () -> String) -> Grade {
      Grade(kind: .expect, grader: grader.label, passed: passed, detail: passed ? nil : detail())
    }
    switch grader.kind {
    case .equals(let expected):
      let passed: Bool
      if case .string(let e) = expected, case .string(let o) = input.output {
        passed = e.trimmingCharacters(in: .whitespacesAndNewlines) == o.trimmingCharacters(in: .whitespacesAndNewlines)
      } else {
        passed = expected == input.output
      }
      return result(passed, "output is not equal to \(expected.compactText.prefix(200))")
    case .contains(let needles):
      let missing = needles.filter { !text.contains($0) }
      return result(missing.isEmpty, "output does not contain \(quoted(missing))")
    case .containsAny(let needles):
      return result(needles.contains { text.contains($0) }, "output contains none of \(quoted(needles))")
    case .regex(let pattern):
      return result(pattern.matches(text), "output does not match /\(pattern.source)/")
    case .json(let check):
      let (passed, detail) = evaluate(check, on: input.output)
      return result(passed, detail)
    case .command:
      return nil
    }
  }

  /// Checks `input` against an in-process assurance check; nil for a command check.
  public static func check(_ check: Check, _ input: GradingInput) -> Grade? {
    let text = input.output.gradingText
    func result(_ violated: Bool, _ detail: @autoclosure () -> String) -> Grade {
      Grade(kind: .assure, grader: check.label, passed: !violated, detail: violated ? detail() : nil)
    }
    switch check.kind {
    case .notContains(let needles):
      let found = needles.filter { text.contains($0) }
      return result(!found.isEmpty, "output contains \(quoted(found))")
    case .notRegex(let pattern):
      return result(pattern.matches(text), "output matches /\(pattern.source)/")
    case .command:
      return nil
    }
  }

  /// The `json:` grader: the output (parsed when a string) at `path` meets the condition.
  static func evaluate(_ check: JSONCheck, on output: JSONValue) -> (Bool, String) {
    var document = output
    if case .string(let s) = output {
      guard let parsed = JSONValue.parse(s) else { return (false, "output is not JSON") }
      document = parsed
    }
    let values = check.path.select(in: document)
    let path = check.path.description
    switch check.condition {
    case .exists(let wanted):
      return (values.isEmpty != wanted, wanted ? "nothing at \(path)" : "a value exists at \(path)")
    case .equals(let expected):
      let passed = values.contains { v in
        if let tolerance = check.tolerance, let a = v.numberValue, let b = expected.numberValue {
          return abs(a - b) <= tolerance
        }
        return v == expected
      }
      return (passed, describe(values, at: path, "is not equal to \(expected.compactText)"))
    case .contains(let needle):
      let passed = values.contains { $0.gradingText.contains(needle) || ($0.arrayValue?.contains(.string(needle)) ?? false) }
      return (passed, describe(values, at: path, "does not contain \(quoted([needle]))"))
    case .matches(let pattern):
      return (values.contains { pattern.matches($0.gradingText) }, describe(values, at: path, "does not match /\(pattern.source)/"))
    case .gte(let bound):
      return (values.contains { ($0.numberValue ?? -.infinity) >= bound }, describe(values, at: path, "is not ≥ \(bound)"))
    case .lte(let bound):
      return (values.contains { ($0.numberValue ?? .infinity) <= bound }, describe(values, at: path, "is not ≤ \(bound)"))
    }
  }

  static func describe(_ values: [JSONValue], at path: String, _ failure: String) -> String {
    guard let first = values.first else { return "nothing at \(path)" }
    return "\(path) = \(first.compactText.prefix(200)) \(failure)"
  }

  static func quoted(_ items: [String]) -> String {
    items.map { "'\($0)'" }.joined(separator: ", ")
  }
}
