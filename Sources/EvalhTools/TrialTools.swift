import EvalhCore
import Foundation
import Synchronization

/// Who a trial's calls belong to: what a `run` handler is told.
public struct CallContext: Sendable {
  /// A context from its parts.
  public init(task: String, trial: Int, seed: Int64, statePath: String?, stateDir: String) {
    self.task = task
    self.trial = trial
    self.seed = seed
    self.statePath = statePath
    self.stateDir = stateDir
  }

  /// The task's id.
  public var task: String
  /// The trial number.
  public var trial: Int
  /// The trial's seed.
  public var seed: Int64
  /// The trial's own state document (a copy of `state:`), when the task has one.
  public var statePath: String?
  /// The trial's own folder outside the agent's working folder (`{{state_dir}}`).
  public var stateDir: String
}

/// What the agent gets back from one call, whichever way it came in.
public enum ToolAnswer: Sendable, Hashable {
  /// A result, possibly an error result (MCP `isError`; plain JSON `{"error": ...}`).
  case result(JSONValue, isError: Bool)
  /// No such tool (MCP `-32602`; plain JSON 404).
  case unknownTool(String)
}

/// How a trial's tools ended: the calls as they happened, and whether the suite's side broke.
public struct ToolsEnd: Sendable {
  /// Every call, in arrival order.
  public var calls: [ObservedCall]
  /// A handler that crashed, hung or answered garbage: the trial is a `tool` error.
  public var failure: String?
}

/// One trial's tools: the call path every way in (MCP, plain JSON, the tool loop, `tool_result`)
/// goes through. Per call: find the tool, check the arguments against `input_schema`, run the
/// handler, check the result against `output_schema`, record the call. Handlers run one at a
/// time in arrival order, so a trial's state file is never written by two calls at once.
public final class TrialTools: Sendable {
  /// The tools served, by name.
  public let tools: [String: ToolSpec]
  /// The tools in the suite's order (what `tools/list` answers).
  public let ordered: [ToolSpec]
  /// Whom the calls belong to.
  public let context: CallContext
  /// The trial's MCP servers, by name.
  let upstreams: [String: MCPUpstream]
  private let log = Mutex(CallLog())
  private let gate = SerialGate()

  struct CallLog {
    var calls: [ObservedCall] = []
    var perTool: [String: Int] = [:]
    var failure: String?
    var closed = false
  }

  /// A trial's tools; `upstreams` answer the proxied ones.
  init(tools: [ToolSpec], context: CallContext, upstreams: [String: MCPUpstream]) {
    self.upstreams = upstreams
    ordered = tools
    self.tools = Dictionary(tools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    self.context = context
  }

  /// A trial's own tools (no MCP servers).
  public convenience init(tools: [ToolSpec], context: CallContext) {
    self.init(tools: tools, context: context, upstreams: [:])
  }

  /// The trial's tools with its MCP servers started (stdio) or reached (URL) and their tools listed;
  /// a server that does not come up, or a tool name that collides, fails the setup (the suite's side).
  public static func open(_ setup: ToolSetup, context: CallContext, timeout: Double) async -> Result<
    TrialTools, ToolSetupFailure
  > {
    var upstreams: [String: MCPUpstream] = [:]
    var tools = setup.tools
    for server in setup.servers {
      let upstream = MCPUpstream(spec: server, timeout: timeout)
      upstreams[server.name] = upstream
      do {
        let listed = try await upstream.connect(stateDir: context.stateDir)
        if let clash = listed.first(where: { tool in tools.contains { $0.name == tool.name } }) {
          throw ToolSetupFailure("tool '\(clash.name)' of MCP server '\(server.name)' collides with another tool")
        }
        tools += listed
      } catch {
        for upstream in upstreams.values { await upstream.stop() }
        return .failure(error as? ToolSetupFailure ?? ToolSetupFailure("\(error)"))
      }
    }
    return .success(TrialTools(tools: tools, context: context, upstreams: upstreams))
  }

  /// Stops the trial's MCP servers (each stdio server's whole process group).
  public func stopServers() async {
    for upstream in upstreams.values { await upstream.stop() }
  }

  /// The tools in the OpenAI function shape.
  public var openAIList: JSONValue { .array(ordered.map(\.openAIFunction)) }

  /// Serves one call from the agent: recorded in the trajectory (unless the trial already ended).
  public func call(_ name: String, arguments: JSONValue) async -> ToolAnswer {
    let started = Date()
    let clock = Monotonic.seconds()
    guard !log.withLock({ $0.closed }) else { return .unknownTool("the trial has ended") }
    let (answer, problem) = await gate.run { [self] in
      let callNumber = log.withLock { log -> Int in
        log.perTool[name, default: 0] += 1
        return log.perTool[name, default: 0]
      }
      return await serve(name, arguments: arguments, callNumber: callNumber)
    }
    let latency = (Monotonic.seconds() - clock) * 1000
    log.withLock { log in
      guard !log.closed else { return }
      let (result, isError): (JSONValue?, Bool) =
        switch answer {
        case .result(let value, let isError): (value, isError)
        case .unknownTool(let message): (.string(message), true)
        }
      log.calls.append(
        ObservedCall(
          seq: log.calls.count + 1, tool: name, arguments: arguments, result: result, isError: isError,
          problem: problem, latencyMs: latency, startedAt: started))
      if problem?.isSuitesFault == true, log.failure == nil, case .result(let message, _) = answer {
        log.failure = "tool '\(name)': \(message.gradingText)"
      }
    }
    return answer
  }

  /// A call evalh makes itself (`tool_result` graders): the same tools, not recorded, no fault.
  public func callOutsideTrajectory(_ name: String, arguments: JSONValue) async -> (ToolAnswer, CallProblem?) {
    let callNumber = log.withLock { $0.perTool[name, default: 0] + 1 }
    return await gate.run { [self] in await serve(name, arguments: arguments, callNumber: callNumber) }
  }

  /// Ends the trial's tools: later calls are refused; returns what happened.
  public func close() -> ToolsEnd {
    log.withLock { log in
      log.closed = true
      return ToolsEnd(calls: log.calls, failure: log.failure)
    }
  }

  /// The call path behind the gate. A fault plan (conditions) slots in between the checks and the handler.
  func serve(_ name: String, arguments: JSONValue, callNumber: Int) async -> (ToolAnswer, CallProblem?) {
    guard let tool = tools[name] else {
      return (
        .unknownTool("unknown tool '\(name)' (tools: \(ordered.map(\.name).joined(separator: ", ")))"), .unknownTool
      )
    }
    let violations = tool.inputSchema.validate(arguments)
    if !violations.isEmpty {
      let shown = violations.prefix(3).map { "arguments\($0.path.dropFirst()) \($0.message)" }.joined(separator: "; ")
      return (.result(.string("invalid arguments for '\(name)': \(shown)"), isError: true), .invalidArguments)
    }
    let outcome = await ToolHandlers.run(
      tool, arguments: arguments, callNumber: callNumber, context: context, upstreams: upstreams)
    switch outcome {
    case .answered(let value, let isError):
      if !isError, let schema = tool.outputSchema, let first = schema.validate(value).first {
        // The suite's tool broke its own contract: the agent gets an error, the trial is a `tool` error.
        return (
          .result(
            .string(
              "the result of '\(name)' breaks its output_schema (result\(first.path.dropFirst()) \(first.message))"),
            isError: true), .invalidResult
        )
      }
      return (.result(value, isError: isError), nil)
    case .failed(let why):
      return (.result(.string(why), isError: true), .handlerFailed)
    }
  }
}

/// Runs async work one piece at a time, in the order it arrives.
actor SerialGate {
  private var busy = false
  private var waiting: [CheckedContinuation<Void, Never>] = []

  func run<T: Sendable>(_ work: @Sendable () async -> T) async -> T {
    if busy {
      await withCheckedContinuation { waiting.append($0) }
    } else {
      busy = true
    }
    let value = await work()
    if waiting.isEmpty {
      busy = false
    } else {
      waiting.removeFirst().resume()
    }
    return value
  }
}
