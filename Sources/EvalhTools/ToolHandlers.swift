import EvalhAgents
import EvalhCore
import Foundation

/// The three handlers of tools.md: `cases`, `respond`, and `run` (a command per call).
enum ToolHandlers {
  /// What a handler gave.
  enum Outcome: Sendable {
    /// A result for the agent (an error result when the handler said `error`).
    case answered(JSONValue, isError: Bool)
    /// The handler broke (crash, timeout, garbage): the suite's fault.
    case failed(String)
  }

  /// How much a `run` handler may print.
  static let maxOutput = 1 << 20

  static func run(
    _ tool: ToolSpec, arguments: JSONValue, callNumber: Int, context: CallContext, upstreams: [String: MCPUpstream]
  ) async -> Outcome {
    switch tool.handler {
    case .proxied(let server):
      guard let upstream = upstreams[server] else { return .failed("MCP server '\(server)' is not running") }
      return await upstream.call(tool.name, arguments: arguments)
    case .respond(let value):
      return .answered(ToolTemplate.fill(value, arguments: arguments), isError: false)
    case .cases(let cases):
      guard let match = cases.first(where: { $0.when.map { ToolCalls.contains(arguments, $0) } ?? true }) else {
        return .answered(.string("no case of '\(tool.name)' matches these arguments"), isError: true)
      }
      return .answered(match.result, isError: match.isError)
    case .run(let argv, let cwd, let timeout):
      return await command(argv, cwd: cwd, timeout: timeout, tool: tool.name, arguments, callNumber, context)
    }
  }

  static func command(
    _ argv: [String], cwd: String, timeout: Double, tool: String, _ arguments: JSONValue, _ callNumber: Int,
    _ context: CallContext
  ) async -> Outcome {
    let request: JSONValue = .object([
      "tool": .string(tool), "arguments": arguments, "call": .number(Double(callNumber)),
      "task": .string(context.task), "trial": .number(Double(context.trial)),
      "seed": .number(Double(context.seed)), "state": context.statePath.map { .string($0) } ?? .null,
    ])
    var environment = ProcessInfo.processInfo.environment
    environment["EVALH_STATE"] = context.statePath
    environment["EVALH_STATE_DIR"] = context.stateDir
    environment["EVALH_TASK_ID"] = context.task
    environment["EVALH_TRIAL"] = String(context.trial)
    let result = await ChildProcess.run(
      ChildSpec(
        argv: argv, cwd: cwd, environment: environment, stdin: Array((request.compactText + "\n").utf8),
        timeout: timeout, maxStdout: maxOutput))
    let name = "handler of '\(tool)'"
    switch result.termination {
    case .exited(0): break
    case .exited(let code): return .failed("\(name) exited \(code)\(stderrNote(result))")
    case .signaled(let s): return .failed("\(name) was killed by \(signalName(s))")
    case .timedOut: return .failed("\(name) gave no answer within \(Durations.format(timeout))")
    case .interrupted: return .failed("\(name) was interrupted")
    case .failedToStart(let why), .harnessFailure(let why): return .failed("\(name) could not start: \(why)")
    }
    let text = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !result.stdoutTruncated, let reply = JSONValue.parse(text)?.objectValue else {
      return .failed(
        "\(name) printed \(VisibleText.of(String(text.prefix(120)))), not {\"result\": ...} or {\"error\": ...}")
    }
    if let error = reply["error"], reply["result"] == nil {
      return .answered(.string(error.gradingText), isError: true)
    }
    guard let value = reply["result"], reply.count == 1 else {
      return .failed("\(name) printed an object without exactly one of 'result' or 'error'")
    }
    return .answered(value, isError: false)
  }

  static func stderrNote(_ result: ChildResult) -> String {
    let tail = String(decoding: result.stderr.suffix(200), as: UTF8.self).trimmingCharacters(
      in: .whitespacesAndNewlines)
    return tail.isEmpty ? "" : ": \(VisibleText.of(tail))"
  }
}
