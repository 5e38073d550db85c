import EvalhCore
import EvalhStore

/// Every trial's outcome per agent and task: the HTML report's grid and latency distribution.
public struct TrialGrid: Sendable {
  /// agent → task → trial number → status.
  public var statuses: [String: [String: [Int: TrialStatus]]]
  /// agent → latencies of counted trials (ms).
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
      let name = agent.metrics.agent
      let shown = agent.tasksWorstFirst.prefix(HTMLReport.gridTaskLimit).map(\.taskID)
      statuses[name] = try store.trialStatuses(
        runID: report.run.id, agent: name, tasks: shown, upToTrial: HTMLReport.gridTrialLimit)
      latencies[name] = agent.metrics.latencySamples
    }
    return TrialGrid(statuses: statuses, latencies: latencies)
  }
}
