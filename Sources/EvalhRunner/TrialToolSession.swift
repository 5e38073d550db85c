import EvalhAgents
import EvalhCore
import EvalhTools
import Foundation

/// One trial's served tools from start to end: its own state folder (outside the agent's working
/// folder) with a copy of `state:`, its call path, and its endpoint on the run's tool server.
struct TrialToolSession: Sendable {
  let tools: TrialTools
  let access: ToolServer.Access
  let server: ToolServer
  let stateDir: String

  /// The trial's state document, when the task has one.
  var statePath: String? { tools.context.statePath }

  /// Opens the trial's tools; nil with a reason when its state folder cannot be made (evalh's side).
  static func open(
    _ setup: ToolSetup, server: ToolServer, stateRoot: String, key: TrialKeyRef, seed: Int64, timeout: Double,
    faults: FaultPlan? = nil, runSeed: Int64 = 0
  ) async -> Result<TrialToolSession, SetupProblem> {
    let dir = WorkFolders.path(
      root: stateRoot, agent: key.agent, condition: key.condition, task: key.taskID, trial: key.trial)
    let fm = FileManager.default
    do {
      try? fm.removeItem(atPath: dir)
      try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
      var statePath: String?
      if let state = setup.state {
        statePath = dir + "/state.json"
        try fm.copyItem(atPath: state, toPath: dir + "/state.json")
      }
      let context = CallContext(
        task: key.taskID, trial: key.trial, seed: seed, statePath: statePath, stateDir: dir, faults: faults,
        runSeed: runSeed, timeout: timeout)
      switch await TrialTools.open(setup, context: context, timeout: timeout) {
      case .success(let tools):
        return .success(TrialToolSession(tools: tools, access: server.open(tools), server: server, stateDir: dir))
      case .failure(let failure):
        try? fm.removeItem(atPath: dir)
        return .failure(.suite(failure.message))
      }
    } catch {
      return .failure(.harness("cannot make the trial's tool state folder \(dir): \(error)"))
    }
  }

  /// Why a trial's tools could not be set up.
  enum SetupProblem: Error {
    /// The suite's side (a server that did not start): the trial is a `tool` error.
    case suite(String)
    /// evalh's side: the run stops (exit 3).
    case harness(String)
  }

  /// What the agent's request carries.
  var served: ServedTools {
    let tools = self.tools
    return ServedTools(mcpURL: access.mcpURL, url: access.url, list: tools.openAIList) { name, arguments in
      await tools.call(name, arguments: arguments).asResult
    }
  }

  /// Closes the endpoint (later calls are refused) and returns what happened.
  func close() async -> ToolsEnd {
    await server.close(access)
    return tools.close()
  }

  /// The final state document, or why it cannot be read.
  func finalState() -> (JSONValue?, String?) {
    guard let path = statePath else { return (nil, nil) }
    guard let data = FileManager.default.contents(atPath: path) else {
      return (nil, "the trial's state file is gone (a handler removed it?)")
    }
    guard let value = JSONValue.parse(data) else { return (nil, "the trial's final state is not JSON") }
    return (value, nil)
  }

  /// Stops the trial's MCP servers and removes its state folder (after grading).
  func finish() async {
    await tools.stopServers()
    try? FileManager.default.removeItem(atPath: stateDir)
  }
}
