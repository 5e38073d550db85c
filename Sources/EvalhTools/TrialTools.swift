import EvalhCore
import Foundation
import Synchronization

/// Who a trial's calls belong to: what a `run` handler is told, and the condition's faults.
public struct CallContext: Sendable {
  /// A context from its parts.
  public init(
    task: String, trial: Int, seed: Int64, statePath: String?, stateDir: String, faults: FaultPlan? = nil,
    runSeed: Int64 = 0, timeout: Double = Suite.defaultTimeout
  ) {
    self.task = task
    self.trial = trial
    self.seed = seed
    self.statePath = statePath
    self.stateDir = stateDir
    self.faults = faults
    self.runSeed = runSeed
    self.timeout = timeout
  }

  /// The trial's condition's faults; nil or empty for a clean trial.
  public var faults: FaultPlan?
  /// The run's seed: with the condition, task, trial, tool and call number it decides each fault.
  public var runSeed: Int64
  /// The trial's timeout, seconds: a `timeout` fault's silence is bounded by it.
  public var timeout: Double

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
  /// `unavailable`, `rate_limit`: an HTTP refusal (MCP: an `isError` result with the status line;
  /// plain JSON: the status, with `Retry-After` when given).
  case refused(status: Int, message: String, retryAfter: Double?)
  /// `timeout`, `protocol_error`: a JSON-RPC error instead of a result (plain JSON: HTTP 504 or 500).
  case rpcError(code: Int, message: String)
  /// `malformed`: the result's text cut short (MCP: text content that does not parse; plain JSON: a cut body).
  case malformed(String)
  /// `empty`: no result at all (MCP `content: []`; plain JSON `{"result": null}`).
  case empty
  /// `lost_response`: the handler ran, then the connection was dropped before an answer.
  case connectionLost

  /// What the tool loop hands the model, and what is recorded: the answer as text or value, and
  /// whether the agent saw an error.
  public var asResult: (result: JSONValue, isError: Bool) {
    switch self {
    case .result(let value, let isError): (value, isError)
    case .unknownTool(let message): (.string(message), true)
    case .refused(_, let message, _): (.string(message), true)
    case .rpcError(let code, let message): (.string("JSON-RPC error \(code): \(message)"), true)
    case .malformed(let text): (.string(text), false)
    case .empty: (.string(""), false)
    case .connectionLost: (.string("the connection was lost before the response arrived"), true)
    }
  }
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
    let (served, problem) = await gate.run { [self] in
      let callNumber = log.withLock { log -> Int in
        log.perTool[name, default: 0] += 1
        return log.perTool[name, default: 0]
      }
      return await serve(name, arguments: arguments, callNumber: callNumber, withFaults: true)
    }
    // A fault's silence or delay is waited out of the gate: the trial's other calls go on meanwhile.
    if served.wait > 0 { try? await Task.sleep(for: .seconds(served.wait)) }
    let answer = served.answer
    let latency = (Monotonic.seconds() - clock) * 1000
    log.withLock { log in
      guard !log.closed else { return }
      let (result, isError) = served.recorded ?? answer.asResult
      log.calls.append(
        ObservedCall(
          seq: log.calls.count + 1, tool: name, arguments: arguments, result: result, isError: isError,
          problem: problem, fault: served.fault?.kind.rawValue, latencyMs: latency, startedAt: started))
      if problem?.isSuitesFault == true, log.failure == nil, case .result(let message, _) = answer {
        log.failure = "tool '\(name)': \(message.gradingText)"
      }
    }
    return answer
  }

  /// The fault of a call that passed the checks, decided before its handler runs; nil when clean.
  func fault(_ name: String, callNumber: Int) -> Fault? {
    context.faults?.fault(
      runSeed: context.runSeed, task: context.task, trial: context.trial, tool: name, call: callNumber)
  }

  /// What a fault makes of a call. The handler has already run (`answer`): kinds that keep the call
  /// from reaching it (`unavailable`, `rate_limit`, `timeout`, `protocol_error`) are decided before
  /// in `serve`, so no state changes.
  func apply(_ fault: Fault, to answer: ToolAnswer) -> FaultedAnswer {
    let value: JSONValue? = if case .result(let v, false) = answer { v } else { nil }
    switch fault.kind {
    case .unavailable, .rateLimit, .timeout, .protocolError:
      return FaultedAnswer(answer: answer, recorded: nil, fault: fault, wait: 0)
    case .latency:
      return FaultedAnswer(answer: answer, recorded: nil, fault: fault, wait: fault.seconds ?? 1)
    case .malformed:
      guard let value else { break }
      return FaultedAnswer(answer: .malformed(Fault.malformed(value)), recorded: nil, fault: fault, wait: 0)
    case .empty:
      guard value != nil else { break }
      return FaultedAnswer(answer: .empty, recorded: (.null, false), fault: fault, wait: 0)
    case .schemaDrift:
      guard let value else { break }
      return FaultedAnswer(answer: .result(fault.drift(value), isError: false), recorded: nil, fault: fault, wait: 0)
    case .lostResponse:
      // The write happened: what the handler answered is recorded, the agent gets a dropped connection.
      return FaultedAnswer(
        answer: .connectionLost, recorded: (value ?? answer.asResult.result, true), fault: fault, wait: 0)
    }
    // An error result has nothing to mangle: the call is clean.
    return FaultedAnswer(answer: answer, recorded: nil, fault: nil, wait: 0)
  }

  /// A call's answer after its fault.
  struct FaultedAnswer: Sendable {
    /// What the agent gets.
    var answer: ToolAnswer
    /// What is recorded when it differs from the answer (the handler's result of a lost response).
    var recorded: (JSONValue, Bool)?
    /// The fault that fired.
    var fault: Fault?
    /// Seconds to wait before answering.
    var wait: Double
  }

  /// The answer of a fault that keeps the call from its handler; nil for kinds that let it run.
  func refusal(_ fault: Fault) -> (ToolAnswer, wait: Double)? {
    switch fault.kind {
    case .unavailable:
      return (.refused(status: 503, message: "503 Service Unavailable", retryAfter: nil), 0)
    case .rateLimit:
      let after = fault.seconds ?? 1
      return (
        .refused(
          status: 429, message: "429 Too Many Requests, retry after \(Durations.format(after))", retryAfter: after), 0
      )
    case .timeout:
      let after = min(fault.seconds ?? 10, context.timeout)
      return (.rpcError(code: -32001, message: "Request timed out after \(Durations.format(after))"), after)
    case .protocolError:
      return (.rpcError(code: -32603, message: "Internal error"), 0)
    default:
      return nil
    }
  }

  /// A call evalh makes itself (`tool_result` graders): the same tools, not recorded, no fault.
  public func callOutsideTrajectory(_ name: String, arguments: JSONValue) async -> (ToolAnswer, CallProblem?) {
    let callNumber = log.withLock { $0.perTool[name, default: 0] + 1 }
    let (served, problem) = await gate.run { [self] in
      await serve(name, arguments: arguments, callNumber: callNumber, withFaults: false)
    }
    return (served.answer, problem)
  }

  /// Ends the trial's tools: later calls are refused; returns what happened.
  public func close() -> ToolsEnd {
    log.withLock { log in
      log.closed = true
      return ToolsEnd(calls: log.calls, failure: log.failure)
    }
  }

  /// The call path behind the gate: the checks, the condition's fault (`withFaults`), the handler.
  func serve(_ name: String, arguments: JSONValue, callNumber: Int, withFaults: Bool) async -> (
    FaultedAnswer, CallProblem?
  ) {
    func clean(_ answer: ToolAnswer) -> FaultedAnswer {
      FaultedAnswer(answer: answer, recorded: nil, fault: nil, wait: 0)
    }
    let (answer, problem) = await check(name, arguments: arguments)
    if let answer { return (clean(answer), problem) }
    let fault = withFaults ? fault(name, callNumber: callNumber) : nil
    if let fault, let (refused, wait) = refusal(fault) {
      return (FaultedAnswer(answer: refused, recorded: nil, fault: fault, wait: wait), nil)
    }
    let (handled, failure) = await handle(name, arguments: arguments, callNumber: callNumber)
    guard let fault, failure == nil else { return (clean(handled), failure) }
    return (apply(fault, to: handled), nil)
  }

  /// The checks before any handler: an unknown tool, arguments that break `input_schema`; nil when it passes.
  func check(_ name: String, arguments: JSONValue) async -> (ToolAnswer?, CallProblem?) {
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
    return (nil, nil)
  }

  /// Runs the handler (or the MCP server) and checks the result against `output_schema`.
  func handle(_ name: String, arguments: JSONValue, callNumber: Int) async -> (ToolAnswer, CallProblem?) {
    guard let tool = tools[name] else { return (.unknownTool("unknown tool '\(name)'"), .unknownTool) }
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
