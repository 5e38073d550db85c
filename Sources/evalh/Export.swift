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

  @Option(
    help:
      "Send one trace per trial to this OTLP/HTTP receiver (a base URL such as http://localhost:4318, or env for OTEL_EXPORTER_OTLP_ENDPOINT)."
  )
  var otlp: String?

  @Flag(name: .customLong("otlp-json"), help: "Send OTLP as JSON instead of protobuf.")
  var otlpJSON = false

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard csv != nil || xlsx != nil || otlp != nil else {
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
    if let otlp { try await sendTraces(record, store: store, endpoint: otlp) }
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
  func sendTraces(_ run: RunRecord, store: ResultStore, endpoint: String) async throws {
    let exporter: OTLPExporter
    switch OTLPExporter.make(endpoint: endpoint, json: otlpJSON) {
    case .success(let made): exporter = made
    case .failure(let error): throw Failure(error.description, code: 2)
    }
    let resource = TraceStream.resource(suite: run.suite, version: Runner.version)
    var spans: [Span] = []
    var sent = 0
    var gathered = 0
    do {
      let tasks = run.plan.tasks.isEmpty ? try store.taskTags(runID: run.id).keys.sorted() : run.plan.tasks.map(\.id)
      for task in tasks {
        for trial in try store.trials(runID: run.id, taskID: task) {
          spans += TrialTrace.spans(trial, suite: run.suite)
          gathered += 1
          if gathered % 64 == 0 {
            try await exporter.send(TraceBatch(spans: spans, resource: resource, scope: ("evalh", Runner.version)))
            sent = gathered
            spans = []
          }
        }
      }
      if !spans.isEmpty {
        try await exporter.send(TraceBatch(spans: spans, resource: resource, scope: ("evalh", Runner.version)))
      }
      sent = gathered
    } catch let error as StoreError {
      await exporter.shutdown()
      throw Failure(error)
    } catch {
      await exporter.shutdown()
      throw Failure("\(error) (\(sent) of the run's trials were sent)", code: 3)
    }
    await exporter.shutdown()
    StandardStream.error.write("sent \(sent) trials' traces to \(exporter.url)\n")
  }
}
