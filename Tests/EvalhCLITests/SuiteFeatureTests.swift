import EvalhStore
import Foundation
import GRDB
import Testing

@Suite struct SuiteFeatureTests {
  @Test func fixturesAreFreshPerTrialAndCommandGradersSeeTheState() async throws {
    let box = Sandbox()
    try FileManager.default.createDirectory(atPath: box.path + "/fixtures/shop", withIntermediateDirectories: true)
    box.write("fixtures/shop/stock.txt", "widget 3\n")
    // The agent sells one widget: it appends a sale to the fixture's file in its working folder.
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      echo "sold 1" >> "$EVALH_WORKDIR/stock.txt"
      echo '{"output":"sold","steps":[{"type":"tool_call","name":"sell","arguments":{"sku":"widget"}}]}'
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: shop
      agent: { subprocess: { command: [./agent.sh] } }
      tasks:
        - id: sell
          input: sell a widget
          fixture: fixtures/shop
          expect:
            - tool_called: { name: sell, arguments: { sku: widget } }
            # A fresh copy per trial: exactly one sale on top of the fixture, whatever trial this is.
            - command: [sh, -c, 'test "$(cat "$EVALH_WORKDIR/stock.txt")" = "$(printf "widget 3\\nsold 1")"']
              name: stock-updated-once
      """)
    let out = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--trials", "4", "--json", "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: try store.resolve("latest").id)
    #expect(trials.count == 4)
    #expect(trials.allSatisfy { $0.status == .pass }, "\(trials.map(\.error))")
    // The fixture itself is untouched.
    #expect(try String(contentsOfFile: box.path + "/fixtures/shop/stock.txt", encoding: .utf8) == "widget 3\n")
  }

  @Test func secretsNeverReachTheDatabaseOrTheOutput() async throws {
    let box = Sandbox()
    let secret = "s3cr3t-token-8f2a"
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      echo "authenticating with $TOKEN" >&2
      if [ "$EVALH_TASK_ID" = crash ]; then echo "fatal: bad token $TOKEN" >&2; exit 1; fi
      echo "{\\"output\\":\\"your token is $TOKEN\\",\\"steps\\":[{\\"type\\":\\"tool_call\\",\\"name\\":\\"auth\\",\\"arguments\\":{\\"key\\":\\"$TOKEN\\"}}],\\"error\\":null}"
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: secrets
      agent: { subprocess: { command: [./agent.sh], env: { TOKEN: "${API_TOKEN}" } } }
      tasks:
        - id: echo
          input: "use ${API_TOKEN} please"
          expect: [{ contains: "nothing" }]
        - id: crash
          input: x
      """)
    let env = ["API_TOKEN": secret]
    let run = try await box.evalh(
      ["run", "suite.yaml", "--db", box.db, "--trials", "2", "--run-id", "r-s", "--no-progress"], environment: env)
    #expect(run.code == 0, "\(run.stderr)")
    let json = try await box.evalh(["report", "r-s", "--format", "json", "--db", box.db])
    let show = try await box.evalh(["show", "r-s", "--task", "echo", "--db", box.db])
    let crash = try await box.evalh(["show", "r-s", "--task", "crash", "--db", box.db])
    #expect(show.stdout.contains("your token is [redacted:API_TOKEN]"))
    #expect(show.stdout.contains(#""key": "[redacted:API_TOKEN]""#))
    #expect(show.stdout.contains("authenticating with [redacted:API_TOKEN]"))
    #expect(show.stdout.contains("output does not contain 'nothing'"))
    #expect(crash.stdout.contains("fatal: bad token [redacted:API_TOKEN]"))
    for text in [run.stdout, run.stderr, json.stdout, show.stdout, crash.stdout] {
      #expect(!text.contains(secret))
    }
    // Not in the file, nor in its write-ahead log (read while a connection keeps the WAL).
    let queue = try DatabaseQueue(path: box.db)
    let inputs = try await queue.read { try String.fetchAll($0, sql: "SELECT input_json FROM tasks") }
    #expect(inputs.contains(#""use [redacted:API_TOKEN] please""#))
    let config = try await queue.read { try String.fetchOne($0, sql: "SELECT config_json FROM runs") } ?? ""
    #expect(config.contains("${API_TOKEN}"))
    for file in [box.db, box.db + "-wal"] where FileManager.default.fileExists(atPath: file) {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
      #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
    }
  }

  @Test func spendGuardStopsAndResumeContinuesWithANewBudget() async throws {
    let box = Sandbox()
    box.write(
      "agent.sh",
      "#!/bin/sh\ncat > /dev/null\necho '{\"output\":\"ok\",\"usage\":{\"cost_usd\":0.01}}'\n", executable: true)
    var yaml = "name: spend\nconcurrency: 1\nagent: { subprocess: { command: [./agent.sh] } }\ntasks:\n"
    for i in 1...10 { yaml += "  - { id: t\(i), input: x }\n" }
    box.write("suite.yaml", yaml)
    let first = try await box.evalh([
      "run", "suite.yaml", "--db", box.db, "--trials", "2", "--run-id", "r-m", "--max-cost", "0.05", "--no-progress",
    ])
    #expect(first.code == 0)
    #expect(
      first.stderr.contains(
        "spend guard: recorded cost $0.0500 reached --max-cost; run r-m stopped and is resumable with"))
    #expect(first.stdout.contains("spend guard: recorded cost $0.0500 reached --max-cost $0.0500"))
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.recordedKeys(runID: "r-m").count == 5)
    #expect(try store.run(id: "r-m")?.status == .interrupted)
    let second = try await box.evalh([
      "run", "suite.yaml", "--db", box.db, "--resume", "r-m", "--max-cost", "0.1", "--no-progress",
    ])
    #expect(second.code == 0)
    #expect(try store.recordedKeys(runID: "r-m").count == 10)
    let third = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--resume", "r-m", "--no-progress"])
    #expect(third.code == 0)
    #expect(try store.recordedKeys(runID: "r-m").count == 20)
    #expect(try store.run(id: "r-m")?.status == .completed)
  }
}
