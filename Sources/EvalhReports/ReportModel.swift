import EvalhCore
import EvalhStore
import Foundation
import Synchronization

/// Everything a run report shows, computed from the database alone.
public struct RunReport: Sendable {
  public var run: RunRecord
  public var agents: [AgentReport]

  public init(run: RunRecord, agents: [AgentReport]) {
    self.run = run
    self.agents = agents
  }

  /// Builds the report of `run` from `store`.
  /// `bootstrapResamples` 0 skips the intervals, `violationsByCheck` false the per-check counts
  /// (compare needs neither). `eachRow`, when given, sees every trial of agent `agents(of:)[i]` as it
  /// is read (export writes trials.csv from the same scan); it is called from one thread per agent.
  public static func load(
    _ run: RunRecord, from store: ResultStore, bootstrapResamples: Int = 2000, violationsByCheck: Bool = true,
    eachRow: (@Sendable (_ agent: Int, borrowing StoredTrialRow) -> Void)? = nil
  ) throws(StoreError) -> RunReport {
    let planned = run.plan.plannedByTask
    let targets = MetricTargets(config: JSONValue.parse(run.configJSON) ?? .null)
    let names = try agents(of: run, in: store)
    // Agents are read and measured side by side, each on its own reader: a large run uses every core.
    let results = Mutex([Result<AgentReport, StoreError>?](repeating: nil, count: names.count))
    DispatchQueue.concurrentPerform(iterations: names.count) { i in
      var agentRows: (@Sendable (borrowing StoredTrialRow) -> Void)? = nil
      if let eachRow { agentRows = { row in eachRow(i, row) } }
      let result = Result { () throws(StoreError) -> AgentReport in
        let (tally, violations) = try store.trialTally(
          runID: run.id, agent: names[i], slaLimitMs: targets.slo.latency.map { $0 * 1000 },
          violationsByCheck: violationsByCheck, eachRow: agentRows)
        return AgentReport(
          AgentMetrics(
            agent: names[i], tally: tally, planned: planned, targets: targets, violationsByCheck: violations,
            bootstrapResamples: bootstrapResamples))
      }
      results.withLock { $0[i] = result }
    }
    return RunReport(run: run, agents: try results.withLock { $0 }.map { result throws(StoreError) in try result!.get() })
  }

  /// The run's agents in plan order (as recorded, by name, for runs without a plan).
  public static func agents(of run: RunRecord, in store: ResultStore) throws(StoreError) -> [String] {
    run.plan.agents.isEmpty ? try store.recordedAgents(runID: run.id) : run.plan.agents
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
