import Foundation

/// A loaded, validated suite (suite-format.md), with defaults filled in.
public struct Suite: Sendable {
  /// The suite's name: it identifies the suite across runs.
  public var name: String
  /// Free text shown in reports.
  public var description: String?
  /// Trials per task from the suite (nil: the CLI or the default decides).
  public var trials: Int?
  /// Trials in flight from the suite (nil: the CLI or the default decides).
  public var concurrency: Int?
  /// Default per-trial timeout in seconds.
  public var timeout: Double
  /// Agents in the order the suite lists them.
  public var agents: [AgentConfig]
  /// Tasks in the order the suite lists them.
  public var tasks: [TaskSpec]
  /// The suite file's absolute path.
  public var path: String
  /// The resolved suite as JSON, secrets not expanded: stored as `runs.config_json`.
  public var config: JSONValue
  /// Targets the metrics are measured against.
  public var slo: SLO = SLO()
  /// Weights of the CLEAR dimensions.
  public var clearWeights: ClearWeights = ClearWeights()
  /// Values substituted from `${VAR}`, by variable name: redacted before anything is stored.
  public var secrets: [String: String] = [:]

  /// The default number of trials when neither the suite nor the CLI says.
  public static let defaultTrials = 8
  /// The default concurrency when neither the suite nor the CLI says.
  public static let defaultConcurrency = 4
  /// The default per-trial timeout, seconds.
  public static let defaultTimeout = 60.0

  /// Agents used as judges: they grade, and are not evaluated themselves.
  public var judges: Set<String> {
    var names: Set<String> = []
    for task in tasks {
      for grader in task.expect {
        if case .judge(let spec) = grader.kind { names.insert(spec.agent) }
      }
    }
    return names
  }

  /// The agents a run evaluates: every agent but the judges, in suite order.
  public var evaluatedAgents: [AgentConfig] {
    let judges = judges
    return agents.filter { !judges.contains($0.name) }
  }

  /// The folder relative paths in the suite are resolved against.
  public var folder: String { (path as NSString).deletingLastPathComponent }
}

/// `slo:`: the targets metrics are measured against.
public struct SLO: Sendable, Hashable {
  /// Seconds: a trial within this is SLA-compliant.
  public var latency: Double?
  /// USD budget per trial.
  public var cost: Double?
  public init(latency: Double? = nil, cost: Double? = nil) {
    self.latency = latency
    self.cost = cost
  }
}

/// `clear.weights:`: how the CLEAR score weighs its five dimensions (equal by default).
public struct ClearWeights: Sendable, Hashable {
  public var cost = 0.2
  public var latency = 0.2
  public var efficacy = 0.2
  public var assurance = 0.2
  public var reliability = 0.2
  public init() {}
}

/// One agent of a suite.
public struct AgentConfig: Sendable {
  public init(name: String, adapter: Adapter, pricing: Pricing? = nil) {
    self.name = name
    self.adapter = adapter
    self.pricing = pricing
  }

  /// The agent's name (`default` for a lone `agent:`).
  public var name: String
  /// How evalh talks to it.
  public var adapter: Adapter
  /// Token prices used when the agent reports tokens but no cost.
  public var pricing: Pricing?
}

/// The adapters of agent-protocol.md.
public enum Adapter: Sendable {
  /// A fresh child process per trial.
  case subprocess(SubprocessConfig)
  /// One HTTP request per trial, over pooled keep-alive connections.
  case http(HTTPConfig)
}

/// How an HTTP agent is called.
public struct HTTPConfig: Sendable {
  public var url: String
  public var method: String
  /// Header names and values, in order.
  public var headers: [(name: String, value: String)]
  /// The JSON body template; nil sends the evalh/1 request itself.
  public var body: JSONValue?
  /// Where the answer is in the response; nil reads an evalh/1 envelope.
  public var response: ResponseMapping?
  /// Transport retries (408, 429, 5xx gateways, connection failures).
  public var retries: Int
  /// Connections kept per agent.
  public var maxConnections: Int
  /// Bytes of response body kept; the rest is cut and the trial flagged truncated.
  public var maxOutput: Int
  /// Map OpenAI `tool_calls` in the response message into steps.
  public var openAIToolCalls: Bool

  public static let defaultRetries = 2
  public static let defaultMaxConnections = 8

  public init(
    url: String, method: String = "POST", headers: [(name: String, value: String)] = [], body: JSONValue? = nil,
    response: ResponseMapping? = nil, retries: Int = HTTPConfig.defaultRetries,
    maxConnections: Int = HTTPConfig.defaultMaxConnections, maxOutput: Int = SubprocessConfig.defaultMaxOutput,
    openAIToolCalls: Bool = false
  ) {
    self.url = url
    self.method = method
    self.headers = headers
    self.body = body
    self.response = response
    self.retries = retries
    self.maxConnections = maxConnections
    self.maxOutput = maxOutput
    self.openAIToolCalls = openAIToolCalls
  }
}

/// JSONPath expressions that pick the answer out of a response body.
public struct ResponseMapping: Sendable {
  public var output: JSONPath
  public var inputTokens: JSONPath?
  public var outputTokens: JSONPath?
  public var costUSD: JSONPath?
  public var steps: JSONPath?

  public init(output: JSONPath, inputTokens: JSONPath? = nil, outputTokens: JSONPath? = nil, costUSD: JSONPath? = nil, steps: JSONPath? = nil) {
    self.output = output
    self.inputTokens = inputTokens
    self.outputTokens = outputTokens
    self.costUSD = costUSD
    self.steps = steps
  }
}

/// How a subprocess agent is started.
public struct SubprocessConfig: Sendable {
  public init(
    command: [String], cwd: String, env: [String: String] = [:], format: OutputFormat = .envelope,
    maxOutput: Int = SubprocessConfig.defaultMaxOutput
  ) {
    self.command = command
    self.cwd = cwd
    self.env = env
    self.format = format
    self.maxOutput = maxOutput
  }

  /// argv; argv[0] is looked up on PATH unless it contains a slash.
  public var command: [String]
  /// Absolute working directory of the agent.
  public var cwd: String
  /// Variables added to evalh's own environment.
  public var env: [String: String]
  /// How stdout is read.
  public var format: OutputFormat
  /// Bytes of stdout kept; the rest is cut and the trial flagged truncated.
  public var maxOutput: Int

  /// 4 MiB, agent-protocol.md's default.
  public static let defaultMaxOutput = 4 << 20
}

/// How an agent's stdout becomes its output.
public enum OutputFormat: String, Sendable, CaseIterable {
  /// stdout is one evalh/1 envelope.
  case envelope
  /// stdout, less one trailing newline, is the output string.
  case text
}

/// Prices per million tokens.
public struct Pricing: Sendable, Hashable {
  public init(inputPerMillion: Double, outputPerMillion: Double) {
    self.inputPerMillion = inputPerMillion
    self.outputPerMillion = outputPerMillion
  }

  /// USD per million input tokens.
  public var inputPerMillion: Double
  /// USD per million output tokens.
  public var outputPerMillion: Double

  /// The cost of a trial's tokens; nil when a count it needs is unknown.
  public func cost(inputTokens: Int?, outputTokens: Int?) -> Double? {
    guard let i = inputTokens, let o = outputTokens else { return nil }
    return (Double(i) * inputPerMillion + Double(o) * outputPerMillion) / 1_000_000
  }
}

/// One task of a suite.
public struct TaskSpec: Sendable {
  public init(
    id: String, input: JSONValue, tags: [String] = [], metadata: [String: JSONValue] = [:], trials: Int? = nil,
    timeout: Double? = nil, expect: [Grader] = [], assure: [Check] = [], fixture: String? = nil
  ) {
    self.fixture = fixture
    self.id = id
    self.input = input
    self.tags = tags
    self.metadata = metadata
    self.trials = trials
    self.timeout = timeout
    self.expect = expect
    self.assure = assure
  }

  /// Unique id, `[A-Za-z0-9._-]+`.
  public var id: String
  /// The input handed to the agent.
  public var input: JSONValue
  /// Tags for `--tag`.
  public var tags: [String]
  /// Passed to the agent untouched.
  public var metadata: [String: JSONValue]
  /// Per-task trials override.
  public var trials: Int?
  /// Per-task timeout override, seconds.
  public var timeout: Double?
  /// Efficacy graders: all must pass.
  public var expect: [Grader]
  /// Assurance checks: each failure is a violation.
  public var assure: [Check]
  /// Absolute path of a folder copied into each trial's working folder.
  public var fixture: String? = nil
}

/// An `expect` entry.
public struct Grader: Sendable {
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

  /// The YAML keyword.
  public var keyword: String {
    switch self {
    case .judge: "judge"
    case .equals: "equals"
    case .contains: "contains"
    case .containsAny: "contains_any"
    case .regex: "regex"
    case .json: "json"
    case .jsonSchema: "json_schema"
    case .toolCalled: "tool_called"
    case .toolSequence: "tool_sequence"
    case .command: "command"
    }
  }
}

/// An `assure` entry.
public struct Check: Sendable {
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

  /// The YAML keyword.
  public var keyword: String {
    switch self {
    case .notContains: "not_contains"
    case .notRegex: "not_regex"
    case .noPII: "no_pii"
    case .jsonSchema: "json_schema"
    case .tools: "tools"
    case .toolSchemas: "tool_schemas"
    case .maxSteps: "max_steps"
    case .maxCost: "max_cost"
    case .maxLatency: "max_latency"
    case .maxTokens: "max_tokens"
    case .command: "command"
    }
  }
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
  public func matches(_ text: String) -> Bool {
    regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
  }
}

/// The `json:` grader's condition.
public struct JSONCheck: Sendable {
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

/// An external grader or policy check.
/// A `judge` grader: another agent of the suite scores the output.
public struct JudgeSpec: Sendable {
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

  public static let defaultThreshold = 0.5
}

public struct CommandSpec: Sendable {
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

