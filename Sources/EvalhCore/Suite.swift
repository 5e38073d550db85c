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
  /// Values substituted from `${VAR}`, by variable name: redacted before anything is stored.
  public var secrets: [String: String] = [:]
  /// The suite-level tools, servers and state (each task's `tools` holds its effective set).
  public var tools = ToolSetup()
  /// The conditions every trial runs under, in the suite's order (`clean` when it names none).
  public var conditions: [Condition] = [.clean]

  /// Whether any task has tools served by evalh: the run then starts a tool server.
  public var servesTools: Bool { tasks.contains { !$0.tools.isEmpty } }

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

  /// What the metrics are measured against (`slo:`, `clear.weights:`), read as reports read the stored suite.
  public var targets: MetricTargets { MetricTargets(config: config) }

  /// The folder relative paths in the suite are resolved against.
  public var folder: String { (path as NSString).deletingLastPathComponent }
}

/// One task of a suite.
public struct TaskSpec: Sendable {
  /// A task from its parts; unset overrides take the suite's values.
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
  /// The tools served to the agent, the suite's merged with the task's own.
  public var tools = ToolSetup()
  /// Explicit paraphrases of `input`: trial t uses input (t − 1) mod (1 + count), 0 being `input`.
  public var variants: [JSONValue] = []

  /// The input trial `trial` receives (before a condition's perturbation) and its variant number.
  public func input(forTrial trial: Int) -> (input: JSONValue, variant: Int) {
    let index = variantIndex(trial: trial, variants: variants.count)
    return (index == 0 ? input : variants[index - 1], index)
  }
}
