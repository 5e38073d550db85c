import Foundation

/// One call the agent made to a served tool, as it happened: a `tool_calls` row.
public struct ObservedCall: Sendable, Hashable {
  /// A call from its parts.
  public init(
    seq: Int, tool: String, arguments: JSONValue, result: JSONValue?, isError: Bool, problem: CallProblem? = nil,
    fault: String? = nil, latencyMs: Double, startedAt: Date
  ) {
    self.seq = seq
    self.tool = tool
    self.arguments = arguments
    self.result = result
    self.isError = isError
    self.problem = problem
    self.fault = fault
    self.latencyMs = latencyMs
    self.startedAt = startedAt
  }

  /// 1-based, in the order calls arrived.
  public var seq: Int
  /// The tool's name, as the agent sent it.
  public var tool: String
  /// The arguments, as the agent sent them.
  public var arguments: JSONValue
  /// What the agent got back (nil: nothing, e.g. the call was refused).
  public var result: JSONValue?
  /// Whether the agent got an error result.
  public var isError: Bool
  /// What was wrong with the call, if anything.
  public var problem: CallProblem?
  /// The fault injected into the call (conditions), if any.
  public var fault: String?
  /// Time from the request in to the answer out, ms.
  public var latencyMs: Double
  /// When the call arrived.
  public var startedAt: Date

  /// Whether the call kept the tool's contract, on both sides (`tool_calls.contract_ok`).
  public var contractOK: Bool { problem == nil }
}

/// What went wrong with one call.
public enum CallProblem: String, Sendable, Hashable, CaseIterable {
  /// No tool of that name: the agent's mistake.
  case unknownTool = "unknown_tool"
  /// Arguments that break `input_schema`: the agent's mistake (a contract violation).
  case invalidArguments = "invalid_arguments"
  /// A result that breaks `output_schema`: the suite's tool broke its own contract (a `tool` error).
  case invalidResult = "invalid_result"
  /// The handler crashed, hung or answered garbage: the suite's fault (a `tool` error).
  case handlerFailed = "handler_failed"

  /// Whether the agent caused it (counted against the agent as a contract violation).
  public var isAgentsFault: Bool { self == .unknownTool || self == .invalidArguments }
  /// Whether the suite's tool caused it: the trial is a harness-side `tool` error.
  public var isSuitesFault: Bool { !isAgentsFault }
}

extension ObservedCall {
  /// Reported tool-call steps with no observed call of the same tool and arguments: phantom calls.
  /// Each observed call matches at most one reported step.
  public static func phantoms(reported steps: [JSONValue], observed: [ObservedCall]) -> [(
    name: String, arguments: JSONValue
  )] {
    var unmatched = observed
    var phantoms: [(name: String, arguments: JSONValue)] = []
    for call in ToolCalls.of(steps) {
      if let i = unmatched.firstIndex(where: { $0.tool == call.name && sameArguments($0.arguments, call.arguments) }) {
        unmatched.remove(at: i)
      } else {
        phantoms.append(call)
      }
    }
    return phantoms
  }

  /// Equal as JSON, with a number and its decimal string taken as equal (as `tool_called` does).
  static func sameArguments(_ a: JSONValue, _ b: JSONValue) -> Bool {
    ToolCalls.contains(a, b) && ToolCalls.contains(b, a)
  }

  /// The observed calls as steps (`type: tool_call`): what trajectory graders read.
  public static func steps(_ calls: [ObservedCall]) -> [JSONValue] {
    calls.map { call in
      var step: [String: JSONValue] = [
        "type": .string("tool_call"), "name": .string(call.tool), "arguments": call.arguments,
      ]
      if let result = call.result { step["result"] = result }
      return .object(step)
    }
  }
}
