import Foundation

/// An `expect` entry.
public struct Grader: Sendable {
  /// A grader, named or not.
  public init(name: String? = nil, kind: GraderKind) {
    self.name = name
    self.kind = kind
  }

  /// The optional `name:`; reports show it instead of the kind.
  public var name: String?
  /// What the grader checks.
  public var kind: GraderKind

  /// The name stored in `grades.grader`: the `name:`, else the keyword (with the tool for `tool_called`).
  public var label: String {
    if let name { return name }
    if case .toolCalled(let tool, _) = kind { return "tool_called(\(tool))" }
    return kind.keyword
  }
}

/// The graders of suite-format.md.
public enum GraderKind: Sendable {
  case equals(JSONValue)
  case contains([String])
  case containsAny([String])
  case regex(Pattern)
  case json(JSONCheck)
  case jsonSchema(JSONSchema)
  case toolCalled(name: String, arguments: JSONValue?)
  case toolSequence([String])
  case command(CommandSpec)
  case judge(JudgeSpec)
  /// The trial's final tool state meets a condition.
  case state(StateCheck)
  /// evalh calls a tool after the agent finished and checks its result.
  case toolResult(ToolResultCheck)

  /// The YAML keywords, one per case: the loader's list and its switch are made from them.
  public enum Keyword: String, CaseIterable, Sendable {
    case equals, contains, regex, json, command, judge, state
    case toolResult = "tool_result"
    case containsAny = "contains_any"
    case jsonSchema = "json_schema"
    case toolCalled = "tool_called"
    case toolSequence = "tool_sequence"
  }

  /// This grader's keyword.
  public var tag: Keyword {
    switch self {
    case .equals: .equals
    case .contains: .contains
    case .containsAny: .containsAny
    case .regex: .regex
    case .json: .json
    case .jsonSchema: .jsonSchema
    case .toolCalled: .toolCalled
    case .toolSequence: .toolSequence
    case .command: .command
    case .judge: .judge
    case .state: .state
    case .toolResult: .toolResult
    }
  }

  /// The YAML keyword.
  public var keyword: String { tag.rawValue }
}

/// An `assure` entry.
public struct Check: Sendable {
  /// A check, named or not.
  public init(name: String? = nil, kind: CheckKind) {
    self.name = name
    self.kind = kind
  }

  /// The optional `name:`.
  public var name: String?
  /// What the check forbids.
  public var kind: CheckKind

  /// The name stored in `grades.grader`.
  public var label: String { name ?? kind.keyword }
}

/// The assurance checks of suite-format.md.
public enum CheckKind: Sendable {
  case notContains([String])
  case notRegex(Pattern)
  case noPII([PIIKind])
  case jsonSchema(JSONSchema)
  /// `allow` nil means every tool not denied is allowed.
  case tools(allow: [String]?, deny: [String], maxCalls: Int?)
  case toolSchemas([(tool: String, schema: JSONSchema)])
  case maxSteps(Int)
  case maxCost(Double)
  /// Seconds.
  case maxLatency(Double)
  case maxTokens(Int)
  case command(CommandSpec)
  /// Every reported tool call must have happened (served tools only).
  case honestSteps

  /// The YAML keywords, one per case: the loader's list and its switch are made from them.
  public enum Keyword: String, CaseIterable, Sendable {
    case tools, command
    case honestSteps = "honest_steps"
    case notContains = "not_contains"
    case notRegex = "not_regex"
    case noPII = "no_pii"
    case jsonSchema = "json_schema"
    case toolSchemas = "tool_schemas"
    case maxSteps = "max_steps"
    case maxCost = "max_cost"
    case maxLatency = "max_latency"
    case maxTokens = "max_tokens"
  }

  /// This check's keyword.
  public var tag: Keyword {
    switch self {
    case .notContains: .notContains
    case .notRegex: .notRegex
    case .noPII: .noPII
    case .jsonSchema: .jsonSchema
    case .tools: .tools
    case .toolSchemas: .toolSchemas
    case .maxSteps: .maxSteps
    case .maxCost: .maxCost
    case .maxLatency: .maxLatency
    case .maxTokens: .maxTokens
    case .command: .command
    case .honestSteps: .honestSteps
    }
  }

  /// The YAML keyword.
  public var keyword: String { tag.rawValue }
}

/// A compiled regular expression with its source.
public struct Pattern: @unchecked Sendable {
  // NSRegularExpression is immutable and documented thread-safe.
  /// The compiled expression.
  public let regex: NSRegularExpression
  /// The pattern as written.
  public let source: String

  /// Compiles `source`; throws Foundation's error for a bad pattern.
  public init(_ source: String) throws {
    self.regex = try NSRegularExpression(pattern: source)
    self.source = source
  }

  /// Whether the pattern matches somewhere in `text`.
  public func matches(_ text: String) -> Bool { regex.matchesWithinBudget(text) }
}

/// The `json:` grader's condition.
public struct JSONCheck: Sendable {
  /// A condition at a path.
  public init(path: JSONPath, condition: Condition, tolerance: Double? = nil) {
    self.path = path
    self.condition = condition
    self.tolerance = tolerance
  }

  /// Where to look.
  public var path: JSONPath
  /// What must hold there.
  public var condition: Condition
  /// Allowed absolute difference for numeric `equals`.
  public var tolerance: Double?

  /// One condition per `json:` grader.
  public enum Condition: Sendable {
    case equals(JSONValue)
    case contains(String)
    case matches(Pattern)
    case exists(Bool)
    case gte(Double)
    case lte(Double)
  }
}

/// A `judge` grader: another agent of the suite scores the output.
public struct JudgeSpec: Sendable {
  /// A judge; the threshold defaults to 0.5.
  public init(agent: String, rubric: String, threshold: Double = JudgeSpec.defaultThreshold, timeout: Double? = nil) {
    self.agent = agent
    self.rubric = rubric
    self.threshold = threshold
    self.timeout = timeout
  }

  /// The judging agent's name; it is not evaluated itself.
  public var agent: String
  /// What the judge is asked to score against.
  public var rubric: String
  /// The grade passes when the score is at least this.
  public var threshold: Double
  /// Seconds for the judge's answer; nil: the task's timeout.
  public var timeout: Double?

  /// The threshold when the suite does not say.
  public static let defaultThreshold = 0.5
}

/// A `command` grader or check: a program that judges the trial by its exit code.
public struct CommandSpec: Sendable {
  /// A command with its timeout.
  public init(argv: [String], timeout: Double = CommandSpec.defaultTimeout) {
    self.argv = argv
    self.timeout = timeout
  }

  /// argv, run in the suite's folder.
  public var argv: [String]
  /// Seconds before it is killed (a grader error).
  public var timeout: Double

  /// The default timeout of a command grader, seconds.
  public static let defaultTimeout = 60.0
}

/// A `state:` grader: the trial's final state document at a path, or equal to a file.
public enum StateCheck: Sendable {
  /// A condition at a JSONPath (as `json:` checks the output).
  case at(JSONCheck)
  /// The whole document equals this one (read from `equals_file` when the suite loads).
  case equalsDocument(JSONValue, file: String)
}

/// A `tool_result:` grader: evalh calls `call` with `arguments` after the agent finished
/// (outside the trajectory) and checks the result.
public struct ToolResultCheck: Sendable {
  /// A check from its parts.
  public init(call: String, arguments: JSONValue, check: JSONCheck) {
    self.call = call
    self.arguments = arguments
    self.check = check
  }

  /// The tool evalh calls.
  public var call: String
  /// Its arguments.
  public var arguments: JSONValue
  /// What must hold of the result.
  public var check: JSONCheck
}
