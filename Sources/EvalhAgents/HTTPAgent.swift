import EvalhCore
import Foundation
import NIOHTTP1

/// The HTTP adapter: one request per trial over a pool of keep-alive connections (agent-protocol.md).
///
/// One transport per agent, so `max_connections` bounds that agent's connections and they are
/// reused across trials: `http://` agents are served by evalh's own HTTP/1.1 transport, `https://`
/// ones by AsyncHTTPClient (TLS, HTTP/2). Every fault is an outcome of the trial, never a thrown error.
public final class HTTPAgent: AgentAdapter {
  /// How the agent is called.
  public let config: HTTPConfig
  let transport: any HTTPTransport

  /// Which transport carries the requests; `automatic` picks by the URL's scheme.
  public enum Transport: Sendable, CaseIterable {
    case automatic
    case asyncHTTPClient
  }

  /// Statuses worth another attempt: the server or a gateway says "later".
  static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
  /// Bytes of a failed response's body kept in the error.
  static let errorBodyLimit = 4096

  /// An agent; its connections open on first use.
  public init(config: HTTPConfig, transport: Transport = .automatic) {
    self.config = config
    if transport == .automatic, let endpoint = Endpoint.parse(config.url) {
      self.transport = PlainHTTPTransport(endpoint: endpoint, maxConnections: config.maxConnections)
    } else {
      self.transport = AsyncHTTPClientTransport(url: config.url, maxConnections: config.maxConnections)
    }
  }

  /// Closes its connections.
  public func shutdown() async {
    await transport.shutdown()
  }

  /// Runs one trial: the request, retries within the timeout, the answer read.
  public func run(_ request: AgentRequest, timeout: Double, interruption: Interruption?) async -> AgentReply {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int64(timeout * 1000))
    var attempts = 0
    let finished: Finish
    if let loop = config.toolLoop, let tools = request.tools {
      finished = await runToolLoop(
        request, tools: tools, loop: loop, deadline: deadline, interruption: interruption, attempts: &attempts)
    } else {
      finished = await exchange(
        makeRequest(request), deadline: deadline, interruption: interruption, attempts: &attempts, parse: parse)
    }
    let elapsed = start.duration(to: clock.now)
    var reply = AgentReply(
      outcome: .answered, output: nil, usage: nil, steps: nil, stderrTail: nil, truncated: false,
      latencyMs: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15,
      attempts: max(1, attempts))
    switch finished {
    case .done(let answer):
      reply.outcome = answer.outcome
      reply.output = answer.output
      reply.usage = answer.usage
      reply.steps = answer.steps
      reply.truncated = answer.truncated
    case .timedOut:
      reply.outcome = .timedOut
      reply.latencyMs = timeout * 1000
    case .interrupted:
      reply.outcome = .interrupted
    }
    return reply
  }

  /// What one exchange (all its attempts) produced.
  struct Answer: Sendable {
    var outcome: AgentReply.Outcome
    var output: JSONValue? = nil
    var usage: Usage? = nil
    var steps: JSONValue? = nil
    var truncated = false
    /// The 2xx body as received (the tool loop reads the message from it).
    var raw: [UInt8] = []
  }

  enum Finish: Sendable {
    case done(Answer)
    case timedOut
    case interrupted
  }

  /// Sends the request, retrying what is worth retrying, and reads the answer; every attempt and
  /// every wait between them stays within the trial's deadline.
  func exchange(
    _ outgoing: OutgoingRequest, deadline: ContinuousClock.Instant, interruption: Interruption?, attempts: inout Int,
    parse: ([UInt8]) -> Answer
  ) async -> Finish {
    var failure = ""
    for attempt in 1...(config.retries + 1) {
      attempts = attempt
      var retryAfter: Double?
      switch await transport.send(
        outgoing, bodyLimit: config.maxOutput, errorLimit: Self.errorBodyLimit, deadline: deadline,
        interruption: interruption)
      {
      case .timedOut: return .timedOut
      case .interrupted: return .interrupted
      case .unusable(let why): return .done(Answer(outcome: .transportError(why)))
      case .connectionFailed(let why): failure = "connection failed: \(why)"
      case .response(let response):
        if (200..<300).contains(response.status) {
          var answer = parse(response.body)
          answer.raw = response.body
          answer.truncated = response.truncated
          if response.truncated, case .contractError(let message) = answer.outcome {
            answer.outcome = .contractError(message + " (the body was cut at \(config.maxOutput) bytes)")
          }
          return .done(answer)
        }
        let text = String(decoding: response.body, as: UTF8.self)
        let reason = HTTPResponseStatus(statusCode: response.status).reasonPhrase
        failure =
          "HTTP \(response.status) \(reason)" + (text.isEmpty ? "" : ": \(text)\(response.truncated ? "…" : "")")
        guard Self.retryableStatuses.contains(response.status) else {
          return .done(Answer(outcome: .transportError(failure)))
        }
        retryAfter = Self.retryAfter(response.retryAfter, now: Date())
      }
      guard attempt <= config.retries else { break }
      let delay = retryAfter ?? Self.backoff(attempt: attempt)
      let clock = ContinuousClock()
      // Compared as seconds first: a Retry-After of 1e20 must not be made into a Duration at all.
      let left = clock.now.duration(to: deadline)
      let secondsLeft = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
      if !(delay < secondsLeft) {
        return .done(
          Answer(
            outcome: .transportError(
              "\(failure) (attempt \(attempt); the next retry, in \(Durations.format(delay)), would pass the trial's timeout)"
            )))
      }
      // The wait in slices, so an interruption ends it within 50 ms.
      let resume = clock.now.advanced(by: .milliseconds(Int64(delay * 1000)))
      while clock.now < resume {
        if interruption?.isTriggered == true { return .interrupted }
        try? await Task.sleep(until: min(resume, clock.now.advanced(by: .milliseconds(50))), clock: clock)
      }
    }
    return .done(Answer(outcome: .transportError("\(failure) (gave up after \(config.retries + 1) attempts)")))
  }

  /// The trial's request: method, headers (with evalh's defaults) and the JSON body.
  func makeRequest(_ request: AgentRequest) -> OutgoingRequest {
    var outgoing = OutgoingRequest(method: config.method, headers: config.headers, body: nil)
    func has(_ name: String) -> Bool { config.headers.contains { $0.name.lowercased() == name.lowercased() } }
    if config.method != "GET" {
      if let template = config.body {
        var values = BodyTemplate.Values(
          input: request.task.input, taskID: request.task.id, metadata: request.task.metadata, trial: request.trial,
          seed: request.seed, runID: request.runID, workdir: request.workdir)
        values.condition = request.condition
        if let tools = request.tools {
          values.toolsMCPURL = tools.mcpURL
          values.toolsURL = tools.url
          values.toolsList = tools.list
        }
        let body = BodyTemplate.render(template, values)
        outgoing.body = Array(body.compactText.utf8)
      } else {
        outgoing.body = Array(request.jsonText.utf8)
      }
      if !has("Content-Type") { outgoing.headers.append((name: "Content-Type", value: "application/json")) }
    }
    if !has("User-Agent") { outgoing.headers.append((name: "User-Agent", value: "evalh")) }
    return outgoing
  }

  /// Reads the answer from a 2xx body: an envelope, or the configured JSONPath mapping.
  func parse(_ bytes: [UInt8]) -> Answer {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let mapping = config.response else {
      switch Envelope.parse(text, from: "the response body") {
      case .success(let envelope):
        var answer = Answer(outcome: .answered, output: envelope.output, usage: envelope.usage, steps: envelope.steps)
        if let error = envelope.error { answer.outcome = .declaredError(error) }
        return answer
      case .failure(let violation):
        return Answer(outcome: .contractError(violation.message), output: .string(text))
      }
    }
    guard let body = JSONValue.parse(text) else {
      return Answer(outcome: .contractError("the response body is not valid JSON"), output: .string(text))
    }
    guard let output = mapping.output.select(in: body).first else {
      return Answer(
        outcome: .contractError("the response body has nothing at \(mapping.output)"), output: .string(text))
    }
    func number(_ path: JSONPath?) -> Double? { path.flatMap { $0.select(in: body).first?.numberValue } }
    var usage: Usage
    switch Usage.checked(
      inputTokens: number(mapping.inputTokens), outputTokens: number(mapping.outputTokens),
      costUSD: number(mapping.costUSD), model: body["model"]?.stringValue, where: "the response's ")
    {
    case .success(let u): usage = u
    case .failure(let violation): return Answer(outcome: .contractError(violation.message), output: .string(text))
    }
    if usage == Usage() { usage.model = nil }
    var steps: [JSONValue]?
    if let path = mapping.steps, let found = path.select(in: body).first, found != .null {
      guard let list = found.arrayValue else {
        return Answer(
          outcome: .contractError("\(path) in the response body is not a list of steps"), output: .string(text))
      }
      steps = list
    }
    if config.openAIToolCalls {
      let calls = Self.openAIToolCalls(in: body)
      if !calls.isEmpty { steps = (steps ?? []) + calls }
    }
    return Answer(
      outcome: .answered, output: output, usage: usage == Usage() ? nil : usage, steps: steps.map { .array($0) })
  }

  /// `choices[0].message.tool_calls` as evalh steps; `arguments` (a JSON string there) parsed when it is JSON.
  static func openAIToolCalls(in body: JSONValue) -> [JSONValue] {
    guard let calls = body["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue else { return [] }
    return calls.map { call in
      let function = call["function"]
      let raw = function?["arguments"]
      let arguments = raw?.stringValue.flatMap { JSONValue.parse($0) } ?? raw ?? .object([:])
      var step: [String: JSONValue] = [
        "type": .string("tool_call"), "name": function?["name"] ?? .null, "arguments": arguments,
      ]
      if let id = call["id"] { step["id"] = id }
      return .object(step)
    }
  }

  /// Exponential backoff with jitter: 0.25 s, 0.5 s, 1 s… (capped at 8 s), each scaled by a random 50–100 %.
  static func backoff(attempt: Int) -> Double {
    let base = min(8, 0.25 * pow(2, Double(attempt - 1)))
    return base * Double.random(in: 0.5...1)
  }

  /// `Retry-After` in seconds, from delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
  static func retryAfter(_ value: String?, now: Date) -> Double? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
    if let seconds = Double(value), seconds >= 0 { return seconds }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
  }
}
