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
        let facts = try store.trialFacts(runID: run.id)
        let planned = run.plan.plannedByTask
        // The list shows point estimates only: no bootstrap.
        let rates = facts.compactMap {
          AgentMetrics(agent: $0.key, trials: $0.value, planned: planned, bootstrapResamples: 0).successRate
        }
        rows.append((run, facts.values.reduce(0) { $0 + $1.count }, Statistics.mean(rates)))
      }
    } catch {
      throw Failure(error)
    }
    emit(json ? ShowReport.runsJSON(rows) : ShowReport.runs(rows))
  }
}
