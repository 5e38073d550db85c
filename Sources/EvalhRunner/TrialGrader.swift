import EvalhAgents
import EvalhCore
import Foundation

/// Grades an answered trial: every `expect` grader and `assure` check, in process where it can,
/// and by running a command or asking a judge agent where it cannot. A grader that breaks is the
/// harness's side (a `grader` error), never the agent's.
struct TrialGrader: Sendable {
  let suite: Suite
  let runID: String
  let runSeed: Int64
  let interruption: Interruption
  /// Judges' adapters among them.
  let adapters: AgentAdapters

  /// Applies every grader and check, and sets the status from them.
  func grade(
    _ record: inout TrialRecord, reply: AgentReply, task: TaskSpec, request: AgentRequest,
    tools: TrialToolSession? = nil, calls: [ObservedCall]? = nil
  ) async {
    let (state, stateProblem) = tools?.finalState() ?? (nil, nil)
    let input = GradingInput(
      output: reply.output ?? .null, steps: reply.steps?.arrayValue ?? [], latencyMs: record.latencyMs,
      costUSD: record.costUSD, inputTokens: record.inputTokens, outputTokens: record.outputTokens, observed: calls,
      state: state, stateProblem: stateProblem)
    var grades: [Grade] = []
    var graderError: String?
    // In-process grading gets the task's timeout; past it (or at Ctrl-C) the trial is a grader error.
    let timeout = task.timeout ?? suite.timeout
    let budget = GradingBudget(seconds: timeout, interruption: interruption)
    let outcomes = GradingBudget.$current.withValue(budget) {
      task.expect.map { (label: $0.label, kind: GradeKind.expect, outcome: Grading.grade($0, input)) }
        + task.assure.map { (label: $0.label, kind: GradeKind.assure, outcome: Grading.check($0, input)) }
    }
    if budget.isSpent {
      graderError =
        interruption.isTriggered
        ? "grading was interrupted"
        : "in-process graders took longer than \(Durations.format(timeout)) (a catastrophic regular expression?)"
    }
    for (label, kind, outcome) in outcomes {
      switch outcome {
      case .graded(let g):
        grades.append(g)
      case .notEvaluated:
        break
      case .external(let external):
        let (result, judgeCost) = await run(
          external, label: label, kind: kind, reply: reply, request: request, tools: tools)
        if let judgeCost { record.judgeCostUSD = (record.judgeCostUSD ?? 0) + judgeCost }
        switch result {
        case .success(let g): grades.append(g)
        case .failure(let failure):
          graderError = graderError ?? failure.message
          grades.append(Grade(kind: kind, grader: label, passed: false, detail: failure.message))
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

  /// Runs a grader that lives outside the process; returns its grade and what a judge cost.
  func run(
    _ external: ExternalGrader, label: String, kind: GradeKind, reply: AgentReply, request: AgentRequest,
    tools: TrialToolSession?
  ) async -> (Result<Grade, GraderFailure>, judgeCost: Double?) {
    switch external {
    case .command(let spec):
      return (
        await runCommand(spec, label: label, kind: kind, reply: reply, request: request, statePath: tools?.statePath),
        nil
      )
    case .judge(let spec):
      return await judge(spec, label: label, output: reply.output ?? .null, request: request)
    case .toolResult(let spec):
      return (await toolResult(spec, label: label, tools: tools), nil)
    }
  }

  /// Calls a tool after the agent finished (outside the trajectory) and checks its result.
  func toolResult(_ spec: ToolResultCheck, label: String, tools: TrialToolSession?) async
    -> Result<Grade, GraderFailure>
  {
    guard let tools else { return .failure(GraderFailure(message: "tool_result: the trial served no tools")) }
    let (answer, problem) = await tools.tools.callOutsideTrajectory(spec.call, arguments: spec.arguments)
    switch (answer, problem) {
    case (.unknownTool(let message), _):
      return .failure(GraderFailure(message: "tool_result: \(message)"))
    case (.result(let value, _), .some):
      return .failure(GraderFailure(message: "tool_result call to '\(spec.call)' failed: \(value.gradingText)"))
    case (.result(let value, let isError), nil):
      if isError {
        return .success(
          Grade(
            kind: .expect, grader: label, passed: false,
            detail: "'\(spec.call)' answered an error: \(value.gradingText.prefix(200))"))
      }
      let (passed, detail) = Grading.evaluate(spec.check, on: value)
      return .success(
        Grade(kind: .expect, grader: label, passed: passed, detail: passed ? nil : "\(spec.call): \(detail)"))
    default:
      // Calls outside the trajectory meet no fault: no other answer comes back.
      return .failure(GraderFailure(message: "tool_result call to '\(spec.call)' got no result"))
    }
  }

  /// Asks a judge agent to score the output against the rubric; a judge that fails is a grader error.
  func judge(_ spec: JudgeSpec, label: String, output: JSONValue, request: AgentRequest) async
    -> (Result<Grade, GraderFailure>, judgeCost: Double?)
  {
    guard let adapter = adapters[spec.agent], let judgeAgent = suite.agents.first(where: { $0.name == spec.agent })
    else {
      return (.failure(GraderFailure(message: "judge agent '\(spec.agent)' is not an agent of the suite")), nil)
    }
    var task = request.task
    task.input = .object(["rubric": .string(spec.rubric), "task_input": request.task.input, "output": output])
    let judgeRequest = AgentRequest(
      runID: runID, suite: suite.name, agent: spec.agent, task: task, trial: request.trial,
      seed: Seeds.trialSeed(runSeed: runSeed, agent: spec.agent, taskID: task.id, trial: request.trial),
      workdir: request.workdir)
    let timeout = spec.timeout ?? request.task.timeout ?? suite.timeout
    let reply = await adapter.run(judgeRequest, timeout: timeout, interruption: interruption)
    let cost =
      reply.usage?.costUSD
      ?? judgeAgent.pricing?.cost(inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens)
    func failed(_ why: String) -> (Result<Grade, GraderFailure>, Double?) {
      (.failure(GraderFailure(message: "judge '\(spec.agent)' \(why)")), cost)
    }
    switch reply.outcome {
    case .answered: break
    case .declaredError(let e): return failed("declared an error: \(e)")
    case .contractError(let e): return failed("broke the evalh/1 contract: \(e)")
    case .exitError(let e): return failed("failed: \(e)")
    case .transportError(let e): return failed("could not be reached: \(e)")
    case .timedOut: return failed("gave no score within \(Durations.format(timeout))")
    case .interrupted: return failed("was interrupted")
    case .harnessError(let e): return failed("could not be run: \(e)")
    }
    guard let (score, reason) = JudgeVerdict.parse(reply.output ?? .null) else {
      let got = String((reply.output ?? .null).gradingText.prefix(200))
      return failed("gave no score: expected a number in [0, 1] or {\"score\", \"reason\"}, got \(got)")
    }
    guard (0...1).contains(score) else {
      return failed("gave score \(JSONValue.format(number: score)), outside [0, 1]")
    }
    let passed = score >= spec.threshold
    var detail =
      "score \(JSONValue.format(number: score)) \(passed ? "≥" : "<") threshold \(JSONValue.format(number: spec.threshold))"
    if let reason, !reason.isEmpty { detail += ": \(reason)" }
    return (.success(Grade(kind: .expect, grader: label, passed: passed, score: score, detail: detail)), cost)
  }

  /// Runs an external grader: exit 0 passes, 1 fails, anything else is the grader's own error.
  func runCommand(
    _ spec: CommandSpec, label: String, kind: GradeKind, reply: AgentReply, request: AgentRequest,
    statePath: String? = nil
  ) async -> Result<Grade, GraderFailure> {
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
    environment["EVALH_STATE"] = statePath
    let result = await ChildProcess.run(
      ChildSpec(
        argv: spec.argv, cwd: suite.folder, environment: environment, stdin: Array(trial.compactText.utf8),
        timeout: spec.timeout, maxStdout: 1 << 20),
      interruption: interruption)
    let stdout = String(decoding: result.stdout, as: UTF8.self)
    let verdict = JSONValue.parse(stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    let score = verdict?["score"]?.numberValue
    let reason = verdict?["reason"]?.stringValue
    func failed(_ why: String) -> Result<Grade, GraderFailure> {
      .failure(GraderFailure(message: "grader \(label)\(why)"))
    }
    switch result.termination {
    case .exited(0): return .success(Grade(kind: kind, grader: label, passed: true, score: score, detail: reason))
    case .exited(1):
      return .success(
        Grade(kind: kind, grader: label, passed: false, score: score, detail: reason ?? "\(label) exited 1"))
    case .exited(let code): return failed(" exited \(code)")
    case .signaled(let s): return failed(" killed by \(signalName(s))")
    case .timedOut: return failed(" timed out after \(Durations.format(spec.timeout))")
    case .interrupted: return failed(" interrupted")
    case .failedToStart(let why), .harnessFailure(let why): return failed(": \(why)")
    }
  }
}

/// A grader that broke (the harness's side): the trial is a `grader` error.
struct GraderFailure: Error {
  let message: String
}
