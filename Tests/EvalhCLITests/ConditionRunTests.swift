import EvalhCore
import EvalhStore
import Foundation
import GRDB
import Testing

/// A run with conditions, end to end: the same faults for every agent on the same calls, again after
/// `--resume` and with the same `--seed`; the condition and the perturbed input as the agent gets them.
@Suite struct ConditionRunTests {
  /// Two agents (the same script) that call `ping` six times over plain JSON and answer with what
  /// they saw, the condition they were told and the input they got.
  func suite(_ box: Sandbox) -> String {
    box.write(
      "agent.py",
      """
      import json, os, sys, urllib.request, urllib.error
      request = json.load(sys.stdin)
      statuses = []
      for _ in range(6):
          call = urllib.request.Request(os.environ["EVALH_TOOLS_URL"] + "/ping", data=b"{}", method="POST")
          try:
              with urllib.request.urlopen(call, timeout=30) as answer:
                  statuses.append(answer.status)
          except urllib.error.HTTPError as error:
              statuses.append(error.code)
      print(json.dumps({"output": {"statuses": statuses, "condition": os.environ["EVALH_CONDITION"],
                                   "told": request["condition"], "input": request["task"]["input"]}}))
      """)
    box.write(
      "suite.yaml",
      """
      name: paired
      trials: 4
      timeout: 60s
      agents:
        a: { subprocess: { command: [python3, agent.py] } }
        b: { subprocess: { command: [python3, agent.py] } }
      tools:
        ping: { description: Ping., input_schema: { type: object }, respond: pong, annotations: { read_only: true } }
      conditions:
        clean: {}
        flaky: { faults: [{ kind: unavailable, rate: 0.4 }] }
        typos: { perturb: { typos: 0.3 } }
      tasks:
        - id: t
          input: "Please refund my damaged order quickly"
          variants: ["Refund the damaged order, please"]
          expect: [{ json: { path: "$.told", equals: clean } }]
      """)
    return box.path + "/suite.yaml"
  }

  /// Each (agent, condition, trial)'s faulted call numbers, from the database.
  func faults(_ db: String, run: String) throws -> [String: [Int]] {
    let queue = try DatabaseQueue(path: db)
    return try queue.read { db in
      var out: [String: [Int]] = [:]
      for row in try Row.fetchAll(
        db,
        sql: "SELECT agent, condition, trial, seq FROM tool_calls WHERE run_id = ? AND fault IS NOT NULL ORDER BY seq",
        arguments: [run])
      {
        out["\(row["agent"] as String)/\(row["condition"] as String)/\(row["trial"] as Int)", default: []].append(
          row["seq"])
      }
      return out
    }
  }

  @Test func everyAgentMeetsTheSameFaultsAgainAfterResumeAndWithTheSameSeed() async throws {
    let box = Sandbox()
    let path = suite(box)
    let first = try await box.evalh(["run", path, "--db", box.db, "--seed", "11", "--run-id", "r1", "--no-progress"])
    #expect(first.code == 0, "\(first.stderr)")
    let seen = try faults(box.db, run: "r1")
    #expect(!seen.isEmpty)
    for trial in 1...4 {
      #expect(seen["a/flaky/\(trial)"] == seen["b/flaky/\(trial)"], "trial \(trial)")
      // The pure plan decides them: what is stored is what it says.
      let plan = FaultPlan(condition: "flaky", rules: [FaultRule(kind: .unavailable, when: .rate(0.4))])
      let expected = (1...6).filter { plan.fault(runSeed: 11, task: "t", trial: trial, tool: "ping", call: $0) != nil }
      #expect((seen["a/flaky/\(trial)"] ?? []) == expected)
    }
    #expect(seen.keys.allSatisfy { $0.contains("/flaky/") })
    // What the agent got is what is recorded: a 503 for each faulted call.
    let store = try ResultStore(path: box.db, create: false)
    for t in try store.trials(runID: "r1", agent: "a", condition: "flaky") {
      let output = try parseJSON(t.outputJSON ?? "{}")
      let statuses = output["statuses"] as? [Int] ?? []
      #expect(statuses.indices.filter { statuses[$0] == 503 }.map { $0 + 1 } == seen["a/flaky/\(t.trial)"] ?? [])
      #expect(output["condition"] as? String == "flaky" && output["told"] as? String == "flaky")
    }

    // The same seed, another run: the same faults. Another seed: others.
    _ = try await box.evalh(["run", path, "--db", box.db, "--seed", "11", "--run-id", "r2", "--no-progress"])
    #expect(try faults(box.db, run: "r2") == seen)
    _ = try await box.evalh(["run", path, "--db", box.db, "--seed", "12", "--run-id", "r3", "--no-progress"])
    #expect(try faults(box.db, run: "r3") != seen)

    // Half of r1's trials lost (an interrupted run): --resume runs them again and they meet the same faults.
    let queue = try DatabaseQueue(path: box.db)
    try await queue.write { db in
      for table in ["tool_calls", "grades", "trials"] {
        try db.execute(sql: "DELETE FROM \(table) WHERE run_id = 'r1' AND agent = 'b' AND trial > 2")
      }
      try db.execute(sql: "UPDATE runs SET status = 'interrupted' WHERE id = 'r1'")
    }
    let resumed = try await box.evalh(["run", path, "--db", box.db, "--resume", "r1", "--no-progress"])
    #expect(resumed.code == 0, "\(resumed.stderr)")
    #expect(try faults(box.db, run: "r1") == seen)
    #expect(try store.run(id: "r1")?.plan.conditions == ["clean", "flaky", "typos"])
  }

  @Test func theInputIsAVariantThenPerturbedAndShowShowsBoth() async throws {
    let box = Sandbox()
    let path = suite(box)
    let out = try await box.evalh([
      "run", path, "--db", box.db, "--seed", "3", "--run-id", "r", "--condition", "typos", "--condition", "clean",
      "--agent", "a", "--no-progress",
    ])
    #expect(out.code == 0, "\(out.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.run(id: "r")?.plan.conditions == ["clean", "typos"])
    let trials = try store.trials(runID: "r")
    #expect(trials.count == 8)
    let task = "Please refund my damaged order quickly"
    let variant = "Refund the damaged order, please"
    for t in trials {
      let got = try parseJSON(t.outputJSON ?? "{}")["input"] as? String
      #expect(t.variant == (t.trial - 1) % 2)
      let chosen = t.variant == 0 ? task : variant
      if t.condition == "clean" {
        #expect(got == chosen)
        #expect(t.inputJSON == (t.variant == 0 ? nil : JSONValue.string(variant).compactText))
      } else {
        let perturbed = Perturbation(typos: 0.3).apply(
          to: .string(chosen), runSeed: 3, condition: "typos", task: "t", trial: t.trial)
        #expect(got == perturbed.stringValue && got != chosen)
        #expect(t.inputJSON == perturbed.compactText)
      }
    }
    let shown = try await box.evalh([
      "show", "r", "--db", box.db, "--task", "t", "--trial", "1", "--agent", "a", "--condition", "typos",
    ])
    #expect(shown.stdout.hasPrefix("a @ typos · t · trial 1"), "\(shown.stdout)")
    #expect(shown.stdout.contains("input:     \(task)   (the task's)"))
    #expect(shown.stdout.contains("received:  "))
    let unknown = try await box.evalh(["run", path, "--db", box.db, "--condition", "nope"])
    #expect(unknown.code == 2 && unknown.stderr.contains("has no condition 'nope' (conditions: clean, flaky, typos)"))
  }

  @Test func shardsOfARunWithConditionsMergeIntoTheWholeRun() async throws {
    let box = Sandbox()
    let path = suite(box)
    // A second task, so each of two shards holds one.
    let yaml = try String(contentsOfFile: path, encoding: .utf8)
    box.write(
      "suite.yaml", yaml + "\n  - { id: u, input: other, expect: [{ json: { path: \"$.told\", equals: clean } }] }\n")
    for i in 1...2 {
      let out = try await box.evalh([
        "run", path, "--db", box.path + "/shard\(i).sqlite", "--shard", "\(i)/2", "--run-id", "r-s", "--seed", "9",
        "--trials", "2", "--no-progress", "--allow-incomplete",
      ])
      #expect(out.code == 0, "\(out.stderr)")
    }
    let merged = try await box.evalh([
      "merge", "--into", box.db, box.path + "/shard1.sqlite", box.path + "/shard2.sqlite",
    ])
    #expect(merged.code == 0, "\(merged.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let run = try #require(try store.run(id: "r-s"))
    #expect(run.status == .completed && run.plan.conditions == ["clean", "flaky", "typos"])
    let trials = try store.trials(runID: "r-s")
    // 2 agents × 3 conditions × 2 tasks × 2 trials.
    #expect(trials.count == 24)
    #expect(Set(trials.map(\.condition)) == ["clean", "flaky", "typos"])
    let report = try await box.evalh(["report", "r-s", "--db", box.db])
    #expect(report.stdout.contains("agent b @ typos") && report.stdout.contains("robustness of agent a"))
  }
}
