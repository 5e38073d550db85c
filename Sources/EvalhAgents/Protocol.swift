import EvalhCore
import Foundation

/// The evalh/1 request of agent-protocol.md.
public struct AgentRequest: Sendable {
  /// The run's id.
  public var runID: String
  /// The suite's name.
  public var suite: String
  /// The agent's name.
  public var agent: String
  /// The task.
  public var task: TaskSpec
  /// The trial number, from 1.
  public var trial: Int
  /// The trial's seed.
  public var seed: Int64
  /// The trial's fresh working folder.
  public var workdir: String
  /// The tools evalh serves this trial, when the task has any.
  public var tools: ServedTools?
  /// The condition the trial runs under (`clean` unless the suite names conditions).
  public var condition = Condition.defaultName

  /// A request for one trial.
  public init(
    runID: String, suite: String, agent: String, task: TaskSpec, trial: Int, seed: Int64, workdir: String,
    tools: ServedTools? = nil
  ) {
    self.tools = tools
    self.runID = runID
    self.suite = suite
    self.agent = agent
    self.task = task
    self.trial = trial
    self.seed = seed
    self.workdir = workdir
  }

  /// The request as a JSON value.
  public var json: JSONValue {
    var members: [String: JSONValue] = [
      "protocol": .string("evalh/1"),
      "run_id": .string(runID),
      "suite": .string(suite),
      "agent": .string(agent),
      "condition": .string(condition),
      "task": .object([
        "id": .string(task.id), "input": task.input, "metadata": .object(task.metadata),
        "tags": .array(task.tags.map { .string($0) }),
      ]),
      "trial": .number(Double(trial)),
      "seed": .number(Double(seed)),
      "workdir": .string(workdir),
    ]
    if let tools { members["tools"] = tools.json }
    return .object(members)
  }

  /// `json.compactText`, written directly (keys in the same sorted order): it is made for every trial.
  public var jsonText: String {
    var out = #"{"agent":"#
    JSONValue.writeQuoted(agent, to: &out)
    out += #","condition":"#
    JSONValue.writeQuoted(condition, to: &out)
    out += #","protocol":"evalh/1","run_id":"#
    JSONValue.writeQuoted(runID, to: &out)
    out += #","seed":"# + JSONValue.format(number: Double(seed)) + #","suite":"#
    JSONValue.writeQuoted(suite, to: &out)
    out += #","task":{"id":"#
    JSONValue.writeQuoted(task.id, to: &out)
    out += #","input":"# + task.input.compactText + #","metadata":"# + JSONValue.object(task.metadata).compactText
    out += #","tags":["#
    for (i, tag) in task.tags.enumerated() {
      if i > 0 { out += "," }
      JSONValue.writeQuoted(tag, to: &out)
    }
    out += "]}"
    if let tools { out += #","tools":"# + tools.json.compactText }
    out += #","trial":"# + JSONValue.format(number: Double(trial)) + #","workdir":"#
    JSONValue.writeQuoted(workdir, to: &out)
    out += "}"
    return out
  }

  /// The `EVALH_*` variables a subprocess agent gets.
  public var environment: [String: String] {
    var variables = [
      "EVALH_PROTOCOL": "evalh/1", "EVALH_RUN_ID": runID, "EVALH_AGENT": agent, "EVALH_TASK_ID": task.id,
      "EVALH_TRIAL": String(trial), "EVALH_SEED": String(seed), "EVALH_WORKDIR": workdir,
      "EVALH_CONDITION": condition,
    ]
    if let tools {
      variables["EVALH_MCP_URL"] = tools.mcpURL
      variables["EVALH_TOOLS_URL"] = tools.url
    }
    return variables
  }
}

/// How a trial's agent reaches the tools evalh serves it (tools.md).
public struct ServedTools: Sendable {
  /// The endpoints and the list, and how evalh itself calls them (the tool loop).
  public init(
    mcpURL: String, url: String, list: JSONValue,
    call: @escaping @Sendable (String, JSONValue) async -> (result: JSONValue, isError: Bool)
  ) {
    self.mcpURL = mcpURL
    self.url = url
    self.list = list
    self.call = call
  }

  /// MCP over Streamable HTTP.
  public var mcpURL: String
  /// Plain JSON: GET lists, POST …/NAME calls.
  public var url: String
  /// The tools in the OpenAI function shape.
  public var list: JSONValue
  /// A call through the trial's call path, recorded like the agent's own (the tool loop uses it).
  public var call: @Sendable (String, JSONValue) async -> (result: JSONValue, isError: Bool)

  /// The request's `tools` member.
  public var json: JSONValue {
    .object(["mcp_url": .string(mcpURL), "url": .string(url), "list": list])
  }
}

/// Token usage and cost an agent reported.
public struct Usage: Sendable, Hashable {
  /// Input tokens.
  public var inputTokens: Int?
  /// Output tokens.
  public var outputTokens: Int?
  /// Cost in USD.
  public var costUSD: Double?
  /// The model the agent used.
  public var model: String?

  /// Usage from the numbers an agent sent: token counts must be whole and in 0...Int.max, a cost
  /// finite and not negative; anything else breaks the contract (never a trap, never a guess).
  static func checked(
    inputTokens: Double?, outputTokens: Double?, costUSD: Double?, model: String?, where place: String
  ) -> Result<Usage, ContractViolation> {
    func shown(_ x: Double) -> String { x.isFinite ? JSONValue.format(number: x) : "\(x)" }
    func tokens(_ value: Double?, _ name: String) -> Result<Int?, ContractViolation> {
      guard let value else { return .success(nil) }
      guard value >= 0, let count = Int(exactly: value) else {
        return .failure(
          ContractViolation(message: "\(place)\(name) is \(shown(value)), not a count of tokens"))
      }
      return .success(count)
    }
    return tokens(inputTokens, "input_tokens").flatMap { input in
      tokens(outputTokens, "output_tokens").flatMap { output in
        if let costUSD, !(costUSD.isFinite && costUSD >= 0) {
          return .failure(
            ContractViolation(
              message: "\(place)cost_usd is \(shown(costUSD)), not a cost (finite, not negative)"))
        }
        return .success(Usage(inputTokens: input, outputTokens: output, costUSD: costUSD, model: model))
      }
    }
  }
}

/// What an adapter got from one trial, before grading.
public struct AgentReply: Sendable {
  /// How the exchange ended.
  public enum Outcome: Sendable {
    /// A valid envelope (or text output).
    case answered
    /// The envelope's `error` was set.
    case declaredError(String)
    /// stdout was not a valid envelope.
    case contractError(String)
    /// Non-zero exit, a signal, or could not start.
    case exitError(String)
    /// An HTTP agent could not be reached, or answered with a non-2xx status.
    case transportError(String)
    /// Ran past its timeout.
    case timedOut
    /// evalh was interrupted: not a result, the trial is not recorded.
    case interrupted
    /// evalh itself could not run the trial (out of file descriptors): not recorded, the run stops.
    case harnessError(String)

    /// The error kind a trial with this outcome is recorded with; nil for an answer, a timeout
    /// (its own status) and an interruption (not recorded).
    public var errorKind: ErrorKind? {
      switch self {
      case .declaredError: .agentDeclared
      case .contractError: .contract
      case .exitError: .agentExit
      case .transportError: .transport
      case .answered, .timedOut, .interrupted, .harnessError: nil
      }
    }

    /// What went wrong, as the agent or adapter said it; nil for an answer, a timeout and an interruption.
    public var message: String? {
      switch self {
      case .declaredError(let m), .contractError(let m), .exitError(let m), .transportError(let m),
        .harnessError(let m):
        m
      case .answered, .timedOut, .interrupted: nil
      }
    }
  }

  /// How the trial ended.
  public var outcome: Outcome
  /// The agent's `output` (for contract errors: the raw stdout as a string).
  public var output: JSONValue?
  /// What the agent reported it used.
  public var usage: Usage?
  /// The `steps` array, unknown fields kept.
  public var steps: JSONValue?
  /// The last of the agent's stderr.
  public var stderrTail: String?
  /// Whether the output was cut at its limit.
  public var truncated: Bool
  /// Wall time, ms.
  public var latencyMs: Double
  /// HTTP attempts made.
  public var attempts: Int
}

/// Parses an evalh/1 envelope.
public enum Envelope {
  /// The parsed envelope, or a contract error message.
  public static func parse(_ text: String, from source: String = "stdout")
    -> Result<(output: JSONValue, usage: Usage?, steps: JSONValue?, error: String?), ContractViolation>
  {
    // The JSON parser skips JSON's whitespace itself; other spaces at the edges are trimmed here.
    let plainEdge = { (byte: UInt8?) in (byte ?? 0) < 0x80 && byte != 0x0B && byte != 0x0C }
    let trimmed =
      plainEdge(text.utf8.first) && plainEdge(text.utf8.last)
      ? text : text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard trimmed.utf8.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
      return .failure(ContractViolation(message: "empty \(source): expected an evalh/1 envelope"))
    }
    guard let value = JSONValue.parse(trimmed) else {
      return .failure(ContractViolation(message: "\(source) is not valid JSON: expected one evalh/1 envelope"))
    }
    guard case .object(let o) = value else {
      return .failure(ContractViolation(message: "the envelope must be a JSON object"))
    }
    guard let output = o["output"] else {
      return .failure(ContractViolation(message: "the envelope has no 'output'"))
    }
    var usage: Usage?
    if case .object(let u)? = o["usage"] {
      switch Usage.checked(
        inputTokens: u["input_tokens"]?.numberValue, outputTokens: u["output_tokens"]?.numberValue,
        costUSD: u["cost_usd"]?.numberValue, model: u["model"]?.stringValue, where: "usage.")
      {
      case .success(let u): usage = u
      case .failure(let violation): return .failure(violation)
      }
    }
    var steps: JSONValue?
    if let s = o["steps"], s != .null {
      guard case .array = s else { return .failure(ContractViolation(message: "'steps' must be a list")) }
      steps = s
    }
    var error: String?
    switch o["error"] {
    case nil, .null?: break
    case .string(let e)?: error = e
    case let other?: error = other.compactText
    }
    return .success((output, usage, steps, error))
  }
}

/// Why an envelope was rejected.
public struct ContractViolation: Error, Sendable {
  /// What is wrong, for people.
  public var message: String
}
