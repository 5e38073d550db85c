import EvalhCore
import Foundation
import LoopbackHTTP
import Synchronization
import Testing

@testable import EvalhAgents

/// The HTTP adapter against a real server on loopback, scripted per test.
@Suite struct HTTPAgentTests {
  /// A trial timeout no answer on loopback comes near, even on a loaded CI machine: the tests that are
  /// not about timeouts must not turn into them (a passing trial ends at once whatever this is).
  static let roomy: Double = 180

  /// Runs one trial against a server answering with `handler`, then shuts both down.
  /// Every exchange test runs over both transports: evalh's own (http://) and AsyncHTTPClient (https://).
  func trial(
    _ config: (String) -> HTTPConfig = { HTTPConfig(url: $0 + "/agent") }, timeout: Double = roomy,
    over transport: HTTPAgent.Transport, handler: @escaping LoopbackServer.Handler
  ) async throws -> (AgentReply, LoopbackServer) {
    let (reply, server, _) = try await timedTrial(config, timeout: timeout, over: transport, handler: handler)
    return (reply, server)
  }

  /// `trial`, with how long the trial itself took (the shutdowns after it not counted).
  func timedTrial(
    _ config: (String) -> HTTPConfig = { HTTPConfig(url: $0 + "/agent") }, timeout: Double = roomy,
    over transport: HTTPAgent.Transport, handler: @escaping LoopbackServer.Handler
  ) async throws -> (AgentReply, LoopbackServer, Duration) {
    let server = try await LoopbackServer(handler: handler)
    let agent = HTTPAgent(config: config(server.baseURL), transport: transport)
    let started = ContinuousClock.now
    let reply = await agent.run(httpRequest(), timeout: timeout, interruption: nil)
    let took = started.duration(to: .now)
    await agent.shutdown()
    await server.shutdown()
    return (reply, server, took)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func plainEnvelope(_ transport: HTTPAgent.Transport) async throws {
    let (reply, server) = try await trial(over: transport) { _ in
      .json(
        #"{"output":"Order 1234 approved","usage":{"input_tokens":812,"output_tokens":64,"cost_usd":0.00041},"steps":[{"type":"tool_call","name":"lookup","arguments":{"id":"1"}}]}"#
      )
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.output == .string("Order 1234 approved"))
    #expect(reply.usage == Usage(inputTokens: 812, outputTokens: 64, costUSD: 0.00041))
    #expect(reply.steps?.arrayValue?.first?["name"] == .string("lookup"))
    #expect(reply.attempts == 1 && !reply.truncated && reply.latencyMs > 0)
    // The default body is the evalh/1 request itself.
    let sent = try #require(server.requests.first)
    #expect(sent.method == "POST" && sent.uri == "/agent" && sent.header("Content-Type") == "application/json")
    let body = try #require(JSONValue.parse(sent.bodyText))
    #expect(
      body["protocol"] == .string("evalh/1") && body["task"]?["id"] == .string("t1") && body["trial"] == .number(3))
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func declaredErrorAndContractErrors(_ transport: HTTPAgent.Transport)
    async throws
  {
    let (declared, _) = try await trial(over: transport) { _ in .json(#"{"output":null,"error":"tool backend down"}"#) }
    guard case .declaredError(let message) = declared.outcome else {
      Issue.record("\(declared.outcome)")
      return
    }
    #expect(message == "tool backend down")

    let (notJSON, _) = try await trial(over: transport) { _ in
      .respond(status: 200, body: Array("<html>oops</html>".utf8))
    }
    guard case .contractError(let why) = notJSON.outcome else {
      Issue.record("\(notJSON.outcome)")
      return
    }
    #expect(why.contains("response body is not valid JSON"))
    #expect(notJSON.output == .string("<html>oops</html>"))

    let mapped = { (base: String) in HTTPConfig(url: base, response: ResponseMapping(output: try! JSONPath("$.answer")))
    }
    let (missing, _) = try await trial(mapped, over: transport) { _ in .json(#"{"other":1}"#) }
    guard case .contractError(let gone) = missing.outcome else {
      Issue.record("\(missing.outcome)")
      return
    }
    #expect(gone.contains("nothing at $.answer"))
    let (garbage, _) = try await trial(mapped, over: transport) { _ in
      .respond(status: 200, body: [0xFF, 0xFE, 0x00, 0x41])
    }
    guard case .contractError = garbage.outcome else {
      Issue.record("\(garbage.outcome)")
      return
    }
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func openAIShapedResponseWithUsageAndToolCalls(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let config = { (base: String) in
      HTTPConfig(
        url: base + "/v1/chat/completions",
        body: .object([
          "model": .string("m"),
          "messages": .array([.object(["role": .string("user"), "content": .string("{{input_text}}")])]),
        ]),
        response: ResponseMapping(
          output: try! JSONPath("$.choices[0].message.content"), inputTokens: try! JSONPath("$.usage.prompt_tokens"),
          outputTokens: try! JSONPath("$.usage.completion_tokens")),
        openAIToolCalls: true)
    }
    let (reply, server) = try await trial(config, over: transport) { _ in
      .json(
        #"{"id":"c1","model":"llama-3","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup_order","arguments":"{\"order_id\":\"1234\"}"}},{"id":"call_2","type":"function","function":{"name":"refund","arguments":"not json"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":31,"completion_tokens":17,"total_tokens":48}}"#
      )
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.output == .null)
    #expect(reply.usage == Usage(inputTokens: 31, outputTokens: 17, costUSD: nil, model: "llama-3"))
    let steps = try #require(reply.steps?.arrayValue)
    #expect(steps.count == 2)
    #expect(
      steps[0]
        == .object([
          "type": .string("tool_call"), "name": .string("lookup_order"),
          "arguments": .object(["order_id": .string("1234")]), "id": .string("call_1"),
        ]))
    #expect(steps[1]["arguments"] == .string("not json"))
    // The chat-completions body: the input as text in the user message.
    let first = try #require(server.requests.first)
    let sent = try #require(JSONValue.parse(first.bodyText))
    #expect(sent["messages"]?.arrayValue?.first?["content"] == .string(#"{"order":1234}"#))
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func templatedBodyIsFilledOnTheServerSide(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let template: JSONValue = .object([
      "question": .string("{{input}}"),
      "as_text": .string("Q: {{input}} ({{task.id}}, trial {{trial}}, seed {{seed}})"),
      "meta": .string("{{task.metadata.k}}"),
      "missing": .string("{{task.metadata.absent}}"),
      "ids": .array([.string("{{run_id}}"), .string("{{workdir}}")]),
      "numbers": .array([.string("{{trial}}"), .string("{{seed}}")]),
      "fixed": .number(7),
    ])
    let (reply, server) = try await trial(
      { HTTPConfig(url: $0, headers: [("X-Api-Key", "s3cret")], body: template) }, over: transport
    ) { _ in
      .json(#"{"output":"ok"}"#)
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    let sent = try #require(server.requests.first)
    #expect(sent.header("X-Api-Key") == "s3cret")
    let body = try #require(JSONValue.parse(sent.bodyText))
    #expect(body["question"] == .object(["order": .number(1234)]))
    #expect(body["as_text"] == .string(#"Q: {"order":1234} (t1, trial 3, seed 99)"#))
    #expect(body["meta"] == .string("v") && body["missing"] == .null)
    #expect(body["ids"] == .array([.string("r-http"), .string("/tmp/w")]))
    #expect(body["fixed"] == .number(7))
    #expect(body["numbers"] == .array([.number(3), .number(99)]))
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func retriesA503ThenSucceeds(_ transport: HTTPAgent.Transport)
    async throws
  {
    let calls = Counter()
    let (reply, server) = try await trial(over: transport) { _ in
      let n = calls.next()
      return n == 1 ? .respond(status: 503, body: Array("busy".utf8)) : .json(#"{"output":"second time"}"#)
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.output == .string("second time"))
    #expect(reply.attempts == 2 && server.requests.count == 2)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func honoursRetryAfterSecondsOn429(_ transport: HTTPAgent.Transport)
    async throws
  {
    let calls = Counter()
    let started = ContinuousClock.now
    let (reply, _) = try await trial(over: transport) { _ in
      let n = calls.next()
      return n == 1 ? .respond(status: 429, headers: [("Retry-After", "1")], body: []) : .json(#"{"output":"ok"}"#)
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.attempts == 2)
    // Waited the server's second, not the first backoff's quarter second.
    #expect(started.duration(to: .now) >= .seconds(1))
    #expect(reply.latencyMs >= 1000)
  }

  @Test func retryAfterAsHTTPDate() {
    let now = Date(timeIntervalSince1970: 1_763_800_000)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    let inFive = formatter.string(from: now.addingTimeInterval(5))
    #expect(HTTPAgent.retryAfter(inFive, now: now) == 5)
    #expect(HTTPAgent.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 0)
    #expect(HTTPAgent.retryAfter("120", now: now) == 120)
    #expect(HTTPAgent.retryAfter("soon", now: now) == nil)
    #expect(HTTPAgent.retryAfter(nil, now: now) == nil)
  }

  @Test func backoffGrowsWithJitter() {
    for attempt in 1...6 {
      let base = min(8, 0.25 * pow(2, Double(attempt - 1)))
      let delays = (0..<50).map { _ in HTTPAgent.backoff(attempt: attempt) }
      #expect(delays.allSatisfy { $0 >= base / 2 && $0 <= base })
      #expect(Set(delays).count > 1)
    }
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func retriesRunOutIntoATransportErrorWithStatusAndBody(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let (reply, server) = try await trial({ HTTPConfig(url: $0, retries: 2) }, over: transport) { _ in
      .respond(status: 502, body: Array(("gateway says no " + String(repeating: "z", count: 10_000)).utf8))
    }
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message.hasPrefix("HTTP 502 Bad Gateway: gateway says no zzz"))
    #expect(message.contains("gave up after 3 attempts"))
    #expect(message.utf8.count < 4096 + 200)
    #expect(reply.attempts == 3 && server.requests.count == 3)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func otherStatusesAreNotRetried(_ transport: HTTPAgent.Transport)
    async throws
  {
    let (reply, server) = try await trial(over: transport) { _ in
      .respond(status: 404, body: Array("no such route".utf8))
    }
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message == "HTTP 404 Not Found: no such route")
    #expect(reply.attempts == 1 && server.requests.count == 1)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func connectionResetIsRetried(_ transport: HTTPAgent.Transport)
    async throws
  {
    let calls = Counter()
    let (reply, server) = try await trial(over: transport) { _ in
      let n = calls.next()
      return n == 1 ? .reset : .json(#"{"output":"after reset"}"#)
    }
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.output == .string("after reset") && reply.attempts == 2)
    #expect(server.connections == 2)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func connectionRefusedIsATransportError(
    _ transport: HTTPAgent.Transport
  ) async throws {
    // A port nothing listens on: bind, note the port, close.
    let server = try await LoopbackServer { _ in .silence }
    let url = server.baseURL
    await server.shutdown()
    let agent = HTTPAgent(config: HTTPConfig(url: url, retries: 1), transport: transport)
    let reply = await agent.run(httpRequest(), timeout: Self.roomy, interruption: nil)
    await agent.shutdown()
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message.hasPrefix("connection failed"))
    #expect(reply.attempts == 2)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func aServerThatNeverAnswersIsBoundedByTheTimeout(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let (reply, _, took) = try await timedTrial(timeout: 0.5, over: transport) { _ in .silence }
    guard case .timedOut = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.latencyMs == 500)
    #expect(took < .seconds(120))  // unbounded, it would take forever
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func aTricklingBodyIsBoundedByTheTimeout(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let (reply, _, took) = try await timedTrial(timeout: 0.6, over: transport) { _ in
      .trickle(status: 200, chunk: Array("x".utf8), interval: .milliseconds(100), count: 3000)
    }
    guard case .timedOut = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(took < .seconds(120))  // unbounded, it would take 300 s
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func retriesStayWithinTheTimeout(_ transport: HTTPAgent.Transport)
    async throws
  {
    // A wide timeout (the reply comes at once): a loaded test machine must not turn it into a timeout.
    let (reply, server) = try await trial({ HTTPConfig(url: $0, retries: 5) }, over: transport) { _ in
      .respond(status: 503, headers: [("Retry-After", "900")], body: [])
    }
    guard case .transportError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message.contains("would pass the trial's timeout"))
    #expect(server.requests.count == 1 && reply.attempts == 1)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func aFiftyMebibyteBodyIsCutAndFlagged(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let (reply, _) = try await trial({ HTTPConfig(url: $0, maxOutput: 1 << 20) }, over: transport) { _ in
      .large(status: 200, bytes: 50 << 20)
    }
    #expect(reply.truncated)
    guard case .contractError(let message) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(message.contains("cut at 1048576 bytes"))
    #expect(reply.output?.stringValue?.utf8.count == 1 << 20)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func connectionsAreReusedAcrossTrials(_ transport: HTTPAgent.Transport)
    async throws
  {
    let server = try await LoopbackServer { _ in .json(#"{"output":"ok"}"#) }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL, maxConnections: 2), transport: transport)
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<40 {
        group.addTask {
          let reply = await agent.run(httpRequest(), timeout: Self.roomy, interruption: nil)
          if case .answered = reply.outcome {} else { Issue.record("\(reply.outcome)") }
        }
      }
    }
    await agent.shutdown()
    await server.shutdown()
    #expect(server.requests.count == 40)
    #expect(server.connections <= 2)
    #expect(Set(server.requests.map(\.connection)).count <= 2)
  }

  @Test(arguments: HTTPAgent.Transport.allCases) func interruptionEndsTheTrialUnrecorded(
    _ transport: HTTPAgent.Transport
  ) async throws {
    let server = try await LoopbackServer { _ in .silence }
    let agent = HTTPAgent(config: HTTPConfig(url: server.baseURL), transport: transport)
    let interruption = Interruption()
    Thread {
      usleep(200_000)
      interruption.trigger()
    }.start()
    let reply = await agent.run(httpRequest(), timeout: Self.roomy, interruption: interruption)
    await agent.shutdown()
    await server.shutdown()
    guard case .interrupted = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
  }
  /// An https agent whose server takes the connection and never answers the TLS handshake: the
  /// trial ends at its timeout, and closing the agent does not wait out AsyncHTTPClient's
  /// 10-second connect timeout for the handshake still pending.
  @Test func aStalledTLSHandshakeHoldsNeitherTheTrialNorTheShutdown() async throws {
    let listener = try MuteListener()
    defer { listener.close() }
    let agent = HTTPAgent(config: HTTPConfig(url: "https://127.0.0.1:\(listener.port)/agent"))
    let reply = await agent.run(httpRequest(), timeout: 0.5, interruption: nil)
    guard case .timedOut = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    let started = ContinuousClock.now
    await agent.shutdown()
    #expect(started.duration(to: .now) < .seconds(5))
  }

  @Test func theRequestIsWrittenAsItsJSONValue() {
    // The request text is written by hand for speed; it must be the JSON value's compact text.
    let hostile = "quote \" backslash \\ newline \n tab \t nul \u{0} del \u{7F} c1 \u{85} ls \u{2028} é 中 🚀"
    for (input, tags, seed) in [
      (JSONValue.object(["order": .number(1234)]), [String](), Int64(99)),
      (.string(hostile), ["a", hostile], Int64(1) << 52),
      (.array([.null, .bool(true), .number(-0.5), .object([hostile: .string(hostile)])]), ["x"], Int64(-7)),
    ] {
      let request = AgentRequest(
        runID: "r-\(hostile)", suite: hostile, agent: "a\"b",
        task: TaskSpec(
          id: hostile, input: input, tags: tags, metadata: ["k": .string(hostile), "n": .number(1.5)], trials: nil,
          timeout: nil, expect: [], assure: []),
        trial: 12, seed: seed, workdir: "/tmp/\(hostile)")
      #expect(request.jsonText == request.json.compactText)
      // With served tools: the `tools` member, written by hand too.
      var served = request
      served.tools = ServedTools(
        mcpURL: "http://127.0.0.1:1/t/\(hostile)/mcp", url: "http://127.0.0.1:1/t/x/tools",
        list: .array([.object(["type": .string("function"), "function": .object(["name": .string(hostile)])])]),
        call: { _, _ in (.null, false) })
      #expect(served.jsonText == served.json.compactText)
      #expect(served.json["tools"]?["mcp_url"] == .string("http://127.0.0.1:1/t/\(hostile)/mcp"))
      #expect(served.environment["EVALH_TOOLS_URL"] == "http://127.0.0.1:1/t/x/tools")
      #expect(JSONValue.parse(request.jsonText) == request.json)
    }
  }
}

/// A request with a JSON input and metadata, as the template tests expect.
func httpRequest() -> AgentRequest {
  AgentRequest(
    runID: "r-http", suite: "s", agent: "a",
    task: TaskSpec(
      id: "t1", input: .object(["order": .number(1234)]), tags: [], metadata: ["k": .string("v")], trials: nil,
      timeout: nil, expect: [], assure: []),
    trial: 3, seed: 99, workdir: "/tmp/w")
}

/// Counts a scripted server's requests.
final class Counter: Sendable {
  private let count = Mutex(0)
  /// 1 for the first call, 2 for the second, …
  func next() -> Int {
    count.withLock { n in
      n += 1
      return n
    }
  }

}

@Suite struct ServedToolsTemplateTests {
  @Test func bodyTemplatesNameTheServedTools() throws {
    let config = HTTPConfig(
      url: "http://127.0.0.1:1/agent",
      body: .object([
        "mcp": .string("{{tools.mcp_url}}"), "url": .string("at {{tools.url}}"), "tools": .string("{{tools.list}}"),
        "text": .string("tools: {{tools.list}}"),
      ]))
    var request = httpRequest()
    let list = JSONValue.array([.object(["type": .string("function")])])
    request.tools = ServedTools(mcpURL: "http://m", url: "http://u", list: list, call: { _, _ in (.null, false) })
    let body = try #require(HTTPAgent(config: config).makeRequest(request).body)
    let sent = try #require(JSONValue.parse(String(decoding: body, as: UTF8.self)))
    #expect(sent["mcp"] == .string("http://m"))
    #expect(sent["url"] == .string("at http://u"))
    #expect(sent["tools"] == list, "exactly the placeholder: the list itself")
    #expect(sent["text"] == .string("tools: " + list.compactText))
    // Without served tools: empty, and an empty list.
    let bare = try #require(HTTPAgent(config: config).makeRequest(httpRequest()).body)
    let plain = try #require(JSONValue.parse(String(decoding: bare, as: UTF8.self)))
    #expect(plain["mcp"] == .string("") && plain["tools"] == .array([]))
  }
}
