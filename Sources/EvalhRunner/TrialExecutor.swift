import EvalhAgents
import EvalhCore
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

  init(
    suite: Suite, runID: String, runSeed: Int64, keepFailed: Bool, interruption: Interruption, folders: WorkFolders,
    redactor: Redactor, adapters: AgentAdapters
  ) {
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

  /// The graded trial, or nil when evalh was interrupted before it ended (it is then not recorded).
  func run(_ key: TrialKeyRef, agent: AgentConfig, adapter: any AgentAdapter, task: TaskSpec) async -> TrialRecord? {
    let seed = Seeds.trialSeed(runSeed: runSeed, agent: agent.name, taskID: task.id, trial: key.trial)
    let workdir = folders.path(agent: agent.name, task: task.id, trial: key.trial)
    folders.make(workdir)
    if let fixture = task.fixture { Fixture.copy(fixture, into: workdir) }
    let request = AgentRequest(
      runID: runID, suite: suite.name, agent: agent.name, task: task, trial: key.trial, seed: seed, workdir: workdir)
    let timeout = task.timeout ?? suite.timeout
    let started = Date()
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
      await grader.grade(&record, reply: reply, task: task, request: request)
    case .timedOut:
      record.status = .timeout
      let ended = if case .subprocess = agent.adapter { "; process group killed" } else { "" }
      record.error = "no answer within \(Durations.format(timeout))\(ended)"
    case .declaredError, .contractError, .exitError, .transportError, .interrupted:
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
    return record
  }

}

/// A trial's position in the plan.
struct TrialKeyRef: Sendable {
  let agent: String
  let taskID: String
  let trial: Int
}
