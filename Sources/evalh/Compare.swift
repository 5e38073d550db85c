import ArgumentParser
import EvalhCore
import EvalhReports
import EvalhStore
import Foundation
import Synchronization

struct Compare: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare two runs of a suite; exit 1 when the candidate regresses on a gated metric.")

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json, junit
  }

  @Argument(help: "The baseline run: an id, latest, latest~N or label:NAME (the latest run with that label).")
  var base: String

  @Argument(help: "The candidate run (same syntax).")
  var candidate: String

  @Option(
    name: .customLong("base-db"), help: "The database holding the baseline (default: --db).",
    completion: .file(extensions: ["sqlite", "db"]))
  var baseDB: String?

  @Option(help: "Output format: text, markdown, json or junit.")
  var format: Format = .text

  @Option(help: "Write to this file instead of stdout.")
  var output: String?

  @Option(help: "Family-wise significance level for the per-task tests (Holm).")
  var alpha = 0.05

  @Option(name: .customLong("min-effect"), help: "The smallest drop (as a fraction) that counts as a regression.")
  var minEffect = 0.02

  @Option(
    help:
      "A metric that gates the exit code (repeatable; default success_rate and pass_hat_k): \(CompareMetric.allCases.map(\.rawValue).joined(separator: ", ")).",
    completion: .list(CompareMetric.allCases.map(\.rawValue))
  )
  var metric: [String] = []

  @Flag(name: .customLong("allow-suite-change"), help: "Compare runs of different suites (refused otherwise).")
  var allowSuiteChange = false

  @Flag(
    name: .customLong("allow-incomplete"),
    help: "Gate on what an incomplete candidate (a merge missing shards) holds; otherwise it fails the gate.")
  var allowIncomplete = false

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1") }
    guard minEffect >= 0, minEffect < 1 else { throw ValidationError("--min-effect must be between 0 and 1") }
    for name in metric where CompareMetric(rawValue: name) == nil {
      throw ValidationError(
        "unknown metric '\(name)' for --metric (metrics: \(CompareMetric.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
  }

  func run() async throws {
    let candidateStore = try database.open(create: false)
    let baseStore: ResultStore
    if let baseDB {
      do { baseStore = try ResultStore(path: baseDB, create: false) } catch { throw Failure(error) }
    } else {
      baseStore = candidateStore
    }
    // compare's intervals are its own, paired by task: the runs' own are not needed. The two
    // runs are read side by side.
    let sources = [(base, baseStore), (candidate, candidateStore)]
    let reports = sources.indices.concurrentMap { i in
      Result { try loadReport(sources[i].0, from: sources[i].1, withIntervals: false, violationsByCheck: false) }
    }
    let baseReport = try reports[0].get()
    let candidateReport = try reports[1].get()
    if baseReport.run.suite != candidateReport.run.suite, !allowSuiteChange {
      throw Failure(
        "run \(baseReport.run.id) is of suite '\(baseReport.run.suite)' and run \(candidateReport.run.id) of '\(candidateReport.run.suite)': different suites are not compared (--allow-suite-change compares them anyway)",
        code: 2)
    }
    let gated = metric.isEmpty ? CompareMetric.defaultGated : metric.compactMap(CompareMetric.init(rawValue:))
    let comparison = Comparison(
      base: baseReport.agents.map(\.metrics), candidate: candidateReport.agents.map(\.metrics), alpha: alpha,
      minEffect: minEffect, gated: gated)
    let (b, c) = (baseReport.run, candidateReport.run)
    let text: String
    switch format {
    case .text: text = CompareReport.text(comparison, base: b, candidate: c)
    case .markdown: text = CompareReport.markdown(comparison, base: b, candidate: c)
    case .json: text = CompareReport.json(comparison, base: b, candidate: c)
    case .junit: text = CompareReport.junit(comparison, base: b, candidate: c)
    }
    try write(text, to: output)
    if c.status == .incomplete, !allowIncomplete {
      throw Failure(
        verbatim:
          "gate failed: candidate run \(c.id) is incomplete: \(c.stopReason ?? "shards are missing"); --allow-incomplete compares what it holds",
        code: 1)
    }
    if comparison.regressed { throw ExitCode(1) }
  }
}
