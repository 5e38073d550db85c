import EvalhCore
import EvalhStore
import Foundation

/// Everything a run report shows, computed from the database alone.
public struct RunReport: Sendable {
  public var run: RunRecord
  public var agents: [AgentReport]

  public init(run: RunRecord, agents: [AgentReport]) {
    self.run = run
    self.agents = agents
  }

  /// Builds the report of `run` from `store`.
  public static func load(_ run: RunRecord, from store: ResultStore) throws(StoreError) -> RunReport {
    let facts = try store.trialFacts(runID: run.id)
    let planned = run.plan.plannedByTask
    let names = run.plan.agents.isEmpty ? facts.keys.sorted() : run.plan.agents
    return RunReport(
      run: run,
      agents: names.map { AgentReport(AgentMetrics(agent: $0, trials: facts[$0] ?? [], planned: planned)) })
  }
}

/// One agent's metrics with their intervals.
public struct AgentReport: Sendable {
  public var metrics: AgentMetrics
  /// Bootstrap intervals over tasks of the suite-level means.
  public var successInterval: (low: Double, high: Double)?
  public var firstRunInterval: (low: Double, high: Double)?
  public var sustainedInterval: (low: Double, high: Double)?

  public init(_ metrics: AgentMetrics) {
    self.metrics = metrics
    let measured = metrics.tasks.filter { $0.trials > 0 }
    successInterval = Statistics.bootstrapMeanInterval(measured.map(\.successRate))
    firstRunInterval = Statistics.bootstrapMeanInterval(measured.map { $0.firstRun ? 1 : 0 })
    let k = metrics.nMin
    sustainedInterval = k == 0 ? nil : Statistics.bootstrapMeanInterval(
      measured.map { Statistics.passHatK(n: $0.trials, c: $0.passes, k: k) })
  }

  /// Tasks worst first: lowest success rate, then lowest pass^n, then id.
  public var tasksWorstFirst: [TaskMetrics] {
    metrics.tasks.sorted {
      ($0.successRate, $0.passHatN, $0.taskID) < ($1.successRate, $1.passHatN, $1.taskID)
    }
  }
}
