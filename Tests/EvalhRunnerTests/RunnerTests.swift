import EvalhAgents
import EvalhCore
import EvalhStore
import Foundation
import GRDB
import Testing

@testable import EvalhRunner

final class Workspace: Sendable {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "evalh-runner-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  func write(_ name: String, _ text: String, executable: Bool = false) {
    let file = "\(path)/\(name)"
    unlink(file)
    let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0o755 : 0o644)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }

  /// A deterministic agent: answers "no" when its seed is divisible by 3, else "yes";
  /// writes a file into its working folder for state-based graders.
  func suite(extraTask: String = "", trials: Int = 4, agentBody: String? = nil) throws -> Suite {
    write(
      "agent.sh",
      agentBody ?? """
        #!/bin/sh
        cat > /dev/null
        if [ $((EVALH_SEED % 3)) -eq 0 ]; then out=no; else out=yes; fi
        echo "$out" > "$EVALH_WORKDIR/answer.txt"
        echo "{\\"output\\":\\"$out\\",\\"usage\\":{\\"input_tokens\\":1000,\\"output_tokens\\":100}}"
        """, executable: true)
    write(
      "suite.yaml",
      """
      name: runner-test
      trials: \(trials)
      concurrency: 3
      timeout: 10s
      agents:
        one: { subprocess: { command: [./agent.sh] }, pricing: { input_per_million: 1, output_per_million: 10 } }
        two: { subprocess: { command: [./agent.sh] } }
      tasks:
        - id: alpha
          input: a
          tags: [x]
          expect:
            - equals: "yes"
            - command: [sh, -c, 'grep -q yes "$EVALH_WORKDIR/answer.txt"']
              name: answer-file
        - id: beta.one
          input: b
          tags: [y]
          trials: 2
          expect: [{ contains: "y" }]
          assure: [{ not_contains: "e" }]
        - id: beta.two
          input: c
          tags: [x, y]
      \(extraTask)
      """)
    return try SuiteLoader.load(path: "\(path)/suite.yaml")
  }
}

func execute(_ suite: Suite, _ store: ResultStore, _ options: RunOptions, interruption: Interruption = Interruption())
  async throws -> RunResult
{
  let runner = Runner(suite: suite, store: store, options: options, interruption: interruption)
  let prepared = try runner.prepare()
  return await runner.execute(
    run: prepared.run, pending: prepared.pending, progress: ProgressDisplay(total: 0, mode: .none))
}

/// Trial rows without the fields that depend on wall time.
func comparable(_ store: ResultStore, _ runID: String) throws -> [String] {
  try store.trials(runID: runID).map { t in
    "\(t.agent)|\(t.taskID)|\(t.trial)|\(t.status)|\(t.errorKind?.rawValue ?? "-")|\(t.seed)|\(t.outputJSON ?? "-")|\(t.violations)|\(t.costUSD ?? -1)"
  }
}

@Suite struct RunnerTests {
  @Test func planHonoursFiltersAndTrialOverrides() throws {
    let ws = Workspace()
    let suite = try ws.suite()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    let all = try Runner(suite: suite, store: store, options: options, interruption: Interruption()).plan()
    #expect(all.agents == ["one", "two"])
    #expect(
      all.tasks == [.init(id: "alpha", trials: 4), .init(id: "beta.one", trials: 2), .init(id: "beta.two", trials: 4)])
    #expect(all.keys.count == 2 * (4 + 2 + 4))
    options.agents = ["two"]
    options.taskPatterns = ["beta.*"]
    options.tags = ["x"]
    options.trials = 3
    let some = try Runner(suite: suite, store: store, options: options, interruption: Interruption()).plan()
    #expect(some.agents == ["two"] && some.tasks == [.init(id: "beta.two", trials: 3)])
    options.agents = ["three"]
    #expect(throws: RunError.self) {
      try Runner(suite: suite, store: store, options: options, interruption: Interruption()).plan()
    }
    options.agents = []
    options.tags = ["nope"]
    #expect(throws: RunError.self) {
      try Runner(suite: suite, store: store, options: options, interruption: Interruption()).plan()
    }
  }

  /// A planned agent evalh has no adapter for is the harness's failure, said as such: never a trial
  /// silently dropped as "interrupted", and no working folder is made for it.
  @Test func aPlannedAgentWithoutAnAdapterStopsTheRunAndLeavesNoFolder() async throws {
    let ws = Workspace()
    let suite = try ws.suite()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var run: RunRecord
    let result: RunResult
    do {
      // In a scope of its own: the runner holds the run's lock for as long as it lives.
      let runner = Runner(suite: suite, store: store, options: RunOptions(), interruption: Interruption())
      run = try runner.prepare().run
      run.plan.agents.insert("ghost", at: 0)
      result = await runner.execute(
        run: run, pending: run.plan.pending(), progress: ProgressDisplay(total: 0, mode: .none))
    }
    #expect(result.harnessError?.contains("agent 'ghost'") == true)
    #expect(result.run.status == .interrupted)
    #expect(try store.run(id: run.id)?.stopReason?.contains("ghost") == true)
    #expect(try store.trials(runID: run.id).isEmpty)
    let root = NSTemporaryDirectory().appending("evalh-\(run.id)-\(getpid())")
    #expect(!FileManager.default.fileExists(atPath: root))

    // A stored plan naming an agent the suite lacks is refused by --resume before anything runs.
    try store.updateRun(run.id, status: .interrupted, finishedAt: nil, stopReason: nil)
    let plan = String(decoding: try JSONEncoder().encode(run.plan), as: UTF8.self)
    let id = run.id
    try await DatabaseQueue(path: store.path).write {
      try $0.execute(sql: "UPDATE runs SET plan_json = ? WHERE id = ?", arguments: [plan, id])
    }
    var options = RunOptions()
    options.resume = run.id
    #expect {
      try Runner(suite: suite, store: store, options: options, interruption: Interruption()).prepare()
    } throws: { error in
      (error as? RunError)?.errorDescription?.contains("plans agent 'ghost'") == true
    }
  }

  @Test func runsGradesAndCommitsEveryTrial() async throws {
    let ws = Workspace()
    let suite = try ws.suite()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.seed = 11
    let result = try await execute(suite, store, options)
    #expect(result.run.status == .completed && result.recorded == 20 && result.storeError == nil)
    let trials = try store.trials(runID: result.run.id)
    #expect(trials.count == 20)
    for t in trials {
      let answer = t.seed % 3 == 0 ? "no" : "yes"
      #expect(t.outputJSON == "\"\(answer)\"")
      #expect(t.seed == Seeds.trialSeed(runSeed: 11, agent: t.agent, taskID: t.taskID, trial: t.trial))
      switch t.taskID {
      case "alpha": #expect(t.status == (answer == "yes" ? .pass : .fail))
      case "beta.one":
        // "yes" contains "e": a violation; "no" fails `contains: y`.
        #expect(t.status == .fail)
        #expect(t.violations == (answer == "yes" ? 1 : 0))
      default: #expect(t.status == .pass)
      }
      // Pricing: 1000 × $1/M + 100 × $10/M for agent one; unknown (never 0) for agent two.
      #expect(t.costUSD == (t.agent == "one" ? 0.002 : nil))
    }
    let alpha = try store.trials(runID: result.run.id, agent: "one", taskID: "alpha", trial: 1)[0]
    #expect(alpha.grades.map(\.grader) == ["equals", "answer-file"])
    // Working folders are removed after grading.
    #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "evalh-\(result.run.id)-\(getpid())"))
  }

  @Test func keepFailedKeepsTheFoldersOfFailedTrialsOnly() async throws {
    let ws = Workspace()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.seed = 11
    options.keepFailed = true
    options.agents = ["one"]
    let result = try await execute(try ws.suite(), store, options)
    let trials = try store.trials(runID: result.run.id)
    let failed = trials.filter { $0.status != .pass }
    #expect(!failed.isEmpty && failed.count < trials.count)
    for t in trials {
      if t.status == .pass {
        #expect(t.workdir == nil)
      } else {
        let dir = try #require(t.workdir)
        #expect(FileManager.default.fileExists(atPath: dir + "/answer.txt"), "the agent's files are kept")
      }
    }
    let root = try #require(failed.first?.workdir).components(separatedBy: "/one/").first ?? ""
    try? FileManager.default.removeItem(atPath: root)
  }

  /// Folders are reused when their trial left them empty: every trial must still start in an empty
  /// folder with the mode evalh made it with, whatever earlier trials wrote or changed.
  @Test func everyTrialStartsInAFreshFolder() async throws {
    let ws = Workspace()
    let suite = try ws.suite(
      trials: 12,
      agentBody: """
        #!/bin/sh
        cat > /dev/null
        seen="$(ls -A "$EVALH_WORKDIR" | wc -l) $(stat -c %a "$EVALH_WORKDIR")"
        case $((EVALH_TRIAL % 3)) in
          1) echo "left behind" > "$EVALH_WORKDIR/file.txt" ;;
          2) chmod 700 "$EVALH_WORKDIR" ;;
        esac
        echo "{\\"output\\":\\"$seen\\"}"
        """)
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.concurrency = 1
    options.agents = ["two"]
    let result = try await execute(suite, store, options)
    let trials = try store.trials(runID: result.run.id)
    #expect(trials.count == 12 + 2 + 12)
    for t in trials { #expect(t.outputJSON == #""0 755""#, "\(t.taskID) #\(t.trial)") }
    #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "evalh-\(result.run.id)-\(getpid())"))
  }

  @Test func emptyFoldersAreRenamedIntoPlace() throws {
    let ws = Workspace()
    let folders = WorkFolders(root: ws.path + "/work")
    #expect(folders.make(ws.path + "/work/a/t/1") == nil)
    folders.remove(ws.path + "/work/a/t/1")
    let spares = try FileManager.default.contentsOfDirectory(atPath: ws.path + "/work").filter {
      $0.hasPrefix(".spare-")
    }
    #expect(spares.count == 1, "an empty folder is kept as a spare")
    // A folder already at the next path is never reused nor removed: making it fails, saying why.
    try FileManager.default.createDirectory(atPath: ws.path + "/work/b/u/2", withIntermediateDirectories: true)
    ws.write("work/b/u/2/old.txt", "old")
    #expect(folders.make(ws.path + "/work/b/u/2")?.contains("could not make the fresh working folder") == true)
    #expect(FileManager.default.fileExists(atPath: ws.path + "/work/b/u/2/old.txt"))
    #expect(!FileManager.default.fileExists(atPath: ws.path + "/work/" + spares[0]))
    // A folder left with files is removed, not kept.
    ws.write("work/b/u/2/new.txt", "new")
    folders.remove(ws.path + "/work/b/u/2")
    #expect(!FileManager.default.fileExists(atPath: ws.path + "/work/b/u/2"))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: ws.path + "/work").filter { $0.hasPrefix(".spare-") }.isEmpty)
    #expect(folders.make(ws.path + "/work/c/v/3") == nil)
    folders.remove(ws.path + "/work/c/v/3")
    folders.removeSpares()
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: ws.path + "/work").filter { $0.hasPrefix(".spare-") }.isEmpty)
  }

  @Test func progressShowsCountsAndAnETA() {
    final class Lines: @unchecked Sendable {
      let lock = NSLock()
      var text = ""
      func add(_ s: String) { lock.withLock { text += s } }
    }
    let terminal = Lines()
    let live = ProgressDisplay(total: 3, mode: .terminal, interval: 0, sink: terminal.add)
    live.record(.pass)
    live.record(.fail)
    live.record(.timeout)
    live.finish()
    #expect(terminal.text.hasPrefix("\r\u{1B}[2K1/3 trials  pass 1  fail 0  error 0  "))
    #expect(terminal.text.contains("ETA"))
    #expect(terminal.text.contains("3/3 trials  pass 1  fail 1  error 1"))
    #expect(terminal.text.hasSuffix("\n"))
    // Plain mode (not a terminal): no cursor movement, and sparse lines: the first, then the last.
    let plain = Lines()
    let sparse = ProgressDisplay(total: 100, mode: .plain, interval: 3600, sink: plain.add)
    for _ in 0..<100 { sparse.record(.pass) }
    sparse.finish()
    #expect(!plain.text.contains("\u{1B}"))
    #expect(plain.text.split(separator: "\n").count == 2)
    #expect(plain.text.contains("100/100 trials  pass 100"))
  }

  @Test func brokenCommandGraderIsAGraderError() async throws {
    let ws = Workspace()
    let suite = try ws.suite(
      extraTask: """
          - id: broken
            input: d
            expect:
              - command: [sh, -c, 'exit 7']
        """)
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.taskPatterns = ["broken"]
    options.trials = 1
    let result = try await execute(suite, store, options)
    let t = try store.trials(runID: result.run.id, agent: "one", taskID: "broken")[0]
    #expect(t.status == .error && t.errorKind == .grader && t.error == "grader command exited 7")
  }

  @Test func resumeRunsExactlyTheMissingTrials() async throws {
    let ws = Workspace()
    let suite = try ws.suite()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.seed = 5
    options.runID = "r-full"
    let full = try await execute(suite, store, options)
    let expected = try comparable(store, full.run.id)

    // The same run, cut short: drop some trials, as a crash would have.
    options.runID = "r-cut"
    _ = try await execute(suite, store, options)
    let db = ws.path + "/db.sqlite"
    try await DatabaseQueue(path: db).write { db in
      try db.execute(
        sql: """
          DELETE FROM grades WHERE run_id = 'r-cut' AND trial > 1;
          DELETE FROM trials WHERE run_id = 'r-cut' AND trial > 1;
          UPDATE runs SET status = 'interrupted' WHERE id = 'r-cut'
          """)
    }
    #expect(try store.recordedKeys(runID: "r-cut").count == 6)

    var resume = RunOptions()
    resume.resume = "r-cut"
    let runner = Runner(suite: suite, store: store, options: resume, interruption: Interruption())
    let prepared = try runner.prepare()
    #expect(prepared.pending.count == 14)
    let finished = await runner.execute(
      run: prepared.run, pending: prepared.pending, progress: ProgressDisplay(total: 14, mode: .none))
    #expect(finished.run.status == .completed && finished.recorded == 14)
    #expect(try comparable(store, "r-cut") == expected)

    // Nothing is left to run, and a completed run is not resumed again.
    #expect(throws: RunError.self) {
      try Runner(suite: suite, store: store, options: resume, interruption: Interruption()).prepare()
    }
  }

  @Test func resumeRefusesAChangedSuite() async throws {
    let ws = Workspace()
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    var options = RunOptions()
    options.runID = "r-1"
    options.trials = 1
    _ = try await execute(try ws.suite(), store, options)
    try store.updateRun("r-1", status: .interrupted, finishedAt: nil, stopReason: nil)
    var resume = RunOptions()
    resume.resume = "r-1"
    let changed = try ws.suite(trials: 9)
    do {
      _ = try Runner(suite: changed, store: store, options: resume, interruption: Interruption()).prepare()
      Issue.record("resumed a changed suite")
    } catch {
      #expect(error.exitCode == 2)
      #expect(error.errorDescription?.contains("different version of suite") == true)
    }
    resume.resume = "r-unknown"
    #expect(throws: RunError.self) {
      try Runner(suite: changed, store: store, options: resume, interruption: Interruption()).prepare()
    }
  }

  @Test func interruptionStopsLaunchingAndEndsTrialsInFlight() async throws {
    let ws = Workspace()
    let suite = try ws.suite(
      agentBody: """
        #!/bin/sh
        cat > /dev/null
        sleep 1000 &
        echo $! >> \(NSTemporaryDirectory())evalh-runner-children-\(getpid())
        wait
        """)
    let store = try ResultStore(path: ws.path + "/db.sqlite", create: true)
    let interruption = Interruption()
    // A thread, not a task: the trigger must not wait for the cooperative pool other tests may keep busy.
    // It fires once the three agents are running (or after 120 s: a loaded CI machine can be slow to start them).
    let children = NSTemporaryDirectory() + "evalh-runner-children-\(getpid())"
    Thread {
      for _ in 0..<12_000 {
        let lines = ((try? String(contentsOfFile: children, encoding: .utf8)) ?? "").split(separator: "\n")
        if lines.count >= 3 { break }
        usleep(10_000)
      }
      interruption.trigger()
    }.start()
    let clock = ContinuousClock()
    let start = clock.now
    let result = try await execute(suite, store, RunOptions(), interruption: interruption)
    #expect(clock.now - start < .seconds(300))  // the agents sleep 1000 s: they were ended, not waited for
    #expect(result.run.status == .interrupted && result.recorded == 0)
    #expect(try store.run(id: result.run.id)?.status == .interrupted)
    defer { unlink(children) }
    let pids =
      (try? String(contentsOfFile: children, encoding: .utf8))?.split(separator: "\n").compactMap { Int32($0) } ?? []
    #expect(pids.count == 3)  // concurrency 3: only those were launched
    for pid in pids {
      let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
      #expect(stat.isEmpty || stat.contains(") Z "), "pid \(pid) outlived the run")
    }
  }
}
