import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhStore
import Foundation

struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write summary.csv, tasks.csv, trials.csv and passk.csv for a stored run.")

  @Argument(help: "A run id, latest, latest~N or label:NAME (the latest run with that label).")
  var run = "latest"

  @Option(help: "The folder to write the CSV files into (created if missing).")
  var csv: String

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let store = try database.open(create: false)
    let record: RunRecord
    do { record = try store.resolve(run) } catch { throw Failure(error) }
    do {
      try CSVExport.write(record, store: store, to: csv)
    } catch let error as StoreError {
      throw Failure(error)
    } catch {
      throw Failure("cannot write CSV files into \(csv): \(error.localizedDescription)", code: 2)
    }
    StandardStream.error.write(
      "wrote summary.csv, tasks.csv, trials.csv, passk.csv, tool_calls.csv, robustness.csv to \(csv)\n")
  }
}
