import EvalhAgents
import EvalhCore
import EvalhTools
import Foundation

/// Runs one trial end to end: a fresh working folder, the agent, then its grading.
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
  /// Grades answered trials (judges and commands included).
  let grader: TrialGrader
  /// The run's tool server, when the suite serves tools.
  let toolServer: ToolServer?
  /// Where each trial's tool state folder is made: beside the working folders, never inside one.
  let stateRoot: String

  init(
    suite: Suite, runID: String, runSeed: Int64, keepFailed: Bool, interruption: Interruption, folders: WorkFolders,
    redactor: Redactor, adapters: AgentAdapters, toolServer: ToolServer? = nil
  ) {
    self.toolServer = toolServer
    stateRoot = folders.root + "-state"
    self.suite = suite
    self.runID = runID
    self.runSeed = runSeed
    self.keepFailed = keepFailed
    self.interruption = interruption
    self.folders = folders
    self.redactor = redactor
    self.adapters = adapters
    grader = TrialGrader(suite: suite, runID: runID, runSeed: runSeed, interruption: interruption, adapters: adapters)
  }

  /// How a trial ended for the runner.
  enum End: Sendable {
    /// Graded: to be recorded.
    case recorded(TrialRecord)
    /// evalh was interrupted before it ended: not recorded (a resume runs it).
    case interrupted
    /// evalh itself could not run it: not recorded, and the run stops (exit 3).
    case harness(String)
  }

  /// Runs the trial under `condition` and grades it.
  func run(
    _ key: TrialKeyRef, agent: AgentConfig, adapter: any AgentAdapter, task: TaskSpec,
    condition: Condition = .clean
  ) async -> End {
    // The same seed under every condition: an agent's own randomness is paired across them too.
    let seed = Seeds.trialSeed(runSeed: runSeed, agent: agent.name, taskID: task.id, trial: key.trial)
    let workdir = folders.path(agent: agent.name, condition: key.condition, task: task.id, trial: key.trial)
    if let failure = folders.make(workdir) { return .harness(failure) }
    if let fixture = task.fixture { Fixture.copy(fixture, into: workdir) }
    // The input this trial receives: its variant, then the condition's perturbation.
    let (chosen, variant) = task.input(forTrial: key.trial)
    var received = task
    received.input = condition.perturb.apply(
      to: chosen, runSeed: runSeed, condition: condition.name, task: task.id, trial: key.trial)
    var request = AgentRequest(
      runID: runID, suite: suite.name, agent: agent.name, task: received, trial: key.trial, seed: seed,
      workdir: workdir)
    request.condition = condition.name
    var session: TrialToolSession?
    let timeout = task.timeout ?? suite.timeout
    let started = Date()
    if !task.tools.isEmpty, let toolServer {
      let faults = condition.faults.rules.isEmpty ? nil : condition.faults
      switch await TrialToolSession.open(
        task.tools, server: toolServer, stateRoot: stateRoot, key: key, seed: seed, timeout: timeout,
        faults: faults, runSeed: runSeed)
      {
      case .success(let opened): session = opened
      case .failure(.harness(let why)):
        folders.remove(workdir)
        return .harness(why)
      case .failure(.suite(let why)):
        // The suite's servers did not come up: nothing about the agent was measured.
        folders.remove(workdir)
        var record = TrialRecord(
          runID: runID, agent: agent.name, taskID: task.id, trial: key.trial, status: .error, errorKind: .tool,
          error: redactor.redact(why), latencyMs: 0, seed: seed, startedAt: started, finishedAt: Date())
        record.condition = condition.name
        return .recorded(record)
      }
      request.tools = session?.served
    }
    var end = await run(request, agent: agent, adapter: adapter, task: task, session: session, started: started)
    if case .recorded(var record) = end {
      record.condition = condition.name
      record.variant = task.variants.isEmpty ? nil : variant
      if received.input != task.input { record.inputJSON = redactor.redact(received.input).compactText }
      end = .recorded(record)
    }
    // After grading: `tool_result` graders call the trial's servers.
    await session?.finish()
    return end
  }

  /// The agent's exchange and its grading, once the trial's tools are up.
  func run(
    _ request: AgentRequest, agent: AgentConfig, adapter: any AgentAdapter, task: TaskSpec,
    session: TrialToolSession?, started: Date
  ) async -> End {
    let workdir = request.workdir
    let seed = request.seed
    let key = TrialKeyRef(agent: agent.name, taskID: task.id, trial: request.trial)
    let timeout = task.timeout ?? suite.timeout
    let reply = await adapter.run(request, timeout: timeout, interruption: interruption)
    let toolsEnd = await session?.close()
    switch reply.outcome {
    case .interrupted:
      folders.remove(workdir)
      return .interrupted
    case .harnessError(let why):
      folders.remove(workdir)
      return .harness(why)
    default: break
    }
    var record = TrialRecord(
      runID: runID, agent: agent.name, taskID: task.id, trial: key.trial, status: .fail,
      latencyMs: reply.latencyMs, inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens,
      costUSD: reply.usage?.costUSD
        ?? agent.pricing?.cost(inputTokens: reply.usage?.inputTokens, outputTokens: reply.usage?.outputTokens),
      attempts: reply.attempts, seed: seed,
      outputJSON: reply.output.map { redacted($0, cut: reply.truncated).compactText },
      stderrTail: reply.stderrTail.map {
        redactor.redact($0, cutBefore: $0.utf8.count >= (64 << 10) - 3, cutAfter: false)
      },
      stepsJSON: reply.steps.map { redactor.redact($0).compactText },
      truncated: reply.truncated, startedAt: started, finishedAt: started)

    if let toolsEnd {
      record.toolCalls = toolsEnd.calls.map { call in
        var call = call
        call.arguments = redactor.redact(call.arguments)
        call.result = call.result.map(redactor.redact)
        return call
      }
      record.phantomCalls =
        ObservedCall.phantoms(reported: reply.steps?.arrayValue ?? [], observed: toolsEnd.calls).count
    }
    switch reply.outcome {
    case _ where toolsEnd?.failure != nil:
      // The suite's tool broke: whatever the agent did next, the trial says nothing about the agent.
      record.status = .error
      record.errorKind = .tool
      record.error = toolsEnd?.failure
    case .answered:
      await grader.grade(&record, reply: reply, task: task, request: request, tools: session, calls: toolsEnd?.calls)
    case .timedOut:
      record.status = .timeout
      let ended = if case .subprocess = agent.adapter { "; process group killed" } else { "" }
      record.error = "no answer within \(Durations.format(timeout))\(ended)"
    case .declaredError, .contractError, .exitError, .transportError, .interrupted, .harnessError:
      record.status = .error
      record.errorKind = reply.outcome.errorKind
      record.error = reply.outcome.message
    }
    record.finishedAt = Date()
    record.error = record.error.map(redactor.redact)
    for i in record.grades.indices { record.grades[i].detail = record.grades[i].detail.map(redactor.redact) }
    if keepFailed && record.status != .pass {
      record.workdir = workdir
    } else {
      folders.remove(workdir)
    }
    return .recorded(record)
  }

  /// The output redacted; a cut output (the raw text of a truncated envelope) also at its cut edge.
  func redacted(_ output: JSONValue, cut: Bool) -> JSONValue {
    if cut, case .string(let text) = output { return .string(redactor.redact(text, cutBefore: false, cutAfter: true)) }
    return redactor.redact(output)
  }
}

/// A trial's position in the plan.
struct TrialKeyRef: Sendable {
  let agent: String
  var condition = Condition.defaultName
  let taskID: String
  let trial: Int
}
