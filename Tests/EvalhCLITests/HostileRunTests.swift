import EvalhStore
import Foundation
import GRDB
import Testing

/// Whether a process is gone (or a zombie nobody has reaped yet).
func isGone(_ pid: Int32) -> Bool {
  let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
  guard let close = stat.lastIndex(of: ")") else { return true }
  return stat[stat.index(after: close)...].hasPrefix(" Z")
}

/// Waits for a launched evalh, reading its pipes to the end; its stderr.
func finish(_ process: Process, _ out: Pipe, _ err: Pipe) async -> String {
  let running = Unchecked(value: (process, out, err))
  return await offPool {
    _ = running.value.1.fileHandleForReading.readDataToEndOfFile()
    let text = String(decoding: running.value.2.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    running.value.0.waitUntilExit()
    return text
  }
}

/// The pids a test's agents wrote, one per line.
func pids(in file: String) -> [Int32] {
  ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
}

/// Hostile agents against the built binary: each misbehaviour is an outcome of its trial, evalh
/// neither traps, hangs nor leaves a process behind (issue 14: 1–4, 7, 8, 10, 11, 16, 18, 19, 23, 24).
@Suite(.serialized) struct HostileRunTests {
  /// An agent that prints `answer` after reading its request.
  func agent(_ box: Sandbox, _ name: String, prints answer: String, before: String = "") {
    box.write(name, "#!/bin/sh\ncat > /dev/null\n\(before)\nprintf '%s' '\(answer)'\n", executable: true)
  }

  /// Out-of-range numbers are contract errors while other agents are in flight: the run ends
  /// normally, every trial is recorded, and no agent is left running.
  @Test func outOfRangeNumbersAreContractErrorsAndNoAgentOutlivesTheRun() async throws {
    let box = Sandbox()
    agent(box, "big.sh", prints: #"{"output":"x","usage":{"input_tokens":1e19,"cost_usd":1}}"#)
    agent(box, "neg.sh", prints: #"{"output":"x","usage":{"cost_usd":-1.5}}"#)
    agent(
      box, "slow.sh", prints: #"{"output":"x"}"#,
      before: "sleep 30 & echo $! >> \(box.path)/sleepers\nsleep 0.3")
    box.write(
      "suite.yaml",
      """
      name: numbers
      concurrency: 3
      agents:
        big: { subprocess: { command: [./big.sh] } }
        neg: { subprocess: { command: [./neg.sh] } }
        slow: { subprocess: { command: [./slow.sh] } }
      tasks: [{ id: a, input: x }, { id: b, input: y }]
      """)
    let run = try await box.evalh([
      "run", "suite.yaml", "--db", box.db, "--run-id", "r-n", "--trials", "2", "--no-progress",
    ])
    #expect(run.code == 0, "\(run.stderr)")
    let store = try ResultStore(path: box.db, create: false)
    let trials = try store.trials(runID: "r-n")
    let status = try store.run(id: "r-n")?.status
    #expect(trials.count == 12 && status == .completed)
    for trial in trials where trial.agent != "slow" {
      #expect(trial.errorKind == .contract, "\(trial.agent): \(trial.error ?? "")")
    }
    #expect(trials.first { $0.agent == "neg" }?.error?.contains("cost_usd is -1.5") == true)
    for pid in pids(in: box.path + "/sleepers") { #expect(isGone(pid), "agent child \(pid) outlived its trial") }
    for format in ["text", "markdown", "html", "json", "junit"] {
      let report = try await box.evalh(["report", "r-n", "--db", box.db, "--format", format])
      #expect(report.code == 0, "\(format): \(report.stderr)")
    }
    #expect(try await box.evalh(["show", "r-n", "--db", box.db, "--task", "a"]).code == 0)
    #expect(try await box.evalh(["compare", "r-n", "r-n", "--db", box.db]).code == 0)
  }

  /// Nobody reading stdout (`| true`) or stderr (`2>&1 | head -1`): the run still finishes, every
  /// trial recorded, with its usual exit code.
  @Test func aClosedPipeDoesNotEndTheRun() async throws {
    for closed in ["stdout", "stderr"] {
      let box = Sandbox()
      let suite = box.tinySuite(trials: 4, delay: "0.05", tasks: 3)
      let (process, out, err) = try box.launch(["run", suite, "--db", box.db, "--run-id", "r-p"])
      let reader = closed == "stdout" ? out : err
      // Read one line at most, then close our end: evalh's writes get EPIPE from then on.
      if closed == "stderr" { _ = reader.fileHandleForReading.availableData }
      try reader.fileHandleForReading.close()
      let other = Unchecked(value: (process, closed == "stdout" ? err : out))
      await offPool {
        _ = other.value.1.fileHandleForReading.readDataToEndOfFile()
        other.value.0.waitUntilExit()
      }
      #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(closed)")
      let store = try ResultStore(path: box.db, create: false)
      #expect(try store.run(id: "r-p")?.status == .completed, "\(closed)")
      #expect(try store.trials(runID: "r-p").count == 12, "\(closed)")
    }
  }

  /// A catastrophic regex is a grader error within the task's timeout; Ctrl-C reaches it too.
  @Test func aCatastrophicRegexIsBoundedAndInterruptible() async throws {
    let box = Sandbox()
    agent(box, "xs.sh", prints: #"{"output":"\#(String(repeating: "x", count: 3000))"}"#)
    box.write(
      "suite.yaml",
      """
      name: regex
      timeout: 2s
      agent: { subprocess: { command: [./xs.sh] } }
      tasks: [{ id: a, input: x, expect: [{ regex: "(x+x+)+y" }] }]
      """)
    let started = Date()
    let run = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-re", "--trials", "1"])
    #expect(run.code == 0, "\(run.stderr)")
    #expect(Date().timeIntervalSince(started) < 60)
    let trial = try #require(try ResultStore(path: box.db, create: false).trials(runID: "r-re").first)
    #expect(trial.errorKind == .grader && trial.error?.contains("longer than 2 s") == true, "\(trial.error ?? "")")

    box.write(
      "long.yaml",
      """
      name: regex-long
      timeout: 10m
      agent: { subprocess: { command: [./xs.sh] } }
      tasks: [{ id: a, input: x, expect: [{ regex: "(x+x+)+y" }] }]
      """)
    let (process, out, err) = try box.launch(["run", "long.yaml", "--db", box.db, "--run-id", "r-int", "--trials", "1"])
    try await Task.sleep(for: .seconds(2))
    let signalled = Date()
    kill(process.processIdentifier, SIGINT)
    _ = await finish(process, out, err)
    #expect(Date().timeIntervalSince(signalled) < 30)
    #expect(process.terminationStatus == 130)
  }

  /// `--output` naming the results database is refused, and the database is untouched.
  @Test func theDatabaseIsNeverAnOutput() async throws {
    let box = Sandbox()
    let suite = box.tinySuite()
    #expect(try await box.evalh(["run", suite, "--db", box.db, "--run-id", "r-o", "--no-progress"]).code == 0)
    let before = try ResultStore(path: box.db, create: false).trials(runID: "r-o").count
    let report = try await box.evalh(["report", "r-o", "--db", box.db, "--format", "json", "--output", box.db])
    #expect(report.code == 2 && report.stderr.contains("SQLite database"), "\(report.stderr)")
    #expect(try ResultStore(path: box.db, create: false).trials(runID: "r-o").count == before)
    #expect(before == 9)
    let written = try await box.evalh([
      "report", "r-o", "--db", box.db, "--format", "json", "--output", box.path + "/r.json",
    ])
    #expect(written.code == 0)
    #expect(FileManager.default.fileExists(atPath: box.path + "/r.json"))
  }

  /// An agent's child that calls setsid() and forks a sleeper: nothing survives the trial.
  @Test func aDescendantThatLeftTheGroupIsEnded() async throws {
    let box = Sandbox()
    agent(
      box, "escape.sh", prints: #"{"output":"x"}"#,
      // Each trial waits for its own escapee's two pids, so none is missed on a loaded machine.
      before: #"""
        mine=\#(box.path)/escaped.$$
        setsid sh -c "echo \$\$ >> $mine; sleep 300 & echo \$! >> $mine; wait" &
        until [ "$(wc -l 2>/dev/null < $mine)" = 2 ]; do sleep 0.01; done
        cat $mine >> \#(box.path)/escaped
        """#)
    box.write(
      "suite.yaml",
      """
      name: escape
      agent: { subprocess: { command: [./escape.sh] } }
      tasks: [{ id: a, input: x }]
      """)
    let run = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--trials", "2", "--no-progress"])
    #expect(run.code == 0, "\(run.stderr)")
    let escaped = pids(in: box.path + "/escaped")
    #expect(escaped.count == 4)
    for pid in escaped { #expect(isGone(pid), "\(pid) outlived its trial and evalh") }
  }

  /// The hard limit on open files, which a process may raise its soft limit to.
  static let hardFileLimit: Int = {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return limit.rlim_max == rlim_t.max ? Int.max : Int(limit.rlim_max)
  }()

  /// 300 subprocess trials at once (1,800 pipe ends) under a shell's soft limit of 256 open files:
  /// evalh raises its own soft limit toward the hard one, and every trial runs.
  @Test(.enabled(if: hardFileLimit >= 2464)) func manyTrialsAtOnceRaiseTheOpenFileLimit() async throws {
    let box = Sandbox()
    agent(box, "wait.sh", prints: #"{"output":"x"}"#, before: "sleep 0.5")
    box.write(
      "suite.yaml", "name: wide\nagent: { subprocess: { command: [./wait.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let run = await runTool([
      "sh", "-c", "cd \"$1\" && ulimit -S -n 256 && shift && exec \"$@\"", "sh", box.path, evalhBinary, "run",
      "suite.yaml", "--db", box.db, "--trials", "300", "--concurrency", "300", "--no-progress",
    ])
    #expect(run.code == 0, "\(run.stderr)")
    #expect(run.stdout.contains("(300 trials, 0 errors)"), "\(run.stdout)")
  }

  /// SIGHUP (the terminal closed) stops a run like SIGTERM: interrupted, resumable, agents ended.
  @Test func sighupInterruptsTheRun() async throws {
    let box = Sandbox()
    agent(box, "slow.sh", prints: #"{"output":"x"}"#, before: "echo $$ >> \(box.path)/agents\nsleep 100")
    box.write(
      "suite.yaml", "name: hup\nagent: { subprocess: { command: [./slow.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let (process, out, err) = try box.launch([
      "run", "suite.yaml", "--db", box.db, "--run-id", "r-hup", "--trials", "2",
    ])
    for _ in 0..<500 where pids(in: box.path + "/agents").count < 2 { try await Task.sleep(for: .milliseconds(10)) }
    #expect(pids(in: box.path + "/agents").count == 2)
    kill(process.processIdentifier, SIGHUP)
    let stderr = await finish(process, out, err)
    #expect(process.terminationStatus == 130, "\(stderr)")
    #expect(stderr.contains("--resume r-hup"))
    #expect(try ResultStore(path: box.db, create: false).run(id: "r-hup")?.status == .interrupted)
    for pid in pids(in: box.path + "/agents") { #expect(isGone(pid)) }
  }

  /// Bidirectional overrides in output and names, and ESC in a stored run id, are shown escaped.
  @Test func hiddenCharactersAreShownEscaped() async throws {
    let box = Sandbox()
    agent(box, "rtl.sh", prints: "{\"output\":\"safe\u{202E}txt.exe\"}")
    box.write(
      "suite.yaml",
      "name: \"rtl\u{2066}suite\"\nagent: { subprocess: { command: [./rtl.sh] } }\ntasks: [{ id: a, input: x }]\n")
    #expect(try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-b", "--trials", "1"]).code == 0)
    let show = try await box.evalh(["show", "r-b", "--db", box.db, "--task", "a", "--trial", "1"])
    #expect(show.stdout.contains("\\u{202e}") && !show.stdout.contains("\u{202E}"), "\(show.stdout)")
    let report = try await box.evalh(["report", "r-b", "--db", box.db])
    #expect(!report.stdout.contains("\u{2066}") && report.stdout.contains("\\u{2066}"))
    var configuration = Configuration()
    configuration.foreignKeysEnabled = false
    _ = try await DatabaseQueue(path: box.db, configuration: configuration).write { db in
      for table in ["runs", "tasks", "trials", "grades"] {
        let column = table == "runs" ? "id" : "run_id"
        try db.execute(sql: "UPDATE \(table) SET \(column) = 'r-\u{1B}[2J'")
      }
    }
    let runs = try await box.evalh(["runs", "--db", box.db])
    #expect(runs.stdout.contains("r-\\e[2J") && !runs.stdout.contains("\u{1B}"), "\(runs.stdout)")
    let shown = try await box.evalh(["show", "r-\u{1B}[2J", "--db", box.db])
    #expect(!shown.stdout.contains("\u{1B}"), "\(shown.stdout)")
  }

  /// Run ids that are not names, or read as references, are refused before anything runs.
  @Test func runIDsAreChecked() async throws {
    let box = Sandbox()
    let suite = box.tinySuite()
    for id in ["", "latest", "label:x", "../../x", "a/b"] {
      let run = try await box.evalh(["run", suite, "--db", box.db, "--run-id", id])
      #expect(run.code == 2, "\(id): \(run.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: box.db))
  }

  /// Out of file descriptors (`ulimit -n 64`, concurrency 40) is evalh's failure, not the agent's:
  /// exit 3, the trials it could not run unrecorded, the run resumable.
  @Test func runningOutOfDescriptorsIsTheHarnessFailure() async throws {
    let box = Sandbox()
    agent(box, "a.sh", prints: #"{"output":"x"}"#, before: "sleep 0.5")
    box.write(
      "suite.yaml",
      "name: fd\nconcurrency: 40\nagent: { subprocess: { command: [./a.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.currentDirectoryURL = URL(fileURLWithPath: box.path)
    process.arguments = [
      "-c", "ulimit -n 64; exec \"$0\" run suite.yaml --db \"$1\" --run-id r-fd --trials 60 --no-progress", evalhBinary,
      box.db,
    ]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let running = Unchecked(value: (process, err))
    let stderr = await offPool {
      let text = String(decoding: running.value.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      running.value.0.waitUntilExit()
      return text
    }
    #expect(process.terminationStatus == 3, "\(stderr)")
    #expect(stderr.contains("evalh could not") && stderr.contains("--resume r-fd"), "\(stderr)")
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.run(id: "r-fd")?.status == .interrupted)
    // Whatever was recorded ran; none is blamed on the agent.
    #expect(try store.trials(runID: "r-fd").allSatisfy { $0.status == .pass })
  }

  /// A second evalh on a run that is running is refused with a sentence before it runs anything;
  /// once the first has stopped, the run resumes.
  @Test func oneEvalhAtATimeOnARun() async throws {
    let box = Sandbox()
    agent(box, "slow.sh", prints: #"{"output":"x"}"#, before: "echo $$ >> \(box.path)/agents\nsleep 0.5")
    box.write(
      "suite.yaml", "name: lock\nagent: { subprocess: { command: [./slow.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let (process, out, err) = try box.launch(["run", "suite.yaml", "--db", box.db, "--run-id", "r-l", "--trials", "8"])
    for _ in 0..<500 where pids(in: box.path + "/agents").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
    let second = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--resume", "r-l"])
    #expect(second.code == 2 && second.stderr.contains("being run by another evalh"), "\(second.stderr)")
    #expect(!second.stderr.contains("UNIQUE"))
    kill(process.processIdentifier, SIGINT)
    _ = await finish(process, out, err)
    let resumed = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--resume", "r-l", "--no-progress"])
    #expect(resumed.code == 0, "\(resumed.stderr)")
    #expect(try ResultStore(path: box.db, create: false).trials(runID: "r-l").count == 8)
  }

  /// evalh dying of a fault (SIGSEGV, SIGABRT, SIGILL: what a trap raises) takes its agents with it.
  @Test(arguments: [SIGSEGV, SIGABRT, SIGILL])
  func noAgentOutlivesACrash(_ fault: Int32) async throws {
    let box = Sandbox()
    agent(box, "slow.sh", prints: #"{"output":"x"}"#, before: "echo $$ >> \(box.path)/agents\nsleep 100")
    box.write(
      "suite.yaml", "name: crash\nagent: { subprocess: { command: [./slow.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let (process, out, err) = try box.launch(["run", "suite.yaml", "--db", box.db, "--trials", "3", "--no-progress"])
    for _ in 0..<500 where pids(in: box.path + "/agents").count < 3 { try await Task.sleep(for: .milliseconds(10)) }
    #expect(pids(in: box.path + "/agents").count == 3)
    kill(process.processIdentifier, fault)
    _ = await finish(process, out, err)
    // The Swift runtime's backtracer, which evalh's handler hands the signal on to, may exit itself.
    #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus != 0)
    try await Task.sleep(for: .milliseconds(200))
    for pid in pids(in: box.path + "/agents") { #expect(isGone(pid), "agent \(pid) outlived evalh's \(fault)") }
    for pid in pids(in: box.path + "/agents") { kill(pid, SIGKILL) }
  }

  /// evalh killed with -9 cannot end its agents; the next run or resume does, before it starts.
  @Test func theNextRunEndsWhatAKilledEvalhLeft() async throws {
    let box = Sandbox()
    agent(box, "slow.sh", prints: #"{"output":"x"}"#, before: "echo $$ >> \(box.path)/agents\nsleep 100")
    box.write("suite.yaml", "name: k9\nagent: { subprocess: { command: [./slow.sh] } }\ntasks: [{ id: a, input: x }]\n")
    let (process, out, err) = try box.launch(["run", "suite.yaml", "--db", box.db, "--run-id", "r-k9", "--trials", "2"])
    for _ in 0..<500 where pids(in: box.path + "/agents").count < 2 { try await Task.sleep(for: .milliseconds(10)) }
    let strays = pids(in: box.path + "/agents")
    #expect(strays.count == 2)
    kill(process.processIdentifier, SIGKILL)
    let killed = Unchecked(value: process)
    await offPool { killed.value.waitUntilExit() }
    _ = (out, err)
    try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "evalh-r-k9-\(process.processIdentifier)")
    for pid in strays { #expect(!isGone(pid), "\(pid) should still run: nothing could end it yet") }
    agent(box, "slow.sh", prints: #"{"output":"x"}"#)
    let resumed = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--resume", "r-k9", "--no-progress"])
    #expect(resumed.code == 0, "\(resumed.stderr)")
    try await Task.sleep(for: .milliseconds(200))
    for pid in strays { #expect(isGone(pid), "\(pid), left by the killed evalh, still runs") }
    for pid in strays { kill(pid, SIGKILL) }
  }
}
