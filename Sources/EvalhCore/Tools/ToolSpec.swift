import Foundation

/// A tool evalh serves to the agent (tools.md, "Declaring tools").
public struct ToolSpec: Sendable {
  /// A tool from its parts.
  public init(
    name: String, description: String, inputSchema: JSONSchema, outputSchema: JSONSchema? = nil,
    annotations: ToolAnnotations = ToolAnnotations(), handler: ToolHandler
  ) {
    self.name = name
    self.description = description
    self.inputSchema = inputSchema
    self.outputSchema = outputSchema
    self.annotations = annotations
    self.handler = handler
  }

  /// Unique across the task's tools and its servers' tools.
  public var name: String
  /// Shown to the agent.
  public var description: String
  /// Arguments are checked against it before the handler runs.
  public var inputSchema: JSONSchema
  /// Results are checked against it when present.
  public var outputSchema: JSONSchema?
  /// MCP hints.
  public var annotations: ToolAnnotations
  /// What answers a call.
  public var handler: ToolHandler

  /// The tool in the OpenAI function-calling shape (`tools.list`, `GET $EVALH_TOOLS_URL`).
  public var openAIFunction: JSONValue {
    .object([
      "type": .string("function"),
      "function": .object([
        "name": .string(name), "description": .string(description), "parameters": inputSchema.root,
      ]),
    ])
  }
}

/// MCP's tool annotations (hints to the client, never enforced).
public struct ToolAnnotations: Sendable, Hashable {
  /// Annotations; unset hints are not sent.
  public init(readOnly: Bool? = nil, destructive: Bool? = nil, idempotent: Bool? = nil, openWorld: Bool? = nil) {
    self.readOnly = readOnly
    self.destructive = destructive
    self.idempotent = idempotent
    self.openWorld = openWorld
  }

  /// `read_only`: the tool changes nothing.
  public var readOnly: Bool?
  /// `destructive`: the tool may destroy data.
  public var destructive: Bool?
  /// `idempotent`: calling twice equals calling once.
  public var idempotent: Bool?
  /// `open_world`: the tool reaches outside the trial.
  public var openWorld: Bool?

  /// The YAML keys, in order.
  public static let keys = ["read_only", "destructive", "idempotent", "open_world"]
}

/// How a served tool answers: exactly one per tool.
public enum ToolHandler: Sendable {
  /// The first case whose `when` the arguments contain (as `tool_called` matches).
  case cases([ToolCase])
  /// A fixed result; strings may hold `{{arguments.NAME}}`.
  case respond(JSONValue)
  /// A command per call: the call on stdin, `{"result": ...}` or `{"error": ...}` on stdout.
  case run(argv: [String], cwd: String, timeout: Double)
  /// Forwarded to one of the suite's MCP servers (its tools, listed when the trial starts).
  case proxied(server: String)

  /// The YAML keywords.
  public static let keywords = ["cases", "respond", "run"]
  /// A `run` handler's timeout when the suite does not say, seconds.
  public static let defaultTimeout = 10.0
}

/// One entry of a `cases` handler.
public struct ToolCase: Sendable {
  /// A case; `when` nil is the fallback.
  public init(when: JSONValue?, result: JSONValue, isError: Bool = false) {
    self.when = when
    self.result = result
    self.isError = isError
  }

  /// The arguments must contain this; nil matches every call.
  public var when: JSONValue?
  /// What the agent gets.
  public var result: JSONValue
  /// Whether the result is an error result (MCP `isError`).
  public var isError: Bool
}

/// An existing MCP server whose tools evalh serves through its own endpoint.
public struct MCPServerSpec: Sendable {
  /// A server from its parts.
  public init(name: String, transport: Transport, tools: [String]? = nil) {
    self.name = name
    self.transport = transport
    self.tools = tools
  }

  /// The suite's name for it.
  public var name: String
  /// How evalh reaches it.
  public var transport: Transport
  /// Only these of its tools are served; nil: all of them.
  public var tools: [String]?

  /// stdio (a process per trial) or Streamable HTTP (shared by every trial).
  public enum Transport: Sendable {
    /// argv, cwd, and env (values may hold `{{state_dir}}`).
    case command(argv: [String], cwd: String, env: [String: String])
    /// A Streamable HTTP endpoint.
    case url(String)
  }
}

/// Everything a trial's tools are made from: the task's effective tools, servers and state.
public struct ToolSetup: Sendable {
  /// A setup from its parts.
  public init(tools: [ToolSpec] = [], servers: [MCPServerSpec] = [], state: String? = nil) {
    self.tools = tools
    self.servers = servers
    self.state = state
  }

  /// The served tools, in the order the suite declares them.
  public var tools: [ToolSpec]
  /// The MCP servers proxied to the agent.
  public var servers: [MCPServerSpec]
  /// Absolute path of the initial state document, copied per trial.
  public var state: String?

  /// Whether the trial has tools served by evalh at all.
  public var isEmpty: Bool { tools.isEmpty && servers.isEmpty && state == nil }
}
