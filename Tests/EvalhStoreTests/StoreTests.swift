import EvalhCore
import Foundation
import GRDB
import Testing

@testable import EvalhStore

final class TempDB: Sendable {
  let folder: String
  var path: String { folder + "/nested/results.sqlite" }
  init() { folder = NSTemporaryDirectory() + "evalh-store-" + UUID().uuidString }
  deinit { try? FileManager.default.removeItem(atPath: folder) }
}

func sampleRun(_ id: String = "r-1", suite: String = "s", started: Date = Date()) -> RunRecord {
  RunRecord(
    id: id, suite: suite, suitePath: "/x/s.yaml", suiteSHA256: String(repeating: "a", count: 64), label: "nightly",
    seed: 7, trials: 2, status: .running, startedAt: started, evalhVersion: "0.1.0", host: "h", gitCommit: nil,
    configJSON: "{}", plan: RunPlan(agents: ["a"], tasks: [.init(id: "t1", trials: 2), .init(id: "t2", trials: 2)]))
}

func sampleTrial(_ run: String = "r-1", task: String = "t1", trial: Int = 1, status: TrialStatus = .pass) -> TrialRecord
{
  TrialRecord(
    runID: run, agent: "a", taskID: task, trial: trial, status: status, efficacyPass: status == .pass,
    efficacyScore: status == .pass ? 1 : 0, violations: 0, latencyMs: 12.5, inputTokens: 10, outputTokens: nil,
    costUSD: nil, seed: 99, outputJSON: #""héllo \u0000""#, stderrTail: "log", stepsJSON: "[]",
    startedAt: Date(timeIntervalSince1970: 1_790_000_000.125), finishedAt: Date(timeIntervalSince1970: 1_790_000_001.5),
    grades: [
      Grade(kind: .expect, grader: "contains", passed: true),
      Grade(kind: .assure, grader: "no-pii", passed: false, detail: "email"),
    ])
}

@Suite struct StoreTests {
  /// The trials still to run are made one at a time, in the plan's order, without the recorded ones.
  @Test func pendingTrialsFollowThePlanLazily() {
    let plan = RunPlan(
      agents: ["a", "b"], tasks: [.init(id: "t1", trials: 3), .init(id: "t2", trials: 0), .init(id: "t3", trials: 2)])
    #expect(Array(plan.pending()) == plan.keys)
    #expect(plan.pending().count == 2 * (3 + 1 + 2))
    // Counted from the plan, without making the keys: the same number.
    #expect(plan.trialCount == plan.keys.count)
    #expect(RunPlan(agents: [], tasks: [.init(id: "t", trials: 2)]).trialCount == 0)
    let done: Set<TrialKey> = [
      TrialKey(agent: "a", taskID: "t1", trial: 2), TrialKey(agent: "b", taskID: "t3", trial: 2),
      TrialKey(agent: "c", taskID: "t1", trial: 1),  // another shard's: not in this plan
    ]
    let pending = plan.pending(excluding: done)
    #expect(Array(pending) == plan.keys.filter { !done.contains($0) })
    #expect(pending.count == 10)
    #expect(Array(RunPlan(agents: [], tasks: [.init(id: "t", trials: 2)]).pending()).isEmpty)
  }

  @Test func createsTheFileWithTheSpecSchema() throws {
    let db = TempDB()
    let store = try ResultStore(path: db.path, create: true)
    try store.createRun(sampleRun(), tasks: [TaskSpec(id: "t1", input: .string("hi"), tags: ["x"])])
    let queue = try DatabaseQueue(path: db.path)
    try queue.read { db in
      #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
      #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == Schema.version)
      let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(trials)").map { $0["name"] as String }
      for c in [
        "run_id", "agent", "task_id", "trial", "status", "error_kind", "error", "efficacy_pass", "efficacy_score",
        "violations", "latency_ms", "input_tokens", "output_tokens", "cost_usd", "attempts", "seed", "output_json",
        "stderr_tail", "steps_json", "truncated", "started_at", "finished_at",
      ] {
        #expect(columns.contains(c), "trials.\(c)")
      }
      let runColumns = try Row.fetchAll(db, sql: "PRAGMA table_info(runs)").map { $0["name"] as String }
      for c in [
        "id", "suite", "suite_path", "suite_sha256", "label", "seed", "trials", "status", "started_at",
        "finished_at", "evalh_version", "host", "git_commit", "config_json",
      ] {
        #expect(runColumns.contains(c), "runs.\(c)")
      }
      #expect(try String.fetchOne(db, sql: "SELECT tags FROM tasks") == #"["x"]"#)
    }
  }

  @Test func trialsRoundTripWithTheirGrades() throws {
    let db = TempDB()
    let store = try ResultStore(path: db.path, create: true)
    try store.createRun(sampleRun(), tasks: [])
    let trial = sampleTrial()
    try store.insertNow(trial)
    let back = try store.trials(runID: "r-1", taskID: "t1")
    #expect(back == [trial])
    #expect(try store.recordedKeys(runID: "r-1") == [TrialKey(agent: "a", taskID: "t1", trial: 1)])
    // The same triple twice is refused: a trial is recorded once.
    #expect(throws: StoreError.self) { try store.insertNow(trial) }
  }

  @Test func runReferences() throws {
    let db = TempDB()
    let store = try ResultStore(path: db.path, create: true)
    #expect(throws: StoreError.self) { try store.resolve("latest") }
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    try store.createRun(sampleRun("r-a", started: t0), tasks: [])
    try store.createRun(sampleRun("r-b", started: t0 + 10), tasks: [])
    try store.createRun(sampleRun("r-other", suite: "other", started: t0 + 5), tasks: [])
    #expect(try store.resolve("latest").id == "r-b")
    #expect(try store.resolve("latest~1").id == "r-a")
    #expect(try store.resolve("r-other").suite == "other")
    do {
      _ = try store.resolve("latest~2")
      Issue.record("latest~2 resolved")
    } catch {
      #expect(error.exitCode == 2)
      #expect(error.errorDescription?.contains("has only 2 run(s)") == true)
    }
    do {
      _ = try store.resolve("r-nope")
      Issue.record("unknown id resolved")
    } catch {
      #expect(error.errorDescription == "no run 'r-nope' in \(db.path)")
    }
    #expect(try store.runs().map(\.id) == ["r-b", "r-other", "r-a"])
    try store.updateRun("r-a", status: .interrupted, finishedAt: t0 + 1, stopReason: "signal")
    let a = try #require(try store.run(id: "r-a"))
    #expect(a.status == .interrupted && a.stopReason == "signal" && a.finishedAt == t0 + 1)
    #expect(a.plan.keys.count == 4)
  }

  @Test func readOnlyOpenOfAMissingFileIsRefused() {
    let db = TempDB()
    do {
      _ = try ResultStore(path: db.path, create: false)
      Issue.record("opened a missing database")
    } catch {
      #expect(error.exitCode == 2)
    }
    #expect(!FileManager.default.fileExists(atPath: db.path))
  }

  @Test func newerSchemaIsRefusedWithNothingWritten() throws {
    let db = TempDB()
    try FileManager.default.createDirectory(atPath: db.folder + "/nested", withIntermediateDirectories: true)
    try DatabaseQueue(path: db.path).write { try $0.execute(sql: "CREATE TABLE future(x); PRAGMA user_version = 99") }
    let before = try Data(contentsOf: URL(fileURLWithPath: db.path))
    do {
      _ = try ResultStore(path: db.path, create: true)
      Issue.record("opened a newer database")
    } catch {
      #expect(error.exitCode == 3)
      guard case .newerSchema(_, let version, _) = error else {
        Issue.record("\(error)")
        return
      }
      #expect(version == 99)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: db.path)) == before)
    #expect(!FileManager.default.fileExists(atPath: db.path + "-wal"))
  }

  @Test func olderFileIsUpgradedInPlace() throws {
    let db = TempDB()
    try FileManager.default.createDirectory(atPath: db.folder + "/nested", withIntermediateDirectories: true)
    // A version-0 file: someone's own table, no evalh tables yet.
    try DatabaseQueue(path: db.path).write {
      try $0.execute(sql: "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)")
    }
    let store = try ResultStore(path: db.path, create: false)
    try store.createRun(sampleRun(), tasks: [])
    let (version, note) = try DatabaseQueue(path: db.path).read { db in
      (try Int.fetchOne(db, sql: "PRAGMA user_version"), try Int.fetchOne(db, sql: "SELECT x FROM notes"))
    }
    #expect(version == Schema.version && note == 1)
    // Reopening does not migrate twice.
    _ = try ResultStore(path: db.path, create: false)
    #expect(try ResultStore(path: db.path, create: false).runs().count == 1)
  }

  @Test func versionOneFileIsUpgradedWithItsDataKept() throws {
    let db = TempDB()
    try FileManager.default.createDirectory(atPath: db.folder + "/nested", withIntermediateDirectories: true)
    // A file exactly as evalh's schema version 1 wrote it, with a run and a trial.
    try DatabaseQueue(path: db.path).write { db in
      try db.execute(sql: Schema.migrations[0].sql)
      try db.execute(sql: "PRAGMA user_version = 1")
      try db.execute(
        sql: """
          INSERT INTO runs(id, suite, suite_sha256, seed, trials, status, started_at, config_json)
          VALUES ('r-old', 's', 'x', 1, 1, 'completed', '2026-01-01T00:00:00.000Z', '{}');
          INSERT INTO trials(run_id, agent, task_id, trial, status, latency_ms, seed, started_at, finished_at)
          VALUES ('r-old', 'a', 't', 1, 'pass', 5, 9, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z');
          """)
    }
    let store = try ResultStore(path: db.path, create: false)
    let version = try DatabaseQueue(path: db.path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
    #expect(version == Schema.version && Schema.version >= 2)
    let old = try store.trials(runID: "r-old")
    #expect(old.count == 1 && old[0].status == .pass && old[0].workdir == nil)
    var kept = sampleTrial("r-old", task: "t2")
    kept.workdir = "/tmp/kept"
    try store.insertNow(kept)
    #expect(try store.trials(runID: "r-old", taskID: "t2").first?.workdir == "/tmp/kept")
  }

  /// A file exactly as schema version 4 wrote it, holding run `r-4` and `rows` (SQL inserts).
  func versionFourFile(_ db: TempDB, _ rows: String) throws {
    try FileManager.default.createDirectory(atPath: db.folder + "/nested", withIntermediateDirectories: true)
    try DatabaseQueue(path: db.path).write { db in
      for migration in Schema.migrations.prefix(4) { try db.execute(sql: migration.sql) }
      try db.execute(sql: "PRAGMA user_version = 4")
      try db.execute(
        sql: """
          INSERT INTO runs(id, suite, suite_sha256, seed, trials, status, started_at, config_json)
          VALUES ('r-4', 's', 'x', 1, 1, 'completed', '2026-01-01T00:00:00.000Z', '{}');
          \(rows)
          """)
    }
  }

  @Test func versionFourFileIsRebuiltWithTheConditionInTheKey() throws {
    let db = TempDB()
    try versionFourFile(
      db,
      """
      INSERT INTO trials(run_id, agent, task_id, trial, status, latency_ms, seed, started_at, finished_at,
        judge_cost_usd, assure_checks, workdir)
      VALUES ('r-4', 'a', 't', 1, 'fail', 5, 9, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 0.5, 1, '/w');
      INSERT INTO grades(run_id, agent, task_id, trial, kind, grader, passed, detail)
      VALUES ('r-4', 'a', 't', 1, 'expect', 'equals', 0, 'no'), ('r-4', 'a', 't', 1, 'assure', 'no_pii', 1, NULL);
      """)
    let store = try ResultStore(path: db.path, create: false)
    let (version, broken, key, index) = try DatabaseQueue(path: db.path).read { db in
      (
        try Int.fetchOne(db, sql: "PRAGMA user_version"), try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"),
        try Row.fetchAll(db, sql: "PRAGMA table_info(trials)").filter { ($0["pk"] as Int? ?? 0) > 0 }
          .sorted { ($0["pk"] as Int? ?? 0) < ($1["pk"] as Int? ?? 0) }.map { $0["name"] as String? ?? "" },
        try Row.fetchAll(db, sql: "PRAGMA index_info(grades_by_trial)").map { $0["name"] as String? ?? "" }
      )
    }
    #expect(version == Schema.version && broken.isEmpty)
    #expect(key == ["run_id", "agent", "condition", "task_id", "trial"])
    #expect(index == ["run_id", "agent", "condition", "task_id", "trial"])
    let old = try #require(try store.trials(runID: "r-4", taskID: "t").first)
    #expect(old.condition == "clean" && old.variant == nil && old.status == .fail && old.judgeCostUSD == 0.5)
    #expect(old.workdir == "/w" && old.grades.map(\.grader) == ["equals", "no_pii"] && old.grades[0].detail == "no")
    // The same trial under another condition is another trial now.
    var flaky = sampleTrial("r-4", task: "t", trial: 1)
    flaky.condition = "flaky"
    flaky.variant = 1
    try store.insertNow(flaky)
    #expect(try store.trials(runID: "r-4", taskID: "t").map(\.condition) == ["clean", "flaky"])
    #expect(try store.trials(runID: "r-4", condition: "flaky", taskID: "t").first?.grades.count == 2)
    #expect(
      try store.recordedKeys(runID: "r-4").contains(TrialKey(agent: "a", condition: "flaky", taskID: "t", trial: 1)))
  }

  @Test func versionFourFileGainsToolCallsAndKeepsItsTrials() throws {
    let db = TempDB()
    try versionFourFile(
      db,
      """
      INSERT INTO trials(run_id, agent, task_id, trial, status, latency_ms, seed, started_at, finished_at)
      VALUES ('r-4', 'a', 't', 1, 'pass', 5, 9, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z');
      """)
    let store = try ResultStore(path: db.path, create: false)
    let old = try store.trials(runID: "r-4", taskID: "t")
    #expect(old.count == 1 && old[0].toolCalls.isEmpty && old[0].phantomCalls == nil)
    var served = sampleTrial("r-4", task: "t2")
    served.phantomCalls = 1
    served.toolCalls = [
      ObservedCall(
        seq: 1, tool: "lookup", arguments: .object(["id": .string("1")]), result: .object(["ok": .bool(true)]),
        isError: false, latencyMs: 0.2, startedAt: Date(timeIntervalSince1970: 1_800_000_000)),
      ObservedCall(
        seq: 2, tool: "nope", arguments: .object([:]), result: .string("unknown"), isError: true,
        problem: .unknownTool, latencyMs: 0.1, startedAt: Date(timeIntervalSince1970: 1_800_000_001)),
    ]
    try store.insertNow(served)
    let back = try #require(try store.trials(runID: "r-4", taskID: "t2").first)
    #expect(back.toolCalls == served.toolCalls)
    #expect(back.phantomCalls == 1)
    let columns = try DatabaseQueue(path: db.path).read { db in
      try Row.fetchAll(db, sql: "PRAGMA table_info(tool_calls)").map { $0["name"] as String? ?? "" }
    }
    #expect(
      columns == [
        "run_id", "agent", "condition", "task_id", "trial", "seq", "tool", "arguments_json", "result_json", "is_error",
        "fault", "contract_ok", "problem", "latency_ms", "started_at",
      ])
    let use = try store.toolUse(runID: "r-4", writeTools: [])[AgentCondition(agent: "a")]
    #expect(use?.calls == 2 && use?.unknownTool == 1 && use?.phantomCalls == 1)
  }

  @Test func mergeCarriesEachShardsToolCallsOnce() throws {
    let target = TempDB()
    let shards = [TempDB(), TempDB()]
    for (i, shard) in shards.enumerated() {
      let store = try ResultStore(path: shard.path, create: true)
      try store.createRun(sampleRun("r-m"), tasks: [])
      var trial = sampleTrial("r-m", task: "t\(i)")
      trial.phantomCalls = i
      trial.toolCalls = (1...3).map { seq in
        ObservedCall(
          seq: seq, tool: "f", arguments: .object(["i": .number(Double(i))]), result: .string("ok"), isError: false,
          latencyMs: 0.1, startedAt: Date(timeIntervalSince1970: 1_800_000_000))
      }
      try store.insertNow(trial)
    }
    let into = try ResultStore(path: target.path, create: true)
    _ = try into.merge(from: shards.map(\.path))
    _ = try into.merge(from: shards.map(\.path))  // again: nothing doubles
    for i in 0..<2 {
      let trial = try #require(try into.trials(runID: "r-m", taskID: "t\(i)").first)
      #expect(trial.toolCalls.map(\.seq) == [1, 2, 3])
      #expect(trial.toolCalls.first?.arguments == .object(["i": .number(Double(i))]))
      #expect(trial.phantomCalls == i)
    }
  }

  @Test func mergeKeepsEachTrialsConditionVariantAndInput() throws {
    let target = TempDB()
    let shards = [TempDB(), TempDB()]
    for (i, shard) in shards.enumerated() {
      let store = try ResultStore(path: shard.path, create: true)
      var run = sampleRun("r-c")
      run.plan.conditions = ["clean", "flaky"]
      try store.createRun(run, tasks: [])
      for condition in ["clean", "flaky"] {
        var trial = sampleTrial("r-c", task: "t\(i)", status: condition == "clean" ? .pass : .fail)
        trial.condition = condition
        trial.variant = i
        trial.inputJSON = condition == "flaky" ? #""typo""# : nil
        trial.toolCalls = [
          ObservedCall(
            seq: 1, tool: "f", arguments: .object([:]), result: .string("503"), isError: true,
            fault: condition == "flaky" ? "unavailable" : nil, latencyMs: 0.1,
            startedAt: Date(timeIntervalSince1970: 1_800_000_000))
        ]
        try store.insertNow(trial)
      }
    }
    let into = try ResultStore(path: target.path, create: true)
    _ = try into.merge(from: shards.map(\.path))
    _ = try into.merge(from: shards.map(\.path))  // again: nothing doubles
    #expect(try into.run(id: "r-c")?.plan.conditions == ["clean", "flaky"])
    for i in 0..<2 {
      let trials = try into.trials(runID: "r-c", taskID: "t\(i)")
      #expect(trials.map(\.condition) == ["clean", "flaky"] && trials.map(\.status) == [.pass, .fail])
      #expect(trials.allSatisfy { $0.variant == i && $0.grades.count == 2 })
      #expect(trials.map(\.inputJSON) == [nil, #""typo""#])
      #expect(trials.map { $0.toolCalls.first?.fault } == [nil, "unavailable"])
    }
  }

  @Test func twoWritersOnOneFileBothSucceed() async throws {
    let db = TempDB()
    let first = try ResultStore(path: db.path, create: true)
    let second = try ResultStore(path: db.path, create: true)
    try first.createRun(sampleRun("r-1"), tasks: [])
    try second.createRun(sampleRun("r-2"), tasks: [])
    await withTaskGroup(of: Void.self) { group in
      for (store, run) in [(first, "r-1"), (second, "r-2")] {
        group.addTask {
          for i in 1...300 { try? await store.insert([sampleTrial(run, task: "t\(i)")]) }
        }
      }
    }
    let one = try first.recordedKeys(runID: "r-1")
    let two = try first.recordedKeys(runID: "r-2")
    #expect(one.count == 300 && two.count == 300)
  }

  @Test func timestampsRoundTrip() {
    let d = Date(timeIntervalSince1970: 1_790_000_000.25)
    #expect(Timestamp.format(d) == "2026-09-21T14:13:20.250Z")
    #expect(Timestamp.parse("2026-09-21T14:13:20.250Z") == d)
    #expect(Timestamp.parse("2026-09-21T14:13:20Z") == Date(timeIntervalSince1970: 1_790_000_000))
    #expect(Timestamp.parse("yesterday") == nil)
    // Milliseconds round rather than truncate: .123 must not print as .122.
    #expect(Timestamp.format(Date(timeIntervalSince1970: 1_790_000_000.123)) == "2026-09-21T14:13:20.123Z")
    #expect(Timestamp.format(Date(timeIntervalSince1970: 1_790_000_000.9996)) == "2026-09-21T14:13:21.000Z")
  }

  /// Reports fold an agent's stored trials without loading them: the fold reads what was written.
  @Test func tallyFoldsStoredTrialsWithChecksViolationsAndJudgeCost() throws {
    let db = TempDB()
    let store = try ResultStore(path: db.path, create: true)
    try store.createRun(sampleRun(), tasks: [])
    func trial(
      _ task: String, _ n: Int, _ status: TrialStatus, violated: Bool = false, kind: ErrorKind? = nil,
      judge: Double? = nil
    )
      -> TrialRecord
    {
      var t = sampleTrial(task: task, trial: n, status: status)
      t.errorKind = kind
      t.violations = violated ? 1 : 0
      t.judgeCostUSD = judge
      t.grades = [
        Grade(kind: .expect, grader: "contains", passed: status == .pass),
        Grade(kind: .assure, grader: "no-pii", passed: !violated, detail: violated ? "email" : nil),
        Grade(kind: .assure, grader: "max_steps", passed: true),
      ]
      return t
    }
    // Inserted out of order: the first run is trial 1 whatever the order of the rows.
    for t in [
      trial("t1", 2, .fail, violated: true, judge: 0.25), trial("t1", 1, .pass, judge: 0.5),
      trial("t2", 1, .fail, violated: true),
      trial("t2", 2, .error, kind: .grader), trial("t3", 1, .timeout),
    ] {
      try store.insertNow(t)
    }
    let (tally, byCheck) = try store.trialTally(runID: "r-1", agent: "a", slaLimitMs: nil)
    #expect(tally.recordedTrials == 5)
    #expect(byCheck.map(\.check) == ["no-pii"] && byCheck.map(\.count) == [2])
    let m = AgentMetrics(agent: "a", tally: tally, planned: [:], withIntervals: false)
    #expect(m.trials == 4)  // the grader error is recorded, not counted
    let success: Double = 0.5 / 3  // t1 1 of 2, t2 0 of 1, t3 0 of 1
    #expect(m.successRate == success)
    #expect(m.firstRunSuccess == 1.0 / 3)
    let adherence: Double = 6.0 / 8  // 2 checks on each of 4 counted trials, 2 violated
    #expect(m.policyAdherence == adherence)
    #expect(m.judgeCostUSD == 0.75)
    #expect(m.errors["grader"] == 1 && m.errors["timeout"] == 1)
    let (_, none) = try store.trialTally(runID: "r-1", agent: "a", slaLimitMs: nil, violationsByCheck: false)
    #expect(none.isEmpty)
  }
}
