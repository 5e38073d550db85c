import EvalhCore
import Foundation
import LoopbackHTTP
import Testing

@testable import EvalhAgents

/// Numbers, headers and streams a hostile agent or server sends: each is an outcome of its trial,
/// never a trap or a hang (issue 14: 1, 3, 5, 13; a conflicting Content-Length).
@Suite struct HostileAgentTests {
  enum Failure { case transport, contract }

  /// The reply is a transport or contract error whose message holds `text`.
  func expect(_ reply: AgentReply, _ kind: Failure, saying text: String) {
    let message: String? =
      switch (kind, reply.outcome) {
      case (.transport, .transportError(let m)), (.contract, .contractError(let m)): m
      default: nil
      }
    #expect(message?.contains(text) == true, "\(reply.outcome)")
  }

  /// Every out-of-range or non-finite usage number is a contract error naming it, never a trap.
  @Test(arguments: [
    #"{"output":"x","usage":{"input_tokens":1e19}}"#, #"{"output":"x","usage":{"input_tokens":9223372036854775807}}"#,
    #"{"output":"x","usage":{"output_tokens":123456789012345678901234567890}}"#,
    #"{"output":"x","usage":{"input_tokens":-1}}"#, #"{"output":"x","usage":{"input_tokens":2.5}}"#,
    #"{"output":"x","usage":{"cost_usd":-1.5}}"#, #"{"output":"x","usage":{"cost_usd":1e400}}"#,
    #"{"output":"x","usage":{"cost_usd":-1e400}}"#, #"{"output":"x","usage":{"input_tokens":-9223372036854775808}}"#,
  ])
  func outOfRangeUsageIsAContractError(_ envelope: String) {
    guard case .failure(let violation) = Envelope.parse(envelope) else {
      Issue.record("accepted \(envelope)")
      return
    }
    // 1e400 is not JSON a parser keeps as a number: refused as not JSON, also a contract error.
    #expect(violation.message.contains("usage.") || envelope.contains("e400"), "\(violation.message)")
  }

  /// Boundary values that are valid stay valid: 0, -0 as a cost, the largest exact count.
  @Test func boundaryUsageThatIsValidIsKept() throws {
    let parsed = try Envelope.parse(
      #"{"output":"x","usage":{"input_tokens":0,"output_tokens":9007199254740992,"cost_usd":-0.0}}"#
    ).get()
    #expect(parsed.usage?.inputTokens == 0 && parsed.usage?.outputTokens == 9_007_199_254_740_992)
    #expect(parsed.usage?.costUSD == 0)
  }

  /// A Retry-After far beyond the trial's deadline ends the trial at once as a transport error.
  @Test(arguments: ["99999999999999999999", "1e308", "inf"])
  func hugeRetryAfterEndsTheTrial(_ value: String) async throws {
    let server = try await LoopbackServer { _ in .respond(status: 503, headers: [("Retry-After", value)], body: []) }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL + "/agent", retries: 2))
    let started = Date()
    let reply = await agent.run(httpRequest(), timeout: 5, interruption: nil)
    await agent.shutdown()
    await server.shutdown()
    expect(reply, .transport, saying: "would pass the trial's timeout")
    #expect(Date().timeIntervalSince(started) < 30)
  }

  /// A response's usage is checked like an envelope's.
  @Test func aMappedNegativeCostIsAContractError() async throws {
    let server = try await LoopbackServer { _ in .json(#"{"answer":"x","cost":-2}"#) }
    let mapping = ResponseMapping(output: try JSONPath("$.answer"), costUSD: try JSONPath("$.cost"))
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL + "/agent", response: mapping))
    let reply = await agent.run(httpRequest(), timeout: 5, interruption: nil)
    await agent.shutdown()
    await server.shutdown()
    expect(reply, .contract, saying: "cost_usd is -2")
  }

  /// A server that streams `100 Continue` without pause: the trial's deadline still ends it.
  @Test func anEndlessStreamOfContinuesTimesOut() async throws {
    let server = try RawServer(forever: true) { _, _ in (Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), false) }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL + "/agent", retries: 0))
    let started = Date()
    let reply = await agent.run(httpRequest(), timeout: 1, interruption: nil)
    let took = Date().timeIntervalSince(started)
    await agent.shutdown()
    server.shutdown()
    guard case .timedOut = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    // Bounded, not timed: the stream never ends, so without the deadline this never returns (a
    // loaded machine may take a while to schedule the wake-up).
    #expect(took < 60, "took \(took) s for a 1 s timeout")
  }

  /// Two Content-Length headers that disagree leave the body's end unknown: refused, not guessed.
  @Test func conflictingContentLengthsAreRefused() async throws {
    let server = try RawServer { _, _ in
      (Array("HTTP/1.1 200 OK\r\nContent-Length: 17\r\nContent-Length: 3\r\n\r\n{\"output\":\"fine\"}".utf8), true)
    }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL + "/agent", retries: 0))
    let reply = await agent.run(httpRequest(), timeout: 5, interruption: nil)
    await agent.shutdown()
    server.shutdown()
    expect(reply, .transport, saying: "conflicting Content-Length")
  }
}
