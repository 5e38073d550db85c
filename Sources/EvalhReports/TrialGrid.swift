import EvalhCore
import EvalhStore

/// Every trial's outcome per agent (and condition) and task: the HTML report's grid and latency
/// distribution, keyed by `AgentMetrics.label`.
public struct TrialGrid: Sendable {
  /// label → task → trial number → status.
  public var statuses: [String: [String: [Int: TrialStatus]]]
  /// label → latencies of counted trials (ms).
  public var latencies: [String: [Double]]

  /// A grid from statuses and latencies already read.
  public init(statuses: [String: [String: [Int: TrialStatus]]], latencies: [String: [Double]]) {
    self.statuses = statuses
    self.latencies = latencies
  }

  /// What the HTML report draws: every counted latency, and the statuses of the cells it shows
  /// (the worst tasks, the first trials), not all of a large run's trials.
  public static func load(_ report: RunReport, from store: ResultStore) throws(StoreError) -> TrialGrid {
    var statuses: [String: [String: [Int: TrialStatus]]] = [:]
    var latencies: [String: [Double]] = [:]
    for agent in report.agents {
      let name = agent.metrics.label
      let shown = agent.tasksWorstFirst.prefix(HTMLReport.gridTaskLimit).map(\.taskID)
      statuses[name] = try store.trialStatuses(
        runID: report.run.id, agent: agent.metrics.agent, condition: agent.metrics.condition, tasks: shown,
        upToTrial: HTMLReport.gridTrialLimit)
      latencies[name] = agent.metrics.latencySamples
    }
    return TrialGrid(statuses: statuses, latencies: latencies)
  }
}
