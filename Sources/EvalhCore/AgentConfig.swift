import Foundation

/// One agent of a suite.
public struct AgentConfig: Sendable {
  /// An agent from its parts.
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
  /// The endpoint (`http://` or `https://`).
  public var url: String
  /// The HTTP method (POST by default).
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
  /// `tool_loop: {max_turns}`: evalh runs the model's tool calls through the trial's tools (openai preset).
  public var toolLoop: ToolLoop?

  /// Retries when the suite does not say.
  public static let defaultRetries = 2
  /// Connections per agent when the suite does not say.
  public static let defaultMaxConnections = 8

  /// An HTTP agent; defaults as suite-format.md gives them.
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

/// The tool loop of tools.md: evalh sends the tools, runs each returned call, sends the results back.
public struct ToolLoop: Sendable, Hashable {
  /// A loop of at most `maxTurns` model calls.
  public init(maxTurns: Int) { self.maxTurns = maxTurns }

  /// Model calls per trial; reaching it without an answer is a `contract` error.
  public var maxTurns: Int
}

/// JSONPath expressions that pick the answer out of a response body.
public struct ResponseMapping: Sendable {
  /// Where an OpenAI chat-completions response keeps the answer and the token counts.
  public static let openAIChat = ResponseMapping(
    output: JSONPath(
      segments: [.child("choices"), .index(0), .child("message"), .child("content")],
      description: "$.choices[0].message.content"),
    inputTokens: JSONPath(segments: [.child("usage"), .child("prompt_tokens")], description: "$.usage.prompt_tokens"),
    outputTokens: JSONPath(
      segments: [.child("usage"), .child("completion_tokens")], description: "$.usage.completion_tokens"))

  /// The output.
  public var output: JSONPath
  /// Input tokens, if the response has them.
  public var inputTokens: JSONPath?
  /// Output tokens, if the response has them.
  public var outputTokens: JSONPath?
  /// Cost in USD, if the response has it.
  public var costUSD: JSONPath?
  /// The trajectory, if the response has one.
  public var steps: JSONPath?

  /// A mapping; only the output is required.
  public init(
    output: JSONPath, inputTokens: JSONPath? = nil, outputTokens: JSONPath? = nil, costUSD: JSONPath? = nil,
    steps: JSONPath? = nil
  ) {
    self.output = output
    self.inputTokens = inputTokens
    self.outputTokens = outputTokens
    self.costUSD = costUSD
    self.steps = steps
  }
}

/// How a subprocess agent is started.
public struct SubprocessConfig: Sendable {
  /// A subprocess agent; defaults as agent-protocol.md gives them.
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
  /// Prices per million input and output tokens.
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
