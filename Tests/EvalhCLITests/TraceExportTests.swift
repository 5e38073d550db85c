import Foundation
import Testing

/// OTLP traces, received by a server that decodes them with the official opentelemetry-proto
/// definitions: `export --otlp` (protobuf and JSON) and `run --otlp` (live).
@Suite struct TraceExportTests {
  /// A receiver on a free port, answering `status`; what it decoded is appended to `out`. Ended with
  /// SIGKILL: the test process may ignore SIGTERM, and a child inherits that.
  /// An `otlp_receiver.py` answering `statuses` in turn (the last one from then on; 0 never answers).
  func receiver(_ box: Sandbox, statuses: String = "200") async throws -> (Process, url: String, out: String) {
    let portFile = box.path + "/port-\(UUID().uuidString)"
    let out = box.path + "/received-\(UUID().uuidString).jsonl"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pythonWithMCP)
    process.arguments = [packageRoot + "/Tests/Clients/otlp_receiver.py", portFile, out, statuses]
    // Not the test's own output: swift test waits for every holder of its pipe to close it.
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    for _ in 0..<200 where (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap({ Int($0) }) == nil {
      try await Task.sleep(for: .milliseconds(50))
    }
    let port = try #require((try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) })
    return (process, "http://127.0.0.1:\(port)", out)
  }

  /// Every span the receiver decoded, with its resource's attributes.
  func spans(_ out: String) throws -> (spans: [[String: Any]], requests: [[String: Any]]) {
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    let requests = try lines.map { try parseJSON(String($0)) }
    return (try lines.flatMap { try spans(line: String($0)) }, requests)
  }

  /// The spans of one request the receiver wrote down.
  func spans(line: String) throws -> [[String: Any]] {
    var spans: [[String: Any]] = []
    for rs in ((try parseJSON(line)["request"] as? [String: Any])?["resource_spans"] as? [[String: Any]]) ?? [] {
      for ss in (rs["scope_spans"] as? [[String: Any]]) ?? [] { spans += (ss["spans"] as? [[String: Any]]) ?? [] }
    }
    return spans
  }

  func attributes(_ span: [String: Any]) -> [String: Any] {
    var out: [String: Any] = [:]
    for a in (span["attributes"] as? [[String: Any]]) ?? [] {
      let value = a["value"] as? [String: Any] ?? [:]
      out[a["key"] as? String ?? ""] = value.values.first
    }
    return out
  }

  /// A run of the tool suite's probe agent: calls, grades, a secret in an argument.
  func recordedRun(_ box: Sandbox) async throws {
    _ = probeSuite(
      box, calls: "[{tool: lookup, arguments: {sku: widget}}, {tool: echo, arguments: {note: \"${TOKEN}\"}}]", trials: 2
    )
    let out = try await box.evalh(
      ["run", "suite.yaml", "--db", box.db, "--run-id", "r-otel", "--seed", "5", "--no-progress"],
      environment: ["TOKEN": "sk-secret-123"])
    #expect(out.code == 0, "\(out.stderr)")
  }

  @Test(arguments: [false, true])
  func exportSendsOneTracePerTrialThatTheOfficialDefinitionsDecode(json: Bool) async throws {
    let box = Sandbox()
    try await recordedRun(box)
    let (process, url, out) = try await receiver(box)
    defer { kill(process.processIdentifier, SIGKILL) }
    var arguments = ["export", "r-otel", "--db", box.db, "--otlp", url]
    if json { arguments.append("--otlp-json") }
    let sent = try await box.evalh(arguments, environment: ["OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=evalh%20tests"])
    #expect(sent.code == 0 && sent.stderr.contains("sent 2 trials' traces"), "\(sent.stderr)")
    let (spans, requests) = try spans(out)
    #expect(requests.first?["path"] as? String == "/v1/traces")
    #expect(requests.first?["content_type"] as? String == (json ? "application/json" : "application/x-protobuf"))
    #expect((requests.first?["headers"] as? [String: String])?["x-tenant"] == "evalh tests")
    let trials = spans.filter { attributes($0)["gen_ai.operation.name"] as? String == "invoke_agent" }
    #expect(trials.count == 2)
    let tools = spans.filter { attributes($0)["gen_ai.operation.name"] as? String == "execute_tool" }
    #expect(tools.count == 4)
    let trial = try #require(trials.first { attributes($0)["evalh.trial"] as? String == "1" })
    let a = attributes(trial)
    #expect(a["gen_ai.agent.name"] as? String == "default" && a["evalh.run_id"] as? String == "r-otel")
    #expect(a["evalh.task_id"] as? String == "t" && a["evalh.condition"] as? String == "clean")
    #expect(a["evalh.status"] as? String == "pass" && a["evalh.seed"] != nil)
    #expect(trial["kind"] as? String == "SPAN_KIND_CLIENT" && trial["parent_span_id"] == nil)
    let verdict = (trial["events"] as? [[String: Any]])?.first
    #expect(verdict?["name"] as? String == "gen_ai.evaluation.result")
    #expect(attributes(verdict ?? [:])["gen_ai.evaluation.score.label"] as? String == "pass")
    // Children: the calls in order under the trial, then the grades.
    let children = spans.filter {
      $0["trace_id"] as? String == trial["trace_id"] as? String && $0["parent_span_id"] != nil
    }
    #expect(children.allSatisfy { $0["parent_span_id"] as? String == trial["span_id"] as? String })
    #expect(
      children.map { $0["name"] as? String ?? "" }.filter { $0.hasPrefix("execute_tool") } == [
        "execute_tool lookup", "execute_tool echo",
      ])
    #expect(children.contains { ($0["name"] as? String ?? "").hasPrefix("grade ") })
    // Secrets stay redacted, here as everywhere.
    #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("sk-secret-123"))

    // Exported again: the same trace and span ids, so a receiver deduplicates.
    _ = try await box.evalh(arguments)
    let again = try self.spans(out).spans
    #expect(Set(again.compactMap { $0["span_id"] as? String }) == Set(spans.compactMap { $0["span_id"] as? String }))
    #expect(again.count == 2 * spans.count)
  }

  @Test func runSendsTracesLiveAndAReceiverThatRefusesIsNamed() async throws {
    let box = Sandbox()
    let (process, url, out) = try await receiver(box)
    defer { kill(process.processIdentifier, SIGKILL) }
    _ = probeSuite(box, calls: "[{tool: lookup, arguments: {sku: widget}}]", trials: 3)
    let run = try await box.evalh(
      [
        "run", "suite.yaml", "--db", box.db, "--otlp", "env", "--no-progress",
      ], environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": url])
    #expect(run.code == 0, "\(run.stderr)")
    #expect(try spans(out).spans.filter { ($0["name"] as? String ?? "").hasPrefix("invoke_agent") }.count == 3)

    let (refusing, refusingURL, _) = try await receiver(box, statuses: "503")
    defer { kill(refusing.processIdentifier, SIGKILL) }
    let refused = try await box.evalh(["export", "latest", "--db", box.db, "--otlp", refusingURL])
    #expect(refused.code == 3 && refused.stderr.contains("answered 503"), "\(refused.stderr)")
    #expect(refused.stderr.contains("(0 trials' traces were sent, then sending stopped"), "\(refused.stderr)")
    let noURL = try await box.evalh(["export", "latest", "--db", box.db, "--otlp", "env"])
    #expect(noURL.code == 2 && noURL.stderr.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "\(noURL.stderr)")
    let badTimeout = try await box.evalh(
      ["export", "latest", "--db", box.db, "--otlp", url], environment: ["OTEL_EXPORTER_OTLP_TIMEOUT": "10s"])
    #expect(
      badTimeout.code == 2 && badTimeout.stderr.contains("OTEL_EXPORTER_OTLP_TIMEOUT=10s"), "\(badTimeout.stderr)")
  }

  /// A receiver that refuses, or takes a batch and never answers, is given one batch (a refusal
  /// tried three times, as the OTLP specification's retryable statuses are): the run goes on
  /// without a timeout per batch, says how many trials' traces went, and export sends them later.
  /// A receiver busy once (503, then 200) gets every trial.
  @Test(arguments: ["503", "0", "503,200"]) func aFailingReceiverEndsTheSendingAfterOneBatch(_ statuses: String)
    async throws
  {
    let box = Sandbox()
    let (process, url, out) = try await receiver(box, statuses: statuses)
    defer { kill(process.processIdentifier, SIGKILL) }
    box.write(
      "suite.yaml",
      """
      name: many
      agent: { subprocess: { command: [sh, -c, "cat > /dev/null; echo '{\\"output\\": \\"ok\\"}'"] } }
      tasks: [{ id: a, input: x }]
      """)
    let run = try await box.evalh(
      ["run", "suite.yaml", "--db", box.db, "--trials", "200", "--no-progress", "--otlp", url],
      environment: ["OTEL_EXPORTER_OTLP_TIMEOUT": "500"])
    #expect(run.code == 0, "\(run.stderr)")
    // The receiver writes each request down before it answers (or does not).
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    let batches = try lines.map { line in
      Set(
        try self.spans(line: String(line)).filter { ($0["name"] as? String ?? "").hasPrefix("invoke_agent") }
          .compactMap { $0["trace_id"] as? String })
    }
    if statuses == "503,200" {
      #expect(!run.stderr.contains("traces:"), "\(run.stderr)")
      #expect(
        batches.count >= 3 && batches[0].count == 64 && batches[1] == batches[0], "the busy answer, then the same batch"
      )
      #expect(batches.dropFirst().reduce(Set()) { $0.union($1) }.count == 200)
      return
    }
    #expect(run.stderr.contains(statuses == "0" ? "did not answer within 500 ms" : "answered 503"), "\(run.stderr)")
    #expect(run.stderr.contains("0 trials' traces were sent, then sending stopped"), "\(run.stderr)")
    // One batch of 64 (sent three times when refused), not one per batch.
    #expect(batches.count == (statuses == "0" ? 1 : 3) && batches.allSatisfy { $0 == batches[0] && $0.count == 64 })
    let (good, goodURL, _) = try await receiver(box)
    defer { kill(good.processIdentifier, SIGKILL) }
    let resent = try await box.evalh(["export", "latest", "--db", box.db, "--otlp", goodURL])
    #expect(resent.code == 0 && resent.stderr.contains("sent 200 trials' traces"), "\(resent.stderr)")
  }
}

/// Arize Phoenix (`make pyenv` installs it), a receiver nobody here wrote, shows evalh's trials.
@Suite struct PhoenixTraceTests {
  @Test func phoenixReceivesEachTrialWithItsToolCalls() async throws {
    let box = Sandbox()
    let port = 21_000 + Int.random(in: 0..<9_000)
    let phoenix = Process()
    phoenix.executableURL = URL(fileURLWithPath: packageRoot + "/.build/phoenix/bin/phoenix")
    phoenix.arguments = ["serve"]
    var environment = ProcessInfo.processInfo.environment
    environment["PHOENIX_WORKING_DIR"] = box.path + "/phoenix"
    environment["PHOENIX_HOST"] = "127.0.0.1"
    environment["PHOENIX_PORT"] = String(port)
    environment["PHOENIX_GRPC_PORT"] = String(port + 10_000)
    phoenix.environment = environment
    phoenix.standardOutput = FileHandle.nullDevice
    phoenix.standardError = FileHandle.nullDevice
    try phoenix.run()
    defer { kill(phoenix.processIdentifier, SIGKILL) }
    let base = "http://127.0.0.1:\(port)"
    func get(_ path: String) async -> String? {
      let result = await runTool(["curl", "-sf", "--max-time", "5", base + path])
      return result.code == 0 ? result.stdout : nil
    }
    var up = false
    for _ in 0..<240 {
      if await get("/healthz") != nil {
        up = true
        break
      }
      try await Task.sleep(for: .milliseconds(500))
    }
    try #require(up, "Phoenix did not start within 2 minutes")

    _ = probeSuite(box, calls: "[{tool: lookup, arguments: {sku: widget}}]", trials: 2)
    let run = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-phx", "--no-progress"])
    #expect(run.code == 0, "\(run.stderr)")
    let sent = try await box.evalh(["export", "r-phx", "--db", box.db, "--otlp", base])
    #expect(sent.code == 0, "\(sent.stderr)")
    var spans: [[String: Any]] = []
    for _ in 0..<60 {
      let page = await get("/v1/projects/default/spans?limit=100") ?? "{}"
      spans = ((try? parseJSON(page))?["data"] as? [[String: Any]]) ?? []
      if spans.count >= 2 + 2 * 1 + 2 * 2 { break }
      try await Task.sleep(for: .milliseconds(500))
    }
    let trials = spans.filter { ($0["name"] as? String ?? "").hasPrefix("invoke_agent") }
    #expect(trials.count == 2, "\(spans.map { $0["name"] ?? "" })")
    let attributes = trials.first?["attributes"] as? [String: Any] ?? [:]
    #expect(attributes["evalh.run_id"] as? String == "r-phx" && attributes["evalh.task_id"] as? String == "t")
    // Phoenix reads the GenAI conventions: a tool call is one of its TOOL spans, under its trial.
    let tool = spans.first { ($0["name"] as? String) == "execute_tool lookup" }
    #expect(tool?["span_kind"] as? String == "TOOL", "\(tool ?? [:])")
    let trialIDs = Set(trials.compactMap { ($0["context"] as? [String: Any])?["span_id"] as? String })
    #expect(trialIDs.contains(tool?["parent_id"] as? String ?? ""))
  }
}
