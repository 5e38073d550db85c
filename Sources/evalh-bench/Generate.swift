import EvalhCore
import EvalhStore
import Foundation
import GRDB

/// Writes a large synthetic run straight into a database: the shape `evalh run` records
/// (trials with one expect grade and one assure grade each), made in seconds rather than hours.
enum Generate {
  /// A run of `agents` × `tasks` × `trials`; task i passes with a probability that varies by task,
  /// `shift` lowers it (a regressed candidate for `compare`).
  static func run(
    id: String, into path: String, agents: [String], tasks: Int, trials: Int, seed: UInt64, shift: Double = 0
  ) throws {
    let store = try ResultStore(path: path, create: true)
    let taskIDs = (0..<tasks).map { String(format: "task-%05d", $0) }
    let config: JSONValue = .object([
      "name": .string("bench"), "trials": .number(Double(trials)),
      "slo": .object(["latency": .string("2s"), "cost": .number(0.01)]),
    ])
    let run = RunRecord(
      id: id, suite: "bench", suitePath: nil, suiteSHA256: String(repeating: "0", count: 64), label: nil,
      seed: Int64(seed), trials: trials, status: .completed, startedAt: Date(), finishedAt: Date(),
      evalhVersion: "bench", host: nil, gitCommit: nil, configJSON: config.compactText,
      plan: RunPlan(agents: agents, tasks: taskIDs.map { .init(id: $0, trials: trials) }))
    try store.createRun(
      run,
      tasks: taskIDs.map {
        TaskSpec(
          id: $0, input: .string("question \($0)"), tags: ["bench"], metadata: [:], trials: nil, timeout: nil,
          expect: [],
          assure: [])
      })

    let queue = try DatabaseQueue(path: path)
    var rng = SplitMix64(seed: seed)
    let started = Timestamp.format(Date())
    for agent in agents {
      // One transaction per agent: a few hundred thousand rows each.
      try queue.write { db in
        let trial = try db.makeStatement(
          sql: """
            INSERT INTO trials(run_id, agent, task_id, trial, status, error_kind, error, efficacy_pass, efficacy_score,
              violations, latency_ms, input_tokens, output_tokens, cost_usd, attempts, seed, output_json, started_at,
              finished_at, assure_checks)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
            """)
        let grade = try db.makeStatement(
          sql:
            "INSERT INTO grades(run_id, agent, task_id, trial, kind, grader, passed, score, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for (index, task) in taskIDs.enumerated() {
          let reliability = max(0, min(1, 0.35 + 0.65 * Double((index * 7919) % tasks) / Double(tasks) - shift))
          for n in 1...trials {
            let roll = rng.nextDouble()
            let status: TrialStatus =
              roll < 0.004 ? .timeout : roll < 0.01 ? .error : rng.nextDouble() < reliability ? .pass : .fail
            let violated = status == .fail && rng.nextDouble() < 0.2
            let passed = status == .pass
            let latency = 200 + 1800 * rng.nextDouble() * rng.nextDouble()
            let input = 400 + Int(rng.nextDouble() * 400)
            let output = 20 + Int(rng.nextDouble() * 200)
            try trial.execute(arguments: [
              id, agent, task, n, status.rawValue, status == .error ? "agent_exit" : nil,
              status == .error ? "exit status 1" : nil, status == .pass || status == .fail ? passed : nil,
              status == .pass ? 1.0 : 0.0, violated ? 1 : 0, status == .timeout ? 5000 : latency, input, output,
              Double(input) * 0.15e-6 + Double(output) * 0.6e-6, Int64(rng.next() >> 33),
              passed ? #""Order 1234 shipped on 2026-11-18.""# : #""I could not find that order.""#, started, started,
              status == .pass || status == .fail ? 1 : 0,
            ])
            guard status == .pass || status == .fail else { continue }
            try grade.execute(arguments: [id, agent, task, n, "expect", "contains", passed, passed ? 1.0 : 0.0, nil])
            try grade.execute(arguments: [
              id, agent, task, n, "assure", "no_pii", !violated, nil, violated ? "email in the output" : nil,
            ])
          }
        }
      }
    }
  }
}

extension SplitMix64 {
  mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
