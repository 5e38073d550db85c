import EvalhCore
import EvalhStore
import Foundation
import FoundationXML
import GRDB
import Testing

extension Sandbox {
  /// Ten tasks; the agent passes a task when its seed falls under the task's pass rate (in percent).
  /// With DEGRADE=1 four reliable tasks drop to 20%.
  func probabilisticSuite(trials: Int = 16) -> String {
    write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      case "$EVALH_TASK_ID" in
        t0|t1|t2|t3) p=100; [ -n "$DEGRADE" ] && p=20 ;;
        t4|t5) p=90 ;;
        t6|t7) p=70 ;;
        *) p=100 ;;
      esac
      if [ $((EVALH_SEED % 100)) -lt $p ]; then echo '{"output":"ok"}'; else echo '{"output":"wrong"}'; fi
      """, executable: true)
    var yaml =
      "name: prob\ntrials: \(trials)\nconcurrency: 4\nagent: { subprocess: { command: [./agent.sh] } }\ntasks:\n"
    for i in 0..<10 { yaml += "  - { id: t\(i), input: x, expect: [{ equals: ok }] }\n" }
    write("suite.yaml", yaml)
    return path + "/suite.yaml"
  }
}

@Suite struct CompareMergeTests {
  @Test func compareIsQuietOnARerunAndCatchesADegradation() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite()
    for (id, seed, label) in [("r-base", "11", "nightly"), ("r-rerun", "12", "nightly")] {
      #expect(
        try await box.evalh([
          "run", suite, "--db", box.db, "--run-id", id, "--seed", seed, "--label", label, "--no-progress",
        ]).code == 0)
    }
    let quiet = try await box.evalh(["compare", "r-base", "label:nightly", "--db", box.db])
    #expect(quiet.code == 0, "\(quiet.stdout)")
    #expect(quiet.stdout.contains("compare r-base → r-rerun") && quiet.stdout.contains("verdict: no regression"))

    let degraded = try await box.evalh(
      ["run", suite, "--db", box.db, "--run-id", "r-bad", "--seed", "13", "--no-progress"],
      environment: ["DEGRADE": "1"])
    #expect(degraded.code == 0)
    let caught = try await box.evalh(["compare", "r-base", "r-bad", "--db", box.db])
    #expect(caught.code == 1)
    #expect(caught.stdout.contains("REGRESSED"))
    #expect(caught.stdout.contains("regressed tasks (Fisher exact, Holm at α = 0.05)"))
    for task in ["t0", "t1", "t2", "t3"] { #expect(caught.stdout.contains("    \(task)  16/16 → "), "\(task) named") }
    // Every format, the same verdict.
    let json = try parseJSON(
      try await box.evalh(["compare", "r-base", "r-bad", "--format", "json", "--db", box.db]).stdout)
    #expect(json["regressed"] as? Bool == true)
    let agent = try #require((json["agents"] as? [[String: Any]])?.first)
    #expect(
      Set((agent["regressed_tasks"] as? [[String: Any]])?.compactMap { $0["task_id"] as? String } ?? []) == [
        "t0", "t1", "t2", "t3",
      ])
    let md = try await box.evalh(["compare", "r-base", "r-bad", "--format", "markdown", "--db", box.db])
    #expect(md.code == 1 && md.stdout.contains("**regression**"))
    let junit = try await box.evalh(["compare", "r-base", "r-bad", "--format", "junit", "--db", box.db])
    let xml = try XMLDocument(data: Data(junit.stdout.utf8), options: [])
    #expect(try xml.nodes(forXPath: "//testcase/failure").count >= 5)
    // Only cost gating, which cannot regress here: exit 0.
    #expect(
      try await box.evalh(["compare", "r-base", "r-bad", "--metric", "cost_per_trial_usd", "--db", box.db]).code == 0)
    #expect(try await box.evalh(["compare", "r-base", "r-bad", "--metric", "speed", "--db", box.db]).code == 2)
    #expect(try await box.evalh(["compare", "r-base", "r-nope", "--db", box.db]).code == 2)
  }

  @Test func compareRefusesAnotherSuiteAndFailsOnAMissingAgent() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 2)
    #expect(try await box.evalh(["run", suite, "--db", box.db, "--run-id", "r-a", "--no-progress"]).code == 0)
    // The same suite under another name: a different suite.
    let renamed = try String(contentsOfFile: suite, encoding: .utf8).replacingOccurrences(
      of: "name: prob", with: "name: other")
    box.write("other.yaml", renamed)
    #expect(try await box.evalh(["run", "other.yaml", "--db", box.db, "--run-id", "r-b", "--no-progress"]).code == 0)
    let refused = try await box.evalh(["compare", "r-a", "r-b", "--db", box.db])
    #expect(refused.code == 2 && refused.stderr.contains("different suites are not compared"), "\(refused.stderr)")
    let allowed = try await box.evalh(["compare", "r-a", "r-b", "--db", box.db, "--allow-suite-change"])
    // Compared, not refused (the two runs' seeds differ, so the verdict itself may go either way).
    #expect(allowed.code != 2 && allowed.stdout.contains("note: different suites"), "\(allowed.stderr)")
    // Two agents in the base, one in the candidate: the missing one fails the gate.
    let two = try String(contentsOfFile: suite, encoding: .utf8).replacingOccurrences(
      of: "agent: { subprocess: { command: [./agent.sh] } }",
      with:
        "agents:\n  one: { subprocess: { command: [./agent.sh] } }\n  two: { subprocess: { command: [./agent.sh] } }")
    box.write("two.yaml", two)
    #expect(try await box.evalh(["run", "two.yaml", "--db", box.db, "--run-id", "r-two", "--no-progress"]).code == 0)
    #expect(
      try await box.evalh(["run", "two.yaml", "--db", box.db, "--run-id", "r-one", "--agent", "one", "--no-progress"])
        .code == 0)
    let missing = try await box.evalh(["compare", "r-two", "r-one", "--db", box.db])
    #expect(missing.code == 1, "\(missing.stdout)")
    #expect(missing.stdout.contains("agent two is only in the base run: missing from the candidate"))
    // A typo'd agent is an error, not an empty grid.
    let typo = try await box.evalh(["show", "r-two", "--db", box.db, "--agent", "tow"])
    #expect(typo.code == 2 && typo.stderr.contains("has no agent 'tow' (agents: one, two)"), "\(typo.stderr)")
  }

  @Test func baselineFromAnotherDatabase() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 4)
    let baseDB = box.path + "/artifact/base.sqlite"
    _ = try await box.evalh(["run", suite, "--db", baseDB, "--seed", "1", "--no-progress"])
    _ = try await box.evalh(["run", suite, "--db", box.db, "--seed", "1", "--no-progress"])
    let out = try await box.evalh(["compare", "latest", "latest", "--base-db", baseDB, "--db", box.db])
    #expect(out.code == 0, "\(out.stderr)")
    #expect(out.stdout.contains("+0.0 pts"))
  }

  @Test func shardsMergeIntoTheSingleMachineRun() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 3)
    for i in 1...3 {
      let out = try await box.evalh([
        "run", suite, "--shard", "\(i)/3", "--run-id", "r-n", "--seed", "5", "--db", box.path + "/s\(i).sqlite",
        "--no-progress",
      ])
      #expect(out.code == 0, "\(out.stderr)")
    }
    let merged = box.path + "/merged.sqlite"
    let merge = try await box.evalh(["merge", "--into", merged] + (1...3).map { box.path + "/s\($0).sqlite" })
    #expect(merge.code == 0, "\(merge.stderr)")
    _ = try await box.evalh(["run", suite, "--run-id", "r-n", "--seed", "5", "--db", box.db, "--no-progress"])
    // Every task in exactly one shard, and the merged rows equal the single run's.
    #expect(try rows(merged, "r-n") == rows(box.db, "r-n"))
    #expect(try rows(merged, "r-n").count == 30)
    #expect(try ResultStore(path: merged, create: false).run(id: "r-n")?.status == .completed)
    // The reports agree, but for measured latencies and times.
    func stripped(_ db: String) async throws -> String {
      try await box.evalh(["report", "r-n", "--format", "json", "--db", db]).stdout.split(separator: "\n")
        .filter {
          !$0.contains("latency") && !$0.contains("\"p") && !$0.contains("\"max\"") && !$0.contains("\"mean\"")
            && !$0.contains("_at\"")
        }
        .joined(separator: "\n")
    }
    let mergedReport = try await stripped(merged)
    #expect(try await mergedReport == stripped(box.db))
    // Merging again changes nothing; shards may also share one file.
    #expect(
      try await box.evalh(["merge", "--into", merged, box.path + "/s1.sqlite"]).stderr.contains("0 trials added"))
    let shared = box.path + "/shared.sqlite"
    for i in 1...3 {
      #expect(
        try await box.evalh([
          "run", suite, "--shard", "\(i)/3", "--run-id", "r-n", "--seed", "5", "--db", shared, "--no-progress",
        ]).code == 0)
    }
    #expect(try rows(shared, "r-n") == rows(box.db, "r-n"))
    // A shard of the same run cut another way is refused, in a shared file and in a merge.
    let other = try await box.evalh([
      "run", suite, "--shard", "1/4", "--run-id", "r-n", "--seed", "5", "--db", shared, "--no-progress",
    ])
    #expect(other.code == 2 && other.stderr.contains("is cut into 3 shards; this shard says 4"), "\(other.stderr)")
    let four = box.path + "/four.sqlite"
    _ = try await box.evalh([
      "run", suite, "--shard", "1/4", "--run-id", "r-n", "--seed", "5", "--db", four, "--no-progress",
    ])
    let refused = try await box.evalh(["merge", "--into", merged, four])
    #expect(refused.code == 2 && refused.stderr.contains("is cut into 4 shards"), "\(refused.stderr)")
  }

  @Test func aMergeMissingAShardIsIncompleteAndSaysWhat() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 3)
    func shard(_ i: Int, _ extra: [String] = []) async throws -> Output {
      try await box.evalh(
        ["run", suite, "--shard", "\(i)/3", "--run-id", "r-n", "--seed", "5", "--db", box.path + "/s\(i).sqlite"]
          + ["--no-progress"] + extra)
    }
    // A shard alone is incomplete: gates fail on it unless told to judge the shard on its own.
    let gated = try await shard(1, ["--fail-under", "success_rate=0"])
    #expect(gated.code == 1 && gated.stderr.contains("run r-n is incomplete: shards 2, 3 of 3 not recorded here"))
    #expect(try await shard(1, ["--fail-under", "success_rate=0", "--allow-incomplete"]).code == 0)
    #expect(try await shard(3).code == 0)
    let merged = box.path + "/merged.sqlite"
    let merge = try await box.evalh(["merge", "--into", merged, box.path + "/s1.sqlite", box.path + "/s3.sqlite"])
    #expect(merge.code == 0, "\(merge.stderr)")
    let missingTasks = (0..<10).filter { Shard.bucket(of: "t\($0)", count: 3) == 1 }.count
    let gap = "shard 2 of 3 not recorded here (\(missingTasks * 3) trials of \(missingTasks) tasks missing)"
    #expect(merge.stderr.contains("run r-n is incomplete: \(gap)"), "\(merge.stderr)")
    #expect(try ResultStore(path: merged, create: false).run(id: "r-n")?.status == .incomplete)
    let runs = try await box.evalh(["runs", "--db", merged]).stdout
    #expect(runs.contains("incomplete") && runs.contains("\(30 - missingTasks * 3)/30"), "\(runs)")
    // Every report says so.
    for format in ["text", "markdown", "json", "html"] {
      let out = try await box.evalh(["report", "r-n", "--format", format, "--db", merged])
      #expect(out.stdout.contains(gap), "\(format)")
    }
    // compare treats the incomplete candidate as a failed gate unless allowed.
    _ = try await box.evalh(["run", suite, "--run-id", "r-n", "--seed", "5", "--db", box.db, "--no-progress"])
    let refused = try await box.evalh(["compare", "r-n", "r-n", "--base-db", box.db, "--db", merged])
    #expect(
      refused.code == 1 && refused.stderr.contains("candidate run r-n is incomplete: \(gap)"), "\(refused.stderr)")
    let allowed = try await box.evalh([
      "compare", "r-n", "r-n", "--base-db", box.db, "--db", merged, "--allow-incomplete",
    ])
    #expect(allowed.code == 0, "\(allowed.stdout)\(allowed.stderr)")
    // Nothing to resume: the missing shard must be run.
    let resume = try await box.evalh(["run", suite, "--resume", "r-n", "--db", merged, "--no-progress"])
    #expect(resume.code == 2 && resume.stderr.contains("Run a missing shard with --shard I/N --run-id r-n"))
    // The last shard completes it, and the gap is gone from the reports.
    #expect(try await shard(2).code == 0)
    let last = try await box.evalh(["merge", "--into", merged, box.path + "/s2.sqlite"])
    #expect(last.stderr.contains("run r-n is completed"), "\(last.stderr)")
    #expect(!(try await box.evalh(["report", "r-n", "--db", merged]).stdout.contains("not recorded here")))
    #expect(try rows(merged, "r-n") == rows(box.db, "r-n"))
  }

  @Test func shardAutoReadsTheEnginesIndex() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 2)
    let auto = try await box.evalh(
      [
        "run", suite, "--shard", "auto", "--shards", "3", "--run-id", "r-a", "--seed", "5", "--db",
        box.path + "/auto.sqlite", "--no-progress",
      ], environment: ["JOB_COMPLETION_INDEX": "1"])
    #expect(auto.code == 0, "\(auto.stderr)")
    #expect(auto.stderr.contains("shard 2/3 from the Kubernetes Indexed Job (JOB_COMPLETION_INDEX=1, --shards 3)"))
    let manual = try await box.evalh([
      "run", suite, "--shard", "2/3", "--run-id", "r-a", "--seed", "5", "--db", box.path + "/manual.sqlite",
      "--no-progress",
    ])
    #expect(manual.code == 0)
    #expect(try rows(box.path + "/auto.sqlite", "r-a") == rows(box.path + "/manual.sqlite", "r-a"))
    let lost = try await box.evalh(["run", suite, "--shard", "auto", "--db", box.db, "--no-progress"])
    #expect(lost.code == 2 && lost.stderr.contains("found no engine's index"), "\(lost.stderr)")
  }

  @Test func conflictingMergeIsRefusedAndChangesNothing() async throws {
    let box = Sandbox()
    let suite = box.probabilisticSuite(trials: 2)
    _ = try await box.evalh(["run", suite, "--run-id", "r-c", "--seed", "5", "--db", box.db, "--no-progress"])
    let other = box.path + "/other.sqlite"
    _ = try await box.evalh(["run", suite, "--run-id", "r-c", "--seed", "5", "--db", other, "--no-progress"])
    try await DatabaseQueue(path: other).write { db in
      try db.execute(
        sql: "UPDATE trials SET status = 'fail', output_json = '\"tampered\"' WHERE task_id = 't3' AND trial = 1")
    }
    let before = try rows(box.db, "r-c")
    let out = try await box.evalh(["merge", "--into", box.db, other])
    #expect(out.code == 2)
    #expect(out.stderr.contains("records trials that differ") && out.stderr.contains("r-c/default/t3#1"))
    #expect(try rows(box.db, "r-c") == before)
    #expect(try await box.evalh(["merge", "--into", box.db, box.path + "/missing.sqlite"]).code == 2)
    try await DatabaseQueue(path: other).write { try $0.execute(sql: "PRAGMA user_version = 99") }
    #expect(try await box.evalh(["merge", "--into", box.db, other]).code == 3)
  }
}
