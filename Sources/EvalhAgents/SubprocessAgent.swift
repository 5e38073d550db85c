import EvalhCore
import Foundation

/// The subprocess adapter: a fresh process per trial, the request on stdin, the envelope on stdout.
public struct SubprocessAgent: AgentAdapter {
  /// How the agent is started.
  public let config: SubprocessConfig
  /// evalh's environment with the suite's `env` over it: the same for every trial, so made once.
  private let environment: [String: String]

  /// An agent started afresh for each trial.
  public init(config: SubprocessConfig) {
    self.config = config
    environment = ProcessInfo.processInfo.environment.merging(config.env) { _, new in new }
  }

  /// Nothing to release: each child ends with its trial.
  public func shutdown() async {}

  /// Runs one trial; never throws: every misbehaviour is an outcome.
  public func run(_ request: AgentRequest, timeout: Double, interruption: Interruption?) async -> AgentReply {
    let environment = self.environment.merging(request.environment) { _, new in new }
    let spec = ChildSpec(
      argv: config.command, cwd: config.cwd, environment: environment,
      stdin: Array((request.jsonText + "\n").utf8), timeout: timeout, maxStdout: config.maxOutput)
    let result = await ChildProcess.run(spec, interruption: interruption)
    return reply(to: result, timeout: timeout)
  }

  func reply(to result: ChildResult, timeout: Double) -> AgentReply {
    // Invalid UTF-8 becomes U+FFFD; never a crash.
    let stdout = String(decoding: result.stdout, as: UTF8.self)
    let stderr = result.stderr.isEmpty ? nil : String(decoding: result.stderr, as: UTF8.self)
    var reply = AgentReply(
      outcome: .answered, output: nil, usage: nil, steps: nil, stderrTail: stderr,
      truncated: result.stdoutTruncated, latencyMs: result.elapsed * 1000, attempts: 1)
    switch result.termination {
    case .timedOut:
      reply.outcome = .timedOut
      reply.latencyMs = timeout * 1000
      reply.output = stdout.isEmpty ? nil : .string(stdout)
      return reply
    case .interrupted:
      reply.outcome = .interrupted
      return reply
    case .failedToStart(let reason):
      reply.outcome = .exitError(reason)
      return reply
    case .harnessFailure(let reason):
      reply.outcome = .harnessError(reason)
      return reply
    case .signaled(let s):
      reply.outcome = .exitError("killed by \(signalName(s))")
      reply.output = stdout.isEmpty ? nil : .string(stdout)
      return reply
    case .exited(let code) where code != 0:
      reply.outcome = .exitError("exit status \(code)")
      reply.output = stdout.isEmpty ? nil : .string(stdout)
      return reply
    case .exited:
      break
    }
    switch config.format {
    case .text:
      reply.output = .string(stdout.hasSuffix("\n") ? String(stdout.dropLast()) : stdout)
    case .envelope:
      switch Envelope.parse(stdout) {
      case .success(let envelope):
        reply.output = envelope.output
        reply.usage = envelope.usage
        reply.steps = envelope.steps
        if let error = envelope.error { reply.outcome = .declaredError(error) }
      case .failure(let violation):
        reply.outcome = .contractError(
          violation.message + (result.stdoutTruncated ? " (stdout was cut at \(config.maxOutput) bytes)" : ""))
        reply.output = .string(stdout)
      }
    }
    return reply
  }
}
