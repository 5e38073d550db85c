import EvalhStore
import Foundation
import GRDB
import Testing

/// Trial rows without wall-time fields, for comparing two runs of the same seed.
func rows(_ db: String, _ runID: String) throws -> [String] {
  try DatabaseQueue(path: db).read { db in
    try String.fetchAll(
      db,
      sql: """
        SELECT agent || '|' || task_id || '|' || trial || '|' || status || '|' || seed || '|' || output_json || '|'
          || violations || '|' || (SELECT group_concat(grader || ':' || passed) FROM grades g
             WHERE g.run_id = t.run_id AND g.agent = t.agent AND g.task_id = t.task_id AND g.trial = t.trial)
        FROM trials t WHERE run_id = ? ORDER BY agent, task_id, trial
        """, arguments: [runID])
  }
}

func waitForTrials(_ db: String, _ runID: String, atLeast n: Int, timeout: Double = 30) async throws -> Int {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if FileManager.default.fileExists(atPath: db),
      let count = try? await DatabaseQueue(path: db).read({
        try Int.fetchOne($0, sql: "SELECT count(*) FROM trials WHERE run_id = ?", arguments: [runID])
      }),
      count >= n
    {
      return count
    }
    try await Task.sleep(for: .milliseconds(20))
  }
  return -1
}

@Suite(.serialized) struct SignalTests {
  @Test func killDashNineThenResumeEqualsAnUninterruptedRun() async throws {
    let box = Sandbox()
    let suite = box.tinySuite(trials: 6, delay: "0.2", tasks: 5)
    let full = try await box.evalh([
      "run", suite, "--db", box.db, "--seed", "77", "--run-id", "r-full", "--no-progress",
    ])
    #expect(full.code == 0)

    let (process, _, _) = try box.launch([
      "run", suite, "--db", box.db, "--seed", "77", "--run-id", "r-killed", "--no-progress",
    ])
    let seen = try await waitForTrials(box.db, "r-killed", atLeast: 8)
    #expect(seen >= 8)
    kill(process.processIdentifier, SIGKILL)
    let killed = Unchecked(value: process)
    await offPool { killed.value.waitUntilExit() }
    #expect(process.terminationReason == .uncaughtSignal)
    // A killed run cannot remove its working folders' root: the test does, or every test run leaves one.
    try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "evalh-r-killed-\(process.processIdentifier)")
    let partial = try rows(box.db, "r-killed").count
    #expect(partial < 30, "the run should have been cut short (\(partial) rows)")

    let resumed = try await box.evalh(["run", suite, "--db", box.db, "--resume", "r-killed", "--no-progress"])
    #expect(resumed.code == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("resuming r-killed: \(30 - partial) of 30 trials"))
    #expect(try rows(box.db, "r-killed") == rows(box.db, "r-full"))
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.run(id: "r-killed")?.status == .completed)

    // Resuming with a changed suite is refused.
    box.write(
      "suite.yaml",
      (try String(contentsOfFile: suite, encoding: .utf8)).replacingOccurrences(of: "trials: 6", with: "trials: 7"))
    _ = try await DatabaseQueue(path: box.db).write {
      try $0.execute(sql: "UPDATE runs SET status = 'interrupted' WHERE id = 'r-full'")
    }
    let changed = try await box.evalh(["run", suite, "--db", box.db, "--resume", "r-full"])
    #expect(changed.code == 2 && changed.stderr.contains("resume refuses a changed suite"))
  }

  @Test func sigintMarksTheRunInterruptedAndExits130() async throws {
    let box = Sandbox()
    box.write(
      "slow.sh",
      """
      #!/bin/sh
      cat > /dev/null
      sleep 1000 &
      echo $! >> \(box.path)/children
      wait
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: slow
      agent: { subprocess: { command: [./slow.sh] } }
      tasks: [{ id: a, input: x }, { id: b, input: y }]
      """)
    let (process, out, err) = try box.launch([
      "run", "suite.yaml", "--db", box.db, "--run-id", "r-int", "--trials", "3",
    ])
    // Wait until the agents are running.
    var pids: [Int32] = []
    for _ in 0..<500 {
      pids = ((try? String(contentsOfFile: box.path + "/children", encoding: .utf8)) ?? "").split(separator: "\n")
        .compactMap { Int32($0) }
      if pids.count >= 4 { break }
      try await Task.sleep(for: .milliseconds(10))
    }
    #expect(pids.count == 4)  // the default concurrency
    kill(process.processIdentifier, SIGINT)
    let running = Unchecked(value: (process, out, err))
    let stderr = await offPool {
      let (process, out, err) = running.value
      let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      _ = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return stderr
    }
    #expect(process.terminationStatus == 130)
    // Said as it is (the command throws it and main prints it), not as an error.
    #expect(
      stderr.contains("interrupted: run r-int is resumable with\n  evalh run suite.yaml --resume r-int --db \(box.db)"),
      "\(stderr)")
    #expect(!stderr.contains("error:"), "\(stderr)")
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.run(id: "r-int")?.status == .interrupted)
    #expect(try store.recordedKeys(runID: "r-int").isEmpty)
    for pid in pids {
      let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
      #expect(stat.isEmpty || stat.contains(") Z "), "agent child \(pid) outlived evalh")
    }
  }
}
