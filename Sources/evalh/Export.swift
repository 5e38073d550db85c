import ArgumentParser
import EvalhReports
import EvalhStore
import Foundation
import Synchronization

struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write summary.csv, tasks.csv, trials.csv and passk.csv for a stored run.")

  @Argument(help: "A run id, latest, or latest~N.")
  var run = "latest"

  @Option(help: "The folder to write the CSV files into (created if missing).")
  var csv: String

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let store = try database.open(create: false)
    let record: RunRecord
    do { record = try store.resolve(run) } catch { throw Failure(error) }
    do {
      // The metrics and the trial rows are independent: computed side by side.
      let failures = Mutex<[any Error]>([])
      let agents = record.plan.agents.isEmpty ? try store.recordedAgents(runID: record.id) : record.plan.agents
      DispatchQueue.concurrentPerform(iterations: 2) { part in
        do {
          if part == 0 {
            // The CSV files carry no suite-level intervals (tasks.csv's are Wilson's): no bootstrap.
            let report = try RunReport.load(record, from: store, bootstrapResamples: 0)
            try CSVExport.writeSummaries(report, store: store, to: csv)
          } else {
            try CSVExport.writeTrials(runID: record.id, agents: agents, store: store, to: csv)
          }
        } catch {
          failures.withLock { $0.append(error) }
        }
      }
      if let failure = failures.withLock({ $0.first }) { throw failure }
    } catch let error as StoreError {
      throw Failure(error)
    } catch {
      throw Failure("cannot write CSV files into \(csv): \(error.localizedDescription)", code: 2)
    }
    FileHandle.standardError.write(Data("wrote summary.csv, tasks.csv, trials.csv, passk.csv to \(csv)\n".utf8))
  }
}
