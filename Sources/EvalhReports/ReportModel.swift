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
    let violations = try store.violationsByCheck(runID: run.id)
    let planned = run.plan.plannedByTask
    let targets = MetricTargets(config: JSONValue.parse(run.configJSON) ?? .null)
    let names = run.plan.agents.isEmpty ? facts.keys.sorted() : run.plan.agents
    return RunReport(
      run: run,
      agents: names.map {
        AgentReport(
          AgentMetrics(
            agent: $0, trials: facts[$0] ?? [], planned: planned, targets: targets,
            violationsByCheck: violations[$0] ?? []))
      })
  }
}

/// One agent's metrics, as renderers consume them.
public struct AgentReport: Sendable {
  public var metrics: AgentMetrics

  public init(_ metrics: AgentMetrics) { self.metrics = metrics }

  /// Tasks worst first: lowest success rate, then lowest pass^n, then id.
  public var tasksWorstFirst: [TaskMetrics] {
    metrics.tasks.sorted {
      ($0.successRate, $0.passHatN, $0.taskID) < ($1.successRate, $1.passHatN, $1.taskID)
    }
  }
}
