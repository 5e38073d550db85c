import AsyncHTTPClient
import EvalhCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The HTTP adapter: one request per trial over a pool of keep-alive connections (agent-protocol.md).
///
/// One client per agent, so `max_connections` bounds that agent's connections and they are reused
/// across trials. Every fault is an outcome of the trial, never a thrown error.
public final class HTTPAgent: AgentAdapter {
  public let config: HTTPConfig
  let client: HTTPClient

  /// Statuses worth another attempt: the server or a gateway says "later".
  static let retryableStatuses: Set<UInt> = [408, 429, 500, 502, 503, 504]
  /// Bytes of a failed response's body kept in the error.
  static let errorBodyLimit = 4096

  public init(config: HTTPConfig) {
    self.config = config
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(
      idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, config.maxConnections))
    // evalh retries itself, counting attempts and keeping within the trial's timeout.
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout = .init(connect: .seconds(10))
    configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
    client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
  }

  public func shutdown() async {
    try? await client.shutdown()
  }

  public func run(_ request: AgentRequest, timeout: Double, interruption: Interruption?) async -> AgentReply {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int64(timeout * 1000))
    let attempts = AttemptCount()
    let finished = await race(until: deadline, clock: clock, interruption: interruption) {
      await self.exchange(request, deadline: deadline, clock: clock, attempts: attempts)
    }
    let elapsed = start.duration(to: clock.now)
    var reply = AgentReply(
      outcome: .answered, output: nil, usage: nil, steps: nil, stderrTail: nil, truncated: false,
      latencyMs: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15,
      attempts: max(1, attempts.value))
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
  }

  enum Finish: Sendable {
    case done(Answer)
    case timedOut
    case interrupted
  }

  /// Runs `work` until it ends, the deadline passes or evalh is interrupted, whichever is first.
  /// The losers are cancelled: AsyncHTTPClient then closes the connection, so a server that never
  /// answers or trickles its body costs no more than the timeout.
  func race(
    until deadline: ContinuousClock.Instant, clock: ContinuousClock, interruption: Interruption?,
    _ work: @escaping @Sendable () async -> Answer
  ) async -> Finish {
    await withTaskGroup(of: Finish?.self) { group in
      group.addTask { .done(await work()) }
      // One watcher for both the deadline and an interruption: it sleeps in slices of at most 50 ms.
      group.addTask {
        while !Task.isCancelled {
          if interruption?.isTriggered == true { return .interrupted }
          let now = clock.now
          if now >= deadline { return .timedOut }
          try? await Task.sleep(until: min(deadline, now.advanced(by: .milliseconds(50))), clock: clock)
        }
        return nil
      }
      defer { group.cancelAll() }
      while let next = await group.next() {
        if let next { return next }
      }
      return .timedOut
    }
  }

  /// Sends the request, retrying what is worth retrying, and reads the answer.
  func exchange(_ request: AgentRequest, deadline: ContinuousClock.Instant, clock: ContinuousClock, attempts: AttemptCount)
    async -> Answer
  {
    let outgoing = makeRequest(request)
    var failure = ""
    for attempt in 1...(config.retries + 1) {
      attempts.value = attempt
      var retryAfter: Double?
      do {
        let left = clock.now.duration(to: deadline)
        let response = try await client.execute(
          outgoing, deadline: .now() + .nanoseconds(max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)))
        let status = response.status
        if (200..<300).contains(status.code) {
          let (bytes, truncated) = try await Self.read(response.body, limit: config.maxOutput)
          var answer = parse(bytes)
          answer.truncated = truncated
          if truncated, case .contractError(let message) = answer.outcome {
            answer.outcome = .contractError(message + " (the body was cut at \(config.maxOutput) bytes)")
          }
          return answer
        }
        let (head, cut) = try await Self.read(response.body, limit: Self.errorBodyLimit)
        let text = String(decoding: head, as: UTF8.self)
        failure = "HTTP \(status.code) \(status.reasonPhrase)" + (text.isEmpty ? "" : ": \(text)\(cut ? "…" : "")")
        guard Self.retryableStatuses.contains(status.code) else { return Answer(outcome: .transportError(failure)) }
        retryAfter = Self.retryAfter(response.headers.first(name: "Retry-After"), now: Date())
      } catch {
        if Task.isCancelled { return Answer(outcome: .interrupted) }
        failure = "connection failed: \(Self.describe(error))"
      }
      guard attempt <= config.retries else { break }
      let delay = retryAfter ?? Self.backoff(attempt: attempt)
      if clock.now.advanced(by: .milliseconds(Int64(delay * 1000))) >= deadline {
        return Answer(
          outcome: .transportError(
            "\(failure) (attempt \(attempt); the next retry, in \(Durations.format(delay)), would pass the trial's timeout)"))
      }
      try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
      if Task.isCancelled { return Answer(outcome: .interrupted) }
    }
    return Answer(outcome: .transportError("\(failure) (gave up after \(config.retries + 1) attempts)"))
  }

  func makeRequest(_ request: AgentRequest) -> HTTPClientRequest {
    var outgoing = HTTPClientRequest(url: config.url)
    outgoing.method = HTTPMethod(rawValue: config.method)
    for (name, value) in config.headers { outgoing.headers.add(name: name, value: value) }
    if outgoing.method != .GET {
      let body: JSONValue
      if let template = config.body {
        body = BodyTemplate.render(
          template,
          .init(
            input: request.task.input, taskID: request.task.id, metadata: request.task.metadata, trial: request.trial,
            seed: request.seed, runID: request.runID, workdir: request.workdir))
      } else {
        body = request.json
      }
      if !outgoing.headers.contains(name: "Content-Type") { outgoing.headers.add(name: "Content-Type", value: "application/json") }
      outgoing.body = .bytes(ByteBuffer(string: body.compactText))
    }
    if !outgoing.headers.contains(name: "User-Agent") { outgoing.headers.add(name: "User-Agent", value: "evalh") }
    return outgoing
  }

  /// Reads at most `limit` bytes; says whether there was more (the rest is not read).
  static func read(_ body: HTTPClientResponse.Body, limit: Int) async throws -> ([UInt8], Bool) {
    var bytes: [UInt8] = []
    for try await chunk in body {
      let room = limit - bytes.count
      if chunk.readableBytes > room {
        bytes += chunk.readableBytesView.prefix(room)
        return (bytes, true)
      }
      bytes += chunk.readableBytesView
    }
    return (bytes, false)
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
      return Answer(outcome: .contractError("the response body has nothing at \(mapping.output)"), output: .string(text))
    }
    func number(_ path: JSONPath?) -> Double? { path.flatMap { $0.select(in: body).first?.numberValue } }
    var usage = Usage(
      inputTokens: number(mapping.inputTokens).map { Int($0) }, outputTokens: number(mapping.outputTokens).map { Int($0) },
      costUSD: number(mapping.costUSD), model: body["model"]?.stringValue)
    if usage == Usage() { usage.model = nil }
    var steps: [JSONValue]?
    if let path = mapping.steps, let found = path.select(in: body).first, found != .null {
      guard let list = found.arrayValue else {
        return Answer(outcome: .contractError("\(path) in the response body is not a list of steps"), output: .string(text))
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

  /// A short, stable description of a client error.
  static func describe(_ error: any Error) -> String {
    if let client = error as? HTTPClientError { return "\(client)" }
    return String(describing: error)
  }
}

/// Attempts made so far, readable after the exchange was cancelled by the timeout.
final class AttemptCount: Sendable {
  private let count = Mutex(0)
  var value: Int {
    get { count.withLock { $0 } }
    set { count.withLock { $0 = newValue } }
  }
}
