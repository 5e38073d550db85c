import EvalhCore

/// Something that runs one trial of an agent: the subprocess and HTTP adapters.
public protocol AgentAdapter: Sendable {
  /// Runs one trial; never throws: every misbehaviour of the agent is an outcome.
  func run(_ request: AgentRequest, timeout: Double, interruption: Interruption?) async -> AgentReply
  /// Releases what the adapter holds (an HTTP agent's connection pool).
  func shutdown() async
}

/// The adapters of a run's agents, by agent name: made once, so HTTP connections are reused across trials.
public struct AgentAdapters: Sendable {
  /// Adapters by agent name.
  public let byName: [String: any AgentAdapter]

  /// One adapter per agent (the first of a repeated name).
  public init(_ agents: [AgentConfig]) {
    var byName: [String: any AgentAdapter] = [:]
    for agent in agents where byName[agent.name] == nil {
      switch agent.adapter {
      case .subprocess(let config): byName[agent.name] = SubprocessAgent(config: config)
      case .http(let config): byName[agent.name] = HTTPAgent(config: config)
      }
    }
    self.byName = byName
  }

  /// The agent's adapter, if the run has one.
  public subscript(name: String) -> (any AgentAdapter)? { byName[name] }

  /// Shuts every adapter down; call once, when the run is over.
  public func shutdown() async {
    for adapter in byName.values { await adapter.shutdown() }
  }
}
