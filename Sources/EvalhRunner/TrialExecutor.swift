import EvalhAgents
import EvalhCore
import Foundation
import Synchronization

/// Runs one trial end to end: fresh working folder, the agent, the graders.
struct TrialExecutor: Sendable {
  let suite: Suite
  let runID: String
  let runSeed: Int64
  let keepFailed: Bool
  let interruption: Interruption
  /// The trials' working folders.
  let folders: WorkFolders
  /// Secrets from `${VAR}`: replaced in everything the trial stores.
  let redactor: Redactor
  /// Every agent's adapter, judges included, made once per run.
  let adapters: AgentAdapters

  /// The graded trial, or nil when evalh was interrupted before it ended (it is then not recorded).
  func run(_ key: TrialKeyRef, agent: AgentConfig, task: TaskSpec) async -> TrialRecord? {
    let seed = Seeds.trialSeed(runSeed: runSeed, agent: agent.name, taskID: task.id, trial: key.trial)
    let workdir = "\(folders.root)/\(agent.name)/\(task.id)/\(key.trial)"
    folders.make(workdir)
    if let fixture = task.fixture { copyFixture(fixture, into: workdir) }
    let request = AgentRequest(
      runID: runID, suite: suite.name, agent: agent.name, task: task, trial: key.trial, seed: seed, workdir: workdir)
    let timeout = task.timeout ?? suite.timeout
    let started = Date()
    guard let adapter = adapters[agent.name] else { return nil }
    let reply = await adapter.run(request, timeout: timeout, interruption: interruption)
    if case .interrupted = reply.outcome {
      folders.remove(workdir)
      return nil
    }
    var record = TrialRecord(
      runID: runID, agent: agent.name, taskID: task.id, trial: key.trial, status: .fail,
      latencyMs: reply.latencyMs, inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens,
      costUSD: reply.usage?.costUSD
        ?? agent.pricing?.cost(inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens),
      attempts: reply.attempts, seed: seed, outputJSON: reply.output.map { redactor.redact($0).compactText },
      stderrTail: reply.stderrTail.map(redactor.redact), stepsJSON: reply.steps.map { redactor.redact($0).compactText },
      truncated: reply.truncated, startedAt: started, finishedAt: started)

    switch reply.outcome {
    case .answered:
      await grade(&record, reply: reply, task: task, request: request)
    case .declaredError(let message):
      record.status = .error
      record.errorKind = .agentDeclared
      record.error = message
    case .contractError(let message):
      record.status = .error
      record.errorKind = .contract
      record.error = message
    case .exitError(let message):
      record.status = .error
      record.errorKind = .agentExit
      record.error = message
    case .transportError(let message):
      record.status = .error
      record.errorKind = .transport
      record.error = message
    case .timedOut:
      record.status = .timeout
      record.error = "no answer within \(Durations.format(timeout)); process group killed"
    case .interrupted:
      return nil
    }
    record.finishedAt = Date()
    record.error = record.error.map(redactor.redact)
    for i in record.grades.indices { record.grades[i].detail = record.grades[i].detail.map(redactor.redact) }
    if keepFailed && record.status != .pass {
      record.workdir = workdir
    } else {
      folders.remove(workdir)
    }
    return record
  }

  /// Applies every `expect` grader and `assure` check, and sets the status from them.
  func grade(_ record: inout TrialRecord, reply: AgentReply, task: TaskSpec, request: AgentRequest) async {
    let input = GradingInput(
      output: reply.output ?? .null, steps: reply.steps?.arrayValue ?? [], latencyMs: record.latencyMs,
      costUSD: record.costUSD, inputTokens: record.inputTokens, outputTokens: record.outputTokens)
    var grades: [Grade] = []
    var graderError: String?
    for grader in task.expect {
      if let g = Grading.grade(grader, input) {
        grades.append(g)
      } else if case .judge(let spec) = grader.kind {
        let verdict = await judge(spec, label: grader.label, output: reply.output ?? .null, request: request)
        if let cost = verdict.cost { record.judgeCostUSD = (record.judgeCostUSD ?? 0) + cost }
        switch verdict.grade {
        case .success(let g): grades.append(g)
        case .failure(let failure):
          graderError = graderError ?? failure.message
          grades.append(Grade(kind: .expect, grader: grader.label, passed: false, detail: failure.message))
        }
      } else if case .command(let spec) = grader.kind {
        switch await runCommand(spec, label: grader.label, kind: .expect, reply: reply, request: request) {
        case .success(let g): grades.append(g)
        case .failure(let failure):
          graderError = graderError ?? failure.message
          grades.append(Grade(kind: .expect, grader: grader.label, passed: false, detail: failure.message))
        }
      }
    }
    for check in task.assure {
      if let g = Grading.check(check, input) {
        grades.append(g)
      } else if case .command(let spec) = check.kind {
        switch await runCommand(spec, label: check.label, kind: .assure, reply: reply, request: request) {
        case .success(let g): grades.append(g)
        case .failure(let failure):
          graderError = graderError ?? failure.message
          grades.append(Grade(kind: .assure, grader: check.label, passed: false, detail: failure.message))
        }
      }
    }
    let expects = grades.filter { $0.kind == .expect }
    record.grades = grades
    record.efficacyPass = expects.allSatisfy(\.passed)
    record.efficacyScore = Statistics.mean(expects.map { $0.score ?? ($0.passed ? 1 : 0) })
    record.violations = grades.filter { $0.kind == .assure && !$0.passed }.count
    if let graderError {
      record.status = .error
      record.errorKind = .grader
      record.error = graderError
    } else {
      record.status = record.efficacyPass == true && record.violations == 0 ? .pass : .fail
    }
  }

  /// Asks a judge agent to score the output against the rubric; a judge that fails is a grader error.
  func judge(_ spec: JudgeSpec, label: String, output: JSONValue, request: AgentRequest) async
    -> (grade: Result<Grade, CommandGraderError>, cost: Double?)
  {
    guard let adapter = adapters[spec.agent], let judgeAgent = suite.agents.first(where: { $0.name == spec.agent }) else {
      return (.failure(CommandGraderError(message: "judge agent '\(spec.agent)' is not an agent of the suite")), nil)
    }
    var task = request.task
    task.input = .object(["rubric": .string(spec.rubric), "task_input": request.task.input, "output": output])
    let judgeRequest = AgentRequest(
      runID: runID, suite: suite.name, agent: spec.agent, task: task, trial: request.trial,
      seed: Seeds.trialSeed(runSeed: runSeed, agent: spec.agent, taskID: task.id, trial: request.trial),
      workdir: request.workdir)
    let timeout = spec.timeout ?? request.task.timeout ?? suite.timeout
    let reply = await adapter.run(judgeRequest, timeout: timeout, interruption: interruption)
    let cost = reply.usage?.costUSD
      ?? judgeAgent.pricing?.cost(inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens)
    func failed(_ why: String) -> (Result<Grade, CommandGraderError>, Double?) {
      (.failure(CommandGraderError(message: "judge '\(spec.agent)' \(why)")), cost)
    }
    switch reply.outcome {
    case .answered: break
    case .declaredError(let e): return failed("declared an error: \(e)")
    case .contractError(let e): return failed("broke the evalh/1 contract: \(e)")
    case .exitError(let e): return failed("failed: \(e)")
    case .transportError(let e): return failed("could not be reached: \(e)")
    case .timedOut: return failed("gave no score within \(Durations.format(timeout))")
    case .interrupted: return failed("was interrupted")
    }
    guard let (score, reason) = JudgeVerdict.parse(reply.output ?? .null) else {
      return failed("gave no score: expected a number in [0, 1] or {\"score\", \"reason\"}, got \(String((reply.output ?? .null).gradingText.prefix(200)))")
    }
    guard (0...1).contains(score) else { return failed("gave score \(JSONValue.format(number: score)), outside [0, 1]") }
    let passed = score >= spec.threshold
    var detail = "score \(JSONValue.format(number: score)) \(passed ? "≥" : "<") threshold \(JSONValue.format(number: spec.threshold))"
    if let reason, !reason.isEmpty { detail += ": \(reason)" }
    return (.success(Grade(kind: .expect, grader: label, passed: passed, score: score, detail: detail)), cost)
  }

  /// Copies the fixture folder's contents into the fresh working folder.
  func copyFixture(_ fixture: String, into workdir: String) {
    let fm = FileManager.default
    for item in (try? fm.contentsOfDirectory(atPath: fixture)) ?? [] {
      try? fm.copyItem(atPath: "\(fixture)/\(item)", toPath: "\(workdir)/\(item)")
    }
  }

  /// Runs an external grader: exit 0 passes, 1 fails, anything else is the grader's own error.
  func runCommand(_ spec: CommandSpec, label: String, kind: GradeKind, reply: AgentReply, request: AgentRequest) async
    -> Result<Grade, CommandGraderError>
  {
    var usage: [String: JSONValue] = [:]
    if let u = reply.usage {
      usage["input_tokens"] = u.inputTokens.map { .number(Double($0)) } ?? .null
      usage["output_tokens"] = u.outputTokens.map { .number(Double($0)) } ?? .null
      usage["cost_usd"] = u.costUSD.map { .number($0) } ?? .null
    }
    let trial: JSONValue = .object([
      "task": request.json["task"] ?? .null, "input": request.task.input, "output": reply.output ?? .null,
      "steps": reply.steps ?? .array([]), "usage": .object(usage), "trial": .number(Double(request.trial)),
      "workdir": .string(request.workdir),
    ])
    var environment = ProcessInfo.processInfo.environment
    environment.merge(request.environment) { _, new in new }
    let result = await ChildProcess.run(
      ChildSpec(
        argv: spec.argv, cwd: suite.folder, environment: environment, stdin: Array(trial.compactText.utf8),
        timeout: spec.timeout, maxStdout: 1 << 20),
      interruption: interruption)
    let stdout = String(decoding: result.stdout, as: UTF8.self)
    let verdict = JSONValue.parse(stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    let score = verdict?["score"]?.numberValue
    let reason = verdict?["reason"]?.stringValue
    switch result.termination {
    case .exited(0): return .success(Grade(kind: kind, grader: label, passed: true, score: score, detail: reason))
    case .exited(1):
      return .success(Grade(kind: kind, grader: label, passed: false, score: score, detail: reason ?? "\(label) exited 1"))
    case .exited(let code): return .failure(CommandGraderError(message: "grader \(label) exited \(code)"))
    case .signaled(let s): return .failure(CommandGraderError(message: "grader \(label) killed by \(ChildProcess.signalName(s))"))
    case .timedOut: return .failure(CommandGraderError(message: "grader \(label) timed out after \(Durations.format(spec.timeout))"))
    case .interrupted: return .failure(CommandGraderError(message: "grader \(label) interrupted"))
    case .failedToStart(let why): return .failure(CommandGraderError(message: "grader \(label): \(why)"))
    }
  }
}

/// A command grader that broke (the harness's side).
struct CommandGraderError: Error {
  let message: String
}

/// A trial's position in the plan.
struct TrialKeyRef: Sendable {
  let agent: String
  let taskID: String
  let trial: Int
}

/// The trials' working folders, under one root: every trial, subprocess or HTTP, gets a fresh one
/// (agent-protocol.md). A folder its trial left empty is kept as a spare and renamed into place for a
/// later trial instead of being removed and made again: on ext4 two renames cost about 15 µs against
/// 50 µs for rmdir and mkdir (measured alone; under a busy run, making directories was an eighth of
/// evalh's own time per subprocess trial).
final class WorkFolders: Sendable {
  let root: String
  private let spares = Mutex<[String]>([])
  private let named = Atomic<Int>(0)

  init(root: String) { self.root = root }

  /// An empty folder at `path`, whatever was there (a resumed run's leftover is removed).
  func make(_ path: String) {
    if let spare = spares.withLock({ $0.popLast() }) {
      if move(spare, to: path) { return }
      _ = rmdir(spare)
    }
    if mkdir(path, 0o755) == 0 { return }
    if errno == ENOENT { makeParent(of: path) } else { try? FileManager.default.removeItem(atPath: path) }
    _ = mkdir(path, 0o755)
  }

  /// Removes the trial's folder, or keeps it as a spare when the trial left it empty and as made.
  func remove(_ path: String) {
    if Self.isPristine(path) {
      let spare = "\(root)/.spare-\(named.add(1, ordering: .relaxed).newValue)"
      if rename(path, spare) == 0 {
        spares.withLock { $0.append(spare) }
        return
      }
    }
    if rmdir(path) == 0 || errno == ENOENT { return }
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Removes the spares (the root itself stays when failed trials' folders are kept).
  func removeSpares() {
    for spare in spares.withLock({ s in defer { s.removeAll() }; return s }) { _ = rmdir(spare) }
  }

  /// Renames `spare` to `path`, making the parent or clearing a leftover at `path` if need be.
  private func move(_ spare: String, to path: String) -> Bool {
    if rename(spare, path) == 0 { return true }
    switch errno {
    case ENOENT: makeParent(of: path)
    case ENOTEMPTY, EEXIST, EISDIR, ENOTDIR: try? FileManager.default.removeItem(atPath: path)
    default: return false
    }
    return rename(spare, path) == 0
  }

  private func makeParent(of path: String) {
    // The first trial of this agent and task: the parents are made once.
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
  }

  /// Empty, and with the mode it was made with (an agent may have changed it).
  static func isPristine(_ path: String) -> Bool {
    guard let dir = opendir(path) else { return false }
    defer { closedir(dir) }
    var info = stat()
    guard fstat(dirfd(dir), &info) == 0, info.st_mode & 0o7777 == 0o755 else { return false }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { return false }
    }
    return true
  }
}
