import EvalhStore
import Foundation
import GRDB
import Testing

let pythonAvailable =
  FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
  || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
    FileManager.default.isExecutableFile(atPath: "\($0)/python3")
  }

@Suite struct ExampleTests {
  /// The README's Python agent really speaks evalh/1.
  @Test(.enabled(if: pythonAvailable)) func readmePythonAgent() async throws {
    let box = Sandbox()
    let out = try await box.evalh([
      "run", packageRoot + "/suites/python-agent.yaml", "--db", box.db, "--seed", "4", "--json", "--no-progress",
    ])
    #expect(out.code == 0, "\(out.stderr)")
    let agents = try #require(try parseJSON(out.stdout)["agents"] as? [[String: Any]])
    #expect((agents.first?["trials"] as? Int) == 16)
    let errors = try #require((agents.first?["metrics"] as? [String: Any])?["errors"] as? [String: Int])
    #expect(errors.values.allSatisfy { $0 == 0 }, "\(errors)")
  }

  /// `make run`'s suite against the bundled agent: every outcome kind the example promises appears.
  @Test func exampleSuiteShowsACliff() async throws {
    let box = Sandbox()
    let out = try await box.evalh([
      "run", packageRoot + "/suites/example.yaml", "--db", box.db, "--seed", "42", "--json", "--no-progress",
      "--concurrency", "8",
    ])
    #expect(out.code == 0, "\(out.stderr)")
    let agents = try #require(try parseJSON(out.stdout)["agents"] as? [[String: Any]])
    #expect(agents.count == 2)
    for agent in agents {
      let m = try #require(agent["metrics"] as? [String: Any])
      let first = try #require(m["first_run_success"] as? Double)
      let sustained = try #require(m["sustained_success"] as? Double)
      #expect(sustained < first, "sustained success must fall below first-run success")
      #expect((agent["flaky_tasks"] as? [String])?.isEmpty == false)
    }
    let small = try #require(agents.first { $0["agent"] as? String == "small" })
    let errors = try #require((small["metrics"] as? [String: Any])?["errors"] as? [String: Int])
    #expect(errors["timeout"] == 1 && errors["agent_exit"] == 1 && errors["grader"] == 0)
    #expect(((small["metrics"] as? [String: Any])?["violations"] as? Int ?? 0) > 0)
  }

  /// The second example: fixtures, state-checking command graders, tool_called, tool_schemas.
  @Test func refundsDeskSuite() async throws {
    let box = Sandbox()
    let suite = packageRoot + "/suites/refunds-desk.yaml"
    #expect(try await box.evalh(["validate", suite]).stdout == "ok: 5 tasks × 1 agents\n")
    let out = try await box.evalh(["run", suite, "--db", box.db, "--seed", "3", "--run-id", "r-desk", "--no-progress"])
    #expect(out.code == 0, "\(out.stderr)")
    let queue = try DatabaseQueue(path: box.db)
    let graderErrors = try await queue.read {
      try Int.fetchOne($0, sql: "SELECT count(*) FROM trials WHERE error_kind = 'grader'")
    }
    #expect(graderErrors == 0)
    // The tool contract and the state checks both catch the agent's mistakes, with details.
    let contract = try await queue.read {
      try String.fetchAll($0, sql: "SELECT DISTINCT detail FROM grades WHERE grader = 'tool_schemas' AND passed = 0")
    }
    #expect(contract.contains { $0.contains("arguments.amount 650 is greater than the maximum 500") })
    let state = try await queue.read {
      try Int.fetchOne(
        $0, sql: "SELECT count(*) FROM grades WHERE grader IN ('refund-recorded', 'no-refund-written') AND passed = 0")
    }
    #expect((state ?? 0) > 0)
    let passes = try await queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM trials WHERE status = 'pass'") }
    #expect((passes ?? 0) > 20)
  }
}
