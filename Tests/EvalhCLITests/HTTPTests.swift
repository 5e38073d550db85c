import EvalhStore
import Foundation
import GRDB
import LoopbackHTTP
import Synchronization
import Testing

/// The built binary against real HTTP servers on loopback: the bundled OpenAI-compatible
/// stand-in (a child process) and scripted servers in this process.
@Suite struct HTTPTests {
  /// Starts `example-agent serve --port 0` and returns it with its base URL.
  func startStandIn() throws -> (Process, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: exampleAgent)
    process.arguments = ["serve", "--port", "0"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    // "example-agent: serving on http://127.0.0.1:PORT (...)"
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line += chunk
    }
    let text = String(decoding: line, as: UTF8.self)
    let url = try #require(text.split(separator: " ").first { $0.hasPrefix("http://") }).description
    return (process, url)
  }

  @Test func openAIPresetWithAJudgeFromTheBuiltBinary() async throws {
    let box = Sandbox()
    let (server, url) = try startStandIn()
    defer { server.terminate() }
    box.write(
      "suite.yaml",
      """
      name: chat
      trials: 4
      agents:
        bot:
          http: { openai: { base_url: "${BASE}/v1", model: support-large, api_key: "${KEY}" } }
        judge:
          http: { openai: { base_url: "${BASE}/v1", model: judge } }
          pricing: { input_per_million: 1, output_per_million: 1 }
        broken-judge:
          http: { url: "${BASE}/nowhere", retries: 0 }
      tasks:
        - id: hours
          input: When are your stores open?
          expect:
            - judge: { agent: judge, rubric: 'mentions "Monday" and "Saturday"', threshold: 1 }
        - id: sundays
          input: When are your stores open?
          expect:
            - judge: { agent: judge, rubric: 'mentions "Sunday"', threshold: 0.5, name: sunday-judge }
        - id: orders
          input: "Where is my order #1234?"
          expect:
            - tool_called: { name: lookup_order, arguments: { order_id: "1234" } }
        - id: judged-by-a-broken-judge
          input: When are your stores open?
          expect:
            - judge: { agent: broken-judge, rubric: anything }
      """)
    let env = ["BASE": url, "KEY": "sk-test-5f3a9c"]
    let validate = try await box.evalh(["validate", "suite.yaml"], environment: env)
    #expect(validate.code == 0, "\(validate.stderr)")
    #expect(validate.stdout.contains("ok: 4 tasks × 1 agents"), "judges are not evaluated: \(validate.stdout)")

    let judgeRun = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--agent", "judge"], environment: env)
    #expect(
      judgeRun.code == 2 && judgeRun.stderr.contains("agent 'judge' is a judge of suite 'chat'"), "\(judgeRun.stderr)")

    let out = try await box.evalh(
      ["run", "suite.yaml", "--db", box.db, "--run-id", "r-http", "--json"], environment: env)
    #expect(out.code == 0, "no gate was asked for: \(out.stderr)")
    let report = try parseJSON(out.stdout)
    let agents = try #require(report["agents"] as? [[String: Any]])
    #expect(agents.map { $0["agent"] as? String } == ["bot"])
    let metrics = try #require(agents.first?["metrics"] as? [String: Any])
    let judgeCost = try #require(metrics["judge_cost_usd"] as? Double)
    #expect(judgeCost > 0)

    let queue = try DatabaseQueue(path: box.db)
    try await queue.read { db in
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM trials WHERE agent != 'bot'") == 0)
      let statuses = try Row.fetchAll(
        db, sql: "SELECT task_id, group_concat(DISTINCT status) AS s, min(attempts) AS a FROM trials GROUP BY task_id")
      let byTask = Dictionary(uniqueKeysWithValues: statuses.map { ($0["task_id"] as String, $0["s"] as String) })
      #expect(byTask == ["hours": "pass", "sundays": "fail", "orders": "pass", "judged-by-a-broken-judge": "error"])
      let failing = try String.fetchOne(db, sql: "SELECT detail FROM grades WHERE task_id = 'sundays' LIMIT 1")
      #expect(failing == "score 0 < threshold 0.5: misses Sunday")
      let passing = try Row.fetchOne(
        db, sql: "SELECT grader, score, detail FROM grades WHERE task_id = 'hours' LIMIT 1")
      #expect(passing?["grader"] == "judge" && passing?["score"] == 1.0)
      let broken = try Row.fetchOne(
        db, sql: "SELECT error_kind, error FROM trials WHERE task_id = 'judged-by-a-broken-judge' LIMIT 1")
      #expect(broken?["error_kind"] == "grader")
      #expect((broken?["error"] as String?)?.hasPrefix("judge 'broken-judge' could not be reached: HTTP 404") == true)
      // The agent's own cost is unknown (no pricing); the judge's is known and kept apart.
      #expect(try Double.fetchOne(db, sql: "SELECT total(cost_usd) FROM trials") == 0)
      #expect(try Double.fetchOne(db, sql: "SELECT total(judge_cost_usd) FROM trials WHERE task_id = 'hours'")! > 0)
    }
    let text = try await box.evalh(["report", "r-http", "--db", box.db])
    #expect(text.stdout.contains("judges "))
  }

  @Test func theBundledOpenAISuiteRunsAgainstTheStandIn() async throws {
    let box = Sandbox()
    let (server, url) = try startStandIn()
    defer { server.terminate() }
    let out = try await box.evalh(
      [
        "run", packageRoot + "/suites/openai-compatible.yaml", "--db", box.db, "--trials", "2", "--seed", "1", "--json",
      ],
      environment: ["OPENAI_BASE_URL": url + "/v1"])
    #expect(out.code == 0, "\(out.stderr)")
    let agents = try #require(try parseJSON(out.stdout)["agents"] as? [[String: Any]])
    #expect(agents.count == 1 && agents[0]["agent"] as? String == "model" && agents[0]["trials"] as? Int == 10)
    let errors = try #require((agents[0]["metrics"] as? [String: Any])?["errors"] as? [String: Int])
    #expect(errors.values.allSatisfy { $0 == 0 }, "\(errors)")
  }

  /// An HTTP agent's trials get a fresh working folder too (agent-protocol.md): it exists and is
  /// empty when the request arrives, and is gone after grading.
  @Test func httpTrialsHaveAFreshWorkingFolder() async throws {
    let seen = Mutex<[(path: String, empty: Bool)]>([])
    let server = try await LoopbackServer { request in
      let body = (try? JSONSerialization.jsonObject(with: Data(request.bodyText.utf8))) as? [String: Any]
      let path = body?["workdir"] as? String ?? ""
      let entries = try? FileManager.default.contentsOfDirectory(atPath: path)
      seen.withLock { $0.append((path, entries?.isEmpty == true)) }
      // Leave something behind in every other folder: the next trial must not see it.
      if seen.withLock({ $0.count }) % 2 == 0 {
        _ = FileManager.default.createFile(atPath: path + "/left.txt", contents: Data("x".utf8))
      }
      return .json(#"{"output":"ok"}"#)
    }
    defer { Task { await server.shutdown() } }
    let box = Sandbox()
    box.write(
      "suite.yaml",
      """
      name: folders
      trials: 4
      concurrency: 1
      agent:
        http: { url: "\(server.baseURL)/agent" }
      tasks:
        - { id: a, input: hi }
        - { id: b, input: hi }
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let folders = seen.withLock { $0 }
    #expect(folders.count == 8)
    #expect(folders.allSatisfy { $0.empty }, "\(folders)")
    #expect(Set(folders.map(\.path)).count == 8)
    #expect(folders.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
  }

  /// An HTTP agent that never answers times out with a sentence about HTTP, not about process groups.
  @Test func anHTTPTimeoutSaysWhatHappened() async throws {
    let server = try await LoopbackServer { _ in .silence }
    defer { Task { await server.shutdown() } }
    let box = Sandbox()
    box.write(
      "suite.yaml",
      """
      name: silent
      timeout: 300ms
      agent:
        http: { url: "\(server.baseURL)/agent", retries: 0 }
      tasks: [{ id: a, input: hi }]
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-t", "--trials", "1"])
    #expect(out.code == 0, "\(out.stderr)")
    let trial = try #require(try ResultStore(path: box.db, create: false).trials(runID: "r-t").first)
    #expect(trial.status == .timeout && trial.error == "no answer within 300 ms", "\(trial.error ?? "")")
  }

  @Test func secretsInURLAndHeadersNeverReachTheDatabase() async throws {
    let secret = "tok-" + UUID().uuidString
    // A hostile server: echoes the credentials it got in the output, the steps and an error body.
    let calls = Mutex(0)
    let server = try await LoopbackServer { request in
      let auth = request.header("Authorization") ?? "none"
      let n = calls.withLock { n in
        n += 1
        return n
      }
      if n % 3 == 0 { return .respond(status: 400, body: Array("bad request from \(auth) at \(request.uri)".utf8)) }
      return .json(
        #"{"output":"you sent \#(auth) to \#(request.uri)","steps":[{"type":"tool_call","name":"echo","arguments":{"auth":"\#(auth)"}}]}"#
      )
    }
    defer { Task { await server.shutdown() } }
    let box = Sandbox()
    box.write(
      "suite.yaml",
      """
      name: secrets
      trials: 3
      agent:
        http:
          url: "\(server.baseURL)/agent?key=${TOKEN}"
          headers: { Authorization: "Bearer ${TOKEN}" }
      tasks:
        - { id: a, input: hi, expect: [{ contains: you sent }] }
        - { id: b, input: hi, expect: [{ contains: you sent }] }
      """)
    let out = try await box.evalh(
      ["run", "suite.yaml", "--db", box.db, "--run-id", "r-sec"], environment: ["TOKEN": secret])
    #expect(out.code == 0, "\(out.stderr)")
    #expect(!out.stdout.contains(secret) && !out.stderr.contains(secret))
    #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer \(secret)" })
    let queue = try DatabaseQueue(path: box.db)
    let (outputs, errors) = try await queue.read { db in
      (
        try String.fetchAll(
          db, sql: "SELECT output_json || coalesce(steps_json, '') FROM trials WHERE status = 'pass'"),
        try String.fetchAll(db, sql: "SELECT error FROM trials WHERE error_kind = 'transport'")
      )
    }
    #expect(
      !outputs.isEmpty
        && outputs.allSatisfy { $0.contains("Bearer [redacted:TOKEN]") && $0.contains("key=[redacted:TOKEN]") })
    #expect(
      !errors.isEmpty
        && errors.allSatisfy { $0.hasPrefix("HTTP 400 Bad Request: bad request from Bearer [redacted:TOKEN]") })
    for file in [box.db, box.db + "-wal"] where FileManager.default.fileExists(atPath: file) {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
      #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
    }
  }
}

@Suite struct UnreachableAgentTests {
  @Test func anAgentNeverReachedIsAnOperationalFailureNotAGreenNight() async throws {
    let box = Sandbox()
    box.write(
      "suite.yaml",
      """
      name: unreachable
      trials: 2
      agents:
        down: { http: { url: "http://127.0.0.1:1/evalh", retries: 0 } }
      tasks:
        - { id: t, input: x, expect: [{ equals: ok }] }
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"])
    #expect(out.code == 3, "\(out.stdout)\n\(out.stderr)")
    #expect(
      out.stderr.contains(
        "agent down could not be reached: all 2 trials ended in a transport error (first: connection failed"),
      "\(out.stderr)")
    #expect(out.stdout.contains("agent down"), "the summary is printed first")
  }

  @Test func maxErrorRateGatesTheShareOfErrorTrials() async throws {
    let box = Sandbox()
    // Half the tasks crash: 50% error trials.
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      [ "$EVALH_TASK_ID" = bad ] && exit 4
      echo '{"output": "ok"}'
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: errors
      trials: 2
      agent: { subprocess: { command: [./agent.sh] } }
      tasks:
        - { id: good, input: x, expect: [{ equals: ok }] }
        - { id: bad, input: x, expect: [{ equals: ok }] }
      """)
    let over = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress", "--max-error-rate", "0.4"])
    #expect(over.code == 1 && over.stderr.contains("50.0% of trials were errors or timeouts"), "\(over.stderr)")
    let under = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress", "--max-error-rate", "50%"])
    #expect(under.code == 0, "\(under.stderr)")
    let bad = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--max-error-rate", "1.5"])
    #expect(bad.code == 2)
  }
}
