import EvalhCore
import EvalhStore

/// Every trial's outcome per agent and task: the HTML report's grid and latency distribution.
public struct TrialGrid: Sendable {
  /// agent → task → trial number → status.
  public var statuses: [String: [String: [Int: TrialStatus]]]
  /// agent → latencies of counted trials (ms).
  public var latencies: [String: [Double]]

  public init(statuses: [String: [String: [Int: TrialStatus]]], latencies: [String: [Double]]) {
    self.statuses = statuses
    self.latencies = latencies
  }

  public static func load(runID: String, from store: ResultStore) throws(StoreError) -> TrialGrid {
    var statuses: [String: [String: [Int: TrialStatus]]] = [:]
    var latencies: [String: [Double]] = [:]
    for (agent, rows) in try store.trialOutcomes(runID: runID) {
      for row in rows {
        statuses[agent, default: [:]][row.taskID, default: [:]][row.trial] = row.status
        if row.counted { latencies[agent, default: []].append(row.latencyMs) }
      }
    }
    return TrialGrid(statuses: statuses, latencies: latencies)
  }
}
