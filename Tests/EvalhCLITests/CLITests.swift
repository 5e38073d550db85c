import EvalhStore
import Foundation
import GRDB
import Synchronization
import Testing

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The built binaries (`make test` builds before testing; the test target depends on them too).
let evalhBinary = ProcessInfo.processInfo.environment["EVALH_BIN"] ?? packageRoot + "/.build/debug/evalh"
let exampleAgent = packageRoot + "/.build/debug/example-agent"

struct Output {
  var stdout: String
  var stderr: String
  var code: Int32
}

final class Sandbox: Sendable {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "evalh-cli-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  var db: String { path + "/results.sqlite" }

  func write(_ name: String, _ text: String, executable: Bool = false) {
    let file = "\(path)/\(name)"
    unlink(file)
    let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0o755 : 0o644)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }

  /// A tiny suite over a deterministic shell agent (answer from the seed; `delay` seconds per trial).
  func tinySuite(trials: Int = 3, delay: String = "0", tasks: Int = 3) -> String {
    write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      sleep \(delay)
      if [ $((EVALH_SEED % 4)) -eq 0 ]; then out=no; else out=yes; fi
      echo "{\\"output\\":\\"$out\\",\\"usage\\":{\\"input_tokens\\":10,\\"output_tokens\\":2}}"
      """, executable: true)
    var yaml = """
      name: tiny
      trials: \(trials)
      concurrency: 2
      agent:
        subprocess: { command: [./agent.sh] }
      tasks:

      """
    for i in 1...tasks {
      yaml += "  - { id: task-\(i), input: question \(i), expect: [{ equals: \"yes\" }] }\n"
    }
    write("suite.yaml", yaml)
    return path + "/suite.yaml"
  }

  /// Starts evalh without waiting.
  func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: evalhBinary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: path)
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return (process, out, err)
  }

  /// Runs evalh to completion. The waiting happens on a thread of its own: tests run side by side
  /// on the cooperative pool (two threads here), and blocking it would starve the async tests.
  /// At most `ProcessSlots.width` of these run at once, so a 2-core machine is not handed dozens of
  /// evalh processes together (their scheduling delays then pass the timeouts other tests rely on).
  func evalh(_ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
    await ProcessSlots.shared.acquire()
    defer { ProcessSlots.shared.release() }
    let (process, out, err) = try launch(arguments, environment: environment)
    let running = Unchecked(value: (process, out, err))
    return await offPool {
      let (process, out, err) = running.value
      let stdout = out.fileHandleForReading.readDataToEndOfFile()
      let stderr = err.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return Output(
        stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
        code: process.terminationStatus)
    }
  }
}

/// A counting semaphore for the async tests: waiting suspends, never blocks a thread of the pool.
final class ProcessSlots: Sendable {
  static let width = 4
  static let shared = ProcessSlots()
  private let state = Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>((width, []))

  func acquire() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let granted = state.withLock { state -> Bool in
        guard state.free > 0 else {
          state.waiting.append(continuation)
          return false
        }
        state.free -= 1
        return true
      }
      if granted { continuation.resume() }
    }
  }

  func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      if state.waiting.isEmpty {
        state.free += 1
        return nil
      }
      return state.waiting.removeFirst()
    }
    next?.resume()
  }
}

/// A value handed to another thread that the compiler cannot prove safe to share (a Process and its pipes,
/// used by one thread at a time).
struct Unchecked<T>: @unchecked Sendable {
  let value: T
}

/// Runs blocking work on a thread of its own and awaits its result.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    let thread = Thread { continuation.resume(returning: work()) }
    thread.start()
  }
}

func parseJSON(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite struct CLITests {
  @Test func runPrintsTheSummaryAndRecordsEveryTrial() async throws {
    let box = Sandbox()
    let suite = box.tinySuite()
    let out = try await box.evalh(["run", suite, "--db", box.db, "--seed", "3", "--label", "ci", "--run-id", "r-e2e"])
    #expect(out.code == 0, "\(out.stderr)")
    #expect(out.stdout.contains("run r-e2e · suite tiny · completed · label ci · seed 3"))
    #expect(out.stdout.contains("agent default — 3 tasks × 3 trials (9 trials, 0 errors)"))
    #expect(out.stdout.contains("first run"))
    #expect(out.stdout.contains("sustained (pass^3)"))
    #expect(!out.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    // Progress goes to stderr, never stdout.
    #expect(out.stderr.contains("9/9 trials"))
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.recordedKeys(runID: "r-e2e").count == 9)
    let run = try #require(try store.run(id: "r-e2e"))
    #expect(run.status == .completed && run.seed == 3 && run.label == "ci" && run.trials == 3)
    #expect(run.finishedAt != nil && run.evalhVersion == "0.1.0")
  }

  @Test func jsonSummaryHasTheReportShape() async throws {
    let box = Sandbox()
    let out = try await box.evalh(["run", box.tinySuite(), "--db", box.db, "--seed", "9", "--json", "--no-progress"])
    #expect(out.code == 0)
    let json = try parseJSON(out.stdout)
    let run = try #require(json["run"] as? [String: Any])
    #expect(
      Set(run.keys).isSuperset(of: ["id", "suite", "label", "status", "started_at", "finished_at", "seed", "trials"]))
    let agents = try #require(json["agents"] as? [[String: Any]])
    let metrics = try #require(agents.first?["metrics"] as? [String: Any])
    for key in [
      "success_rate", "first_run_success", "sustained_success", "reliability_cliff", "consistency", "pass_hat_k",
      "pass_at_k", "latency_ms", "errors",
    ] {
      #expect(metrics[key] != nil, "metrics.\(key)")
    }
    #expect((metrics["pass_hat_k"] as? [String: Any])?.keys.sorted() == ["1", "2", "3"])
    #expect(out.stderr.isEmpty == false)  // the run line
    #expect(!out.stderr.contains("trials  pass"), "--no-progress")
  }

  @Test func invalidSuiteExitsTwoAndRecordsNothing() async throws {
    let box = Sandbox()
    box.write(
      "bad.yaml", "name: bad\nagent:\n  subprocess: { command: [sh] }\ntasks:\n  - id: a\n    input: x\n    expct: []\n"
    )
    let out = try await box.evalh(["run", "bad.yaml", "--db", box.db])
    #expect(out.code == 2)
    #expect(out.stderr.contains("bad.yaml:7:5: unknown key 'expct' in a task (did you mean 'expect'?)"))
    #expect(!FileManager.default.fileExists(atPath: box.db))
    let validate = try await box.evalh(["validate", "bad.yaml"])
    #expect(validate.code == 2 && validate.stderr.contains("bad.yaml:7:5"))
    let ok = try await box.evalh(["validate", box.tinySuite()])
    #expect(ok.code == 0 && ok.stdout == "ok: 3 tasks × 1 agents\n")
  }

  @Test func exitCodesForBadInput() async throws {
    let box = Sandbox()
    #expect(try await box.evalh(["run"]).code == 2)
    #expect(try await box.evalh(["run", box.tinySuite(), "--trials", "0"]).code == 2)
    #expect(try await box.evalh(["frobnicate"]).code == 2)
    let missing = try await box.evalh(["runs", "--db", box.db])
    #expect(missing.code == 2 && missing.stderr.contains("no results database"))
    _ = try await box.evalh(["run", box.tinySuite(), "--db", box.db, "--run-id", "r-x"])
    let unknown = try await box.evalh(["show", "r-nope", "--db", box.db])
    #expect(unknown.code == 2 && unknown.stderr.contains("no run 'r-nope'"))
    let again = try await box.evalh(["run", box.tinySuite(), "--db", box.db, "--run-id", "r-x"])
    #expect(again.code == 2 && again.stderr.contains("already exists"))
    let version = try await box.evalh(["--version"])
    #expect(version.code == 0 && version.stdout == "0.1.0\n")
    // A folder as the database, and a merge into one of its own inputs, say so plainly.
    let folder = try await box.evalh(["run", box.tinySuite(), "--db", box.path])
    #expect(folder.code == 3 && folder.stderr.contains("is a folder: name the database file"), "\(folder.stderr)")
    let itself = try await box.evalh(["merge", "--into", box.db, box.path + "/./results.sqlite"])
    #expect(itself.code == 2 && itself.stderr.contains("is the database merged into"), "\(itself.stderr)")
  }

  @Test func newerDatabaseIsRefusedWithExitThree() async throws {
    let box = Sandbox()
    let suite = box.tinySuite()
    _ = try await box.evalh(["run", suite, "--db", box.db])
    // Simulate a newer evalh having written the file.
    try await DatabaseQueue(path: box.db).write { try $0.execute(sql: "PRAGMA user_version = 99") }
    let before = try Data(contentsOf: URL(fileURLWithPath: box.db))
    let out = try await box.evalh(["run", suite, "--db", box.db])
    #expect(out.code == 3 && out.stderr.contains("newer than this evalh"))
    let report = try await box.evalh(["report", "--db", box.db])
    #expect(report.code == 3)
    #expect(try Data(contentsOf: URL(fileURLWithPath: box.db)) == before)
  }

  @Test func showRunsAndReport() async throws {
    let box = Sandbox()
    _ = try await box.evalh(["run", box.tinySuite(), "--db", box.db, "--run-id", "r-show", "--seed", "1"])
    let grid = try await box.evalh(["show", "r-show", "--db", box.db])
    #expect(grid.code == 0)
    #expect(grid.stdout.contains("agent default"))
    #expect(
      grid.stdout.range(of: #"task-1\s+[✓✗] [✓✗] [✓✗]  \d/3"#, options: .regularExpression) != nil, "\(grid.stdout)")
    let detail = try await box.evalh(["show", "latest", "--task", "task-2", "--trial", "2", "--db", box.db])
    #expect(detail.code == 0)
    #expect(detail.stdout.contains("default · task-2 · trial 2:"))
    #expect(detail.stdout.contains("expect  "))
    #expect(detail.stdout.contains("usage:     10 in, 2 out"))
    let noTask = try await box.evalh(["show", "latest", "--task", "nope", "--db", box.db])
    #expect(noTask.code == 2)
    let runs = try await box.evalh(["runs", "--db", box.db])
    #expect(
      runs.code == 0 && runs.stdout.contains("r-show") && runs.stdout.contains("completed")
        && runs.stdout.contains("9/9"))
    let runsJSON = try JSONSerialization.jsonObject(
      with: Data(try await box.evalh(["runs", "--json", "--db", box.db]).stdout.utf8))
    #expect((runsJSON as? [[String: Any]])?.first?["id"] as? String == "r-show")
    let report = try await box.evalh(["report", "latest", "--format", "json", "--db", box.db])
    #expect(try parseJSON(report.stdout)["run"] != nil)
    let file = box.path + "/report.txt"
    #expect(try await box.evalh(["report", "r-show", "--output", file, "--db", box.db]).code == 0)
    #expect(try String(contentsOfFile: file, encoding: .utf8).contains("first run"))
  }

  @Test func twoProcessesOnOneDatabaseBothComplete() async throws {
    let box = Sandbox()
    let suite = box.tinySuite(trials: 10, delay: "0.01", tasks: 4)
    let a = try box.launch(["run", suite, "--db", box.db, "--run-id", "r-a", "--concurrency", "4"])
    let b = try box.launch(["run", suite, "--db", box.db, "--run-id", "r-b", "--concurrency", "4"])
    for (p, out, _) in [a, b] {
      let running = Unchecked(value: (p, out))
      let status = await offPool {
        _ = running.value.1.fileHandleForReading.readDataToEndOfFile()
        running.value.0.waitUntilExit()
        return running.value.0.terminationStatus
      }
      #expect(status == 0)
    }
    let store = try ResultStore(path: box.db, create: false)
    #expect(try store.recordedKeys(runID: "r-a").count == 40)
    #expect(try store.recordedKeys(runID: "r-b").count == 40)
  }
}

@Suite struct OutputConventionTests {
  @Test func colourFollowsNoColorAndForceColor() async throws {
    let box = Sandbox()
    _ = box.tinySuite(trials: 2, tasks: 1)
    #expect(try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"]).code == 0)
    func coloured(_ env: [String: String]) async throws -> Bool {
      // Whatever this machine's environment says, each case sets all three.
      let base = ["NO_COLOR": "", "FORCE_COLOR": "", "CLICOLOR_FORCE": ""]
      let all = base.merging(env) { _, new in new }
      return try await box.evalh(["report", "--db", box.db], environment: all).stdout.contains("\u{1B}[")
    }
    // stdout is a pipe here: no colour unless forced; an empty NO_COLOR does not turn it off.
    #expect(try await !coloured(["NO_COLOR": "", "FORCE_COLOR": "", "CLICOLOR_FORCE": ""]))
    #expect(try await coloured(["FORCE_COLOR": "1"]))
    #expect(try await coloured(["CLICOLOR_FORCE": "1", "NO_COLOR": ""]))
    #expect(try await !coloured(["FORCE_COLOR": "1", "NO_COLOR": "1"]))
    #expect(try await !coloured(["FORCE_COLOR": "0"]))
  }

  @Test func runsColumnsNeverRunTogether() async throws {
    let box = Sandbox()
    _ = box.tinySuite(trials: 2, tasks: 1)
    let id = "r-a-rather-long-run-id-for-the-column"
    #expect(try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", id, "--no-progress"]).code == 0)
    let lines = try await box.evalh(["runs", "--db", box.db]).stdout.split(separator: "\n")
    let row = try #require(lines.first { $0.hasPrefix(id) })
    #expect(row.hasPrefix(id + "  "), "\(row)")
    #expect(row.contains("2/2  "), "\(row)")
    // The header's columns start where the row's do.
    let header = try #require(lines.first)
    #expect(
      header.range(of: "suite")?.lowerBound.utf16Offset(in: header)
        == row.range(of: "tiny")?.lowerBound.utf16Offset(in: row))
  }

  @Test func exampleAgentHelpPrintsUsageAndServesNothing() async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: exampleAgent)
    process.arguments = ["serve", "--help"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let text = await offPool { String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(text.contains("example-agent serve [--port N]"))
  }
}
