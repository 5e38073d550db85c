import Foundation

/// A trial's outcome (agent-protocol.md).
public enum TrialStatus: String, Sendable, Codable, CaseIterable {
  case pass
  case fail
  case error
  case timeout
}

/// Which side an error is on.
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
  /// Non-zero exit, killed by a signal, or could not start.
  case agentExit = "agent_exit"
  /// The envelope's `error` was set.
  case agentDeclared = "agent_declared"
  /// stdout was not a valid envelope.
  case contract
  /// HTTP failures after retries.
  case transport
  /// A grader broke: the harness's problem, excluded from metrics.
  case grader
  /// A served tool's handler or server broke (the suite's fault): excluded from metrics like `grader`.
  case tool

  /// Whether the harness's side broke, not the agent: such trials are not counted in reliability metrics.
  public var isHarnessSide: Bool { self == .grader || self == .tool }
}

/// One recorded trial with its grades: a `trials` row and its `grades` rows.
public struct TrialRecord: Sendable, Hashable {
  /// `trials.run_id`.
  public var runID: String
  /// `trials.agent`.
  public var agent: String
  /// `trials.condition`: part of the trial's key.
  public var condition = Condition.defaultName
  /// `trials.variant`: which of the task's inputs the trial used (0 is `input`); nil without variants.
  public var variant: Int?
  /// `trials.input_json`: the input the agent received, when it differs from the task's (a variant or
  /// a perturbation), redacted.
  public var inputJSON: String?
  /// `trials.task_id`.
  public var taskID: String
  /// `trials.trial`: 1-based.
  public var trial: Int
  /// `trials.status`.
  public var status: TrialStatus
  /// `trials.error_kind`: set for errors.
  public var errorKind: ErrorKind?
  /// `trials.error`: what went wrong, for people.
  public var error: String?
  /// Whether every `expect` grader passed; nil when grading did not happen.
  public var efficacyPass: Bool?
  /// Mean grader score; nil when grading did not happen.
  public var efficacyScore: Double?
  /// Failed assurance checks.
  public var violations: Int
  /// Wall time from start to answer, ms.
  public var latencyMs: Double
  /// Input tokens the agent reported.
  public var inputTokens: Int?
  /// Output tokens the agent reported.
  public var outputTokens: Int?
  /// Reported cost, or the priced tokens.
  public var costUSD: Double?
  /// HTTP attempts (1 for subprocess agents).
  public var attempts: Int
  /// The trial's seed.
  public var seed: Int64
  /// The output as JSON text, secrets redacted.
  public var outputJSON: String?
  /// The last 64 KiB of stderr, redacted.
  public var stderrTail: String?
  /// The reported steps as JSON text, redacted.
  public var stepsJSON: String?
  /// Whether the output was cut at its limit.
  public var truncated: Bool
  /// When the agent started.
  public var startedAt: Date
  /// When grading ended.
  public var finishedAt: Date
  /// Every grade, expect then assure, in suite order.
  public var grades: [Grade]
  /// The working folder, when it was kept (`--keep-failed`).
  public var workdir: String?
  /// What the trial's judge graders cost (known costs only; nil when none was known).
  public var judgeCostUSD: Double?
  /// The calls the agent made to served tools, in order (`tool_calls` rows), secrets redacted.
  public var toolCalls: [ObservedCall] = []
  /// Reported tool calls with no observed match; nil when the trial had no served tools.
  public var phantomCalls: Int?

  /// A trial from its columns; grades and counts default to none.
  public init(
    runID: String, agent: String, taskID: String, trial: Int, status: TrialStatus, errorKind: ErrorKind? = nil,
    error: String? = nil, efficacyPass: Bool? = nil, efficacyScore: Double? = nil, violations: Int = 0,
    latencyMs: Double, inputTokens: Int? = nil, outputTokens: Int? = nil, costUSD: Double? = nil,
    attempts: Int = 1, seed: Int64, outputJSON: String? = nil, stderrTail: String? = nil,
    stepsJSON: String? = nil, truncated: Bool = false, startedAt: Date, finishedAt: Date, grades: [Grade] = [],
    workdir: String? = nil, judgeCostUSD: Double? = nil
  ) {
    self.workdir = workdir
    self.judgeCostUSD = judgeCostUSD
    self.runID = runID
    self.agent = agent
    self.taskID = taskID
    self.trial = trial
    self.status = status
    self.errorKind = errorKind
    self.error = error
    self.efficacyPass = efficacyPass
    self.efficacyScore = efficacyScore
    self.violations = violations
    self.latencyMs = latencyMs
    self.inputTokens = inputTokens
    self.outputTokens = outputTokens
    self.costUSD = costUSD
    self.attempts = attempts
    self.seed = seed
    self.outputJSON = outputJSON
    self.stderrTail = stderrTail
    self.stepsJSON = stepsJSON
    self.truncated = truncated
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.grades = grades
  }
}

/// The trial seed of agent-protocol.md: derived from the run seed, agent, task id and
/// trial number, so the same `--seed` hands every trial the same seed again.
public enum Seeds {
  /// A seed in [0, 2^31), stable across platforms and versions (FNV-1a 64 then a SplitMix64 finaliser).
  public static func trialSeed(runSeed: Int64, agent: String, taskID: String, trial: Int) -> Int64 {
    var fnv = FNV1a()
    // Each part ends with a 0xff byte, which UTF-8 never holds: ("ab", "c") and ("a", "bc") differ.
    func mix(_ bytes: some Sequence<UInt8>) {
      fnv.add(bytes)
      fnv.add([0xff])
    }
    mix(withUnsafeBytes(of: runSeed.littleEndian) { Array($0) })
    mix(agent.utf8)
    mix(taskID.utf8)
    mix(withUnsafeBytes(of: Int64(trial).littleEndian) { Array($0) })
    var z = fnv.value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Int64(z >> 33)
  }
}
