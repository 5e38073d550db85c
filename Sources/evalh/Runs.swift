import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhStore
import Foundation

struct Runs: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List runs in the database, newest first.")

  @Option(help: "Only runs of this suite.")
  var suite: String?

  @Option(help: "At most this many runs.")
  var limit = 20

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let store = try database.open(create: false)
    var rows: [(run: RunRecord, recorded: Int, success: Double?)] = []
    do {
      for run in try store.runs(suite: suite, limit: limit) {
        let planned = run.plan.plannedByTask
        var recorded = 0
        var rates: [Double] = []
        for agent in try store.recordedAgents(runID: run.id) {
          // The list shows point estimates only: no intervals, no per-check counts.
          let tally = try store.trialTally(runID: run.id, agent: agent, slaLimitMs: nil, violationsByCheck: false).tally
          recorded += tally.recordedTrials
          if let rate = AgentMetrics(agent: agent, tally: tally, planned: planned, withIntervals: false).successRate {
            rates.append(rate)
          }
        }
        rows.append((run, recorded, Statistics.mean(rates)))
      }
    } catch {
      throw Failure(error)
    }
    emit(json ? ShowReport.runsJSON(rows) : ShowReport.runs(rows))
  }
}
