import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhRunner
import EvalhStore
import EvalhTraces
import Foundation

struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write a stored run as CSV files (for machines) or an .xlsx workbook (for people), or send it as OTLP traces.")

  @Argument(help: "A run id, latest, latest~N or label:NAME (the latest run with that label).")
  var run = "latest"

  @Option(help: "The folder to write the CSV files into (created if missing).")
  var csv: String?

  @Option(help: "Write an Excel workbook to this file: Summary, Tasks, Pass^k and Trials sheets.")
  var xlsx: String?

  @OptionGroup var traces: OTLPOptions

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard csv != nil || xlsx != nil || traces.otlp != nil else {
      throw ValidationError("say what to write: --csv DIR, --xlsx FILE and/or --otlp URL")
    }
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
    if let exporter = try traces.exporter() { try await sendTraces(record, store: store, exporter: exporter) }
    guard let csv else { return }
    do {
      try CSVExport.write(record, store: store, to: csv)
    } catch let error as StoreError {
      throw Failure(error)
    } catch {
      throw Failure("cannot write CSV files into \(csv): \(error.localizedDescription)", code: 2)
    }
    let written = ["summary.csv", "tasks.csv", "trials.csv", "passk.csv", "tool_calls.csv", "robustness.csv"].filter {
      FileManager.default.fileExists(atPath: "\(csv)/\($0)")
    }
    StandardStream.error.write("wrote \(written.joined(separator: ", ")) to \(csv)\n")
  }

  /// Every trial's trace, task by task, in batches; a receiver that refuses is exit 3.
  func sendTraces(_ run: RunRecord, store: ResultStore, exporter: OTLPExporter) async throws {
    let stream = TraceStream(exporter: exporter, suite: run.suite, version: Runner.version)
    do {
      let tasks = run.plan.tasks.isEmpty ? try store.taskTags(runID: run.id).keys.sorted() : run.plan.tasks.map(\.id)
      // Reading stops once the receiver has failed: nothing after it would be sent.
      reading: for task in tasks {
        for trial in try store.trials(runID: run.id, taskID: task) {
          if await stream.hasFailed { break reading }
          await stream.add(trial)
        }
      }
    } catch {
      _ = await stream.finish()
      throw Failure(error)
    }
    let failure = await stream.finish()
    let sent = await stream.sent
    if let failure {
      throw Failure(
        "\(failure) (\(sent) trials' traces were sent, then sending stopped; export again once the receiver is back)",
        code: 3)
    }
    StandardStream.error.write("sent \(sent) trials' traces to \(exporter.url)\n")
  }
}
