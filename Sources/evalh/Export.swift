import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhStore
import Foundation

struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a stored run as CSV files (for machines) or an .xlsx workbook (for people).")

  @Argument(help: "A run id, latest, latest~N or label:NAME (the latest run with that label).")
  var run = "latest"

  @Option(help: "The folder to write the CSV files into (created if missing).")
  var csv: String?

  @Option(help: "Write an Excel workbook to this file: Summary, Tasks, Pass^k and Trials sheets.")
  var xlsx: String?

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard csv != nil || xlsx != nil else { throw ValidationError("say what to write: --csv DIR and/or --xlsx FILE") }
  }

  func run() async throws {
    let store = try database.open(create: false)
    let record: RunRecord
    do { record = try store.resolve(run) } catch { throw Failure(error) }
    if let xlsx {
      do {
        try WorkbookExport.write(record, store: store, to: xlsx)
      } catch let error as StoreError {
        throw Failure(error)
      } catch {
        throw Failure("cannot write the workbook \(xlsx): \(error.localizedDescription)", code: 2)
      }
      StandardStream.error.write("wrote \(xlsx)\n")
    }
    guard let csv else { return }
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
