import EvalhCore
import EvalhStore
import Foundation
import Synchronization

/// `export --csv DIR`: summary.csv, tasks.csv, trials.csv and passk.csv with exactly the columns of reports.md.
public enum CSVExport {
  public static let summaryColumns = [
    "run_id", "suite", "label", "agent", "started_at", "finished_at", "tasks", "trials_per_task", "trials",
    "first_run_success", "success_rate", "sustained_success", "reliability_cliff", "consistency", "efficacy_rate",
    "assurance_rate", "policy_adherence", "violations", "cost_total_usd", "cost_per_trial_usd", "cost_per_success_usd",
    "cna", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "sla_compliance", "clear_score", "errors", "timeouts",
  ]
  public static let taskColumns = [
    "run_id", "agent", "task_id", "tags", "trials", "passes", "first_run", "success_rate", "pass_hat_n", "ci_low",
    "ci_high", "latency_p50_ms", "latency_p95_ms", "cost_per_trial_usd", "violations", "errors",
  ]
  public static let trialColumns = [
    "run_id", "agent", "task_id", "trial", "status", "error_kind", "efficacy_pass", "efficacy_score", "violations",
    "latency_ms", "input_tokens", "output_tokens", "cost_usd", "attempts", "seed", "started_at", "output",
  ]
  public static let passkColumns = ["run_id", "agent", "k", "pass_hat_k", "pass_at_k"]

  /// A cell: text escaped (RFC 4180, formulas neutralised), numbers plain, unknown empty.
  public enum Cell {
    case text(String?)
    case number(Double?)
    case integer(Int?)
    case bool(Bool?)

    var rendered: String {
      switch self {
      case .text(let s): s.map(Escape.csv) ?? ""
      case .number(let x): x.flatMap { $0.isFinite ? Fmt.plain($0) : nil } ?? ""
      case .integer(let n): n.map(String.init) ?? ""
      case .bool(let b): b.map { $0 ? "1" : "0" } ?? ""
      }
    }
  }

  /// RFC 4180 text: a header row, CRLF line ends.
  public static func table(_ header: [String], _ rows: [[Cell]]) -> String {
    var out = header.joined(separator: ",") + "\r\n"
    for row in rows { out += row.map(\.rendered).joined(separator: ",") + "\r\n" }
    return out
  }

  public static func summary(_ report: RunReport) -> String {
    let run = report.run
    return table(
      summaryColumns,
      report.agents.map { a in
        let m = a.metrics
        let errors = m.errors.filter { $0.key != "timeout" && $0.key != "grader" }.values.reduce(0, +)
        return [
          .text(run.id), .text(run.suite), .text(run.label), .text(m.agent), .text(Timestamp.format(run.startedAt)),
          .text(run.finishedAt.map(Timestamp.format)), .integer(m.tasks.count), .integer(run.trials), .integer(m.trials),
          .number(m.firstRunSuccess), .number(m.successRate), .number(m.sustainedSuccess), .number(m.reliabilityCliff),
          .number(m.consistency), .number(m.efficacyRate), .number(m.assuranceRate), .number(m.policyAdherence),
          .integer(m.violations), .number(m.costTotalUSD), .number(m.costPerTrialUSD), .number(m.costPerSuccessUSD),
          .number(m.cna), .number(m.latency.p50), .number(m.latency.p95), .number(m.latency.p99),
          .number(m.slaCompliance), .number(m.clear.score), .integer(errors), .integer(m.errors["timeout"] ?? 0),
        ]
      })
  }

  public static func tasks(_ report: RunReport, tags: [String: [String]]) -> String {
    table(
      taskColumns,
      report.agents.flatMap { a in
        a.tasksWorstFirst.map { t in
          [
            .text(report.run.id), .text(a.metrics.agent), .text(t.taskID), .text((tags[t.taskID] ?? []).joined(separator: ";")),
            .integer(t.trials), .integer(t.passes), .bool(t.trials > 0 ? t.firstRun : nil), .number(t.successRate),
            .number(t.passHatN), .number(t.interval.low), .number(t.interval.high), .number(t.latencyP50Ms),
            .number(t.latencyP95Ms), .number(t.costPerTrialUSD), .integer(t.violations), .integer(t.errors),
          ] as [Cell]
        }
      })
  }

  public static func passk(_ report: RunReport) -> String {
    table(
      passkColumns,
      report.agents.flatMap { a in
        a.metrics.passHatK.indices.map { i in
          [.text(report.run.id), .text(a.metrics.agent), .integer(i + 1), .number(a.metrics.passHatK[i]), .number(a.metrics.passAtK[i])]
            as [Cell]
        }
      })
  }

  /// Writes the four files into `folder` (created if missing); trials are streamed from the store.
  public static func write(_ report: RunReport, store: ResultStore, to folder: String) throws {
    try writeSummaries(report, store: store, to: folder)
    try writeTrials(runID: report.run.id, agents: report.agents.map(\.metrics.agent), store: store, to: folder)
  }

  /// summary.csv, tasks.csv and passk.csv.
  public static func writeSummaries(_ report: RunReport, store: ResultStore, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let tags = try store.taskTags(runID: report.run.id)
    try Data(summary(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/summary.csv"))
    try Data(tasks(report, tags: tags).utf8).write(to: URL(fileURLWithPath: "\(folder)/tasks.csv"))
    try Data(passk(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/passk.csv"))
  }

  /// trials.csv, every trial in (agent, task, trial) order: each agent's rows are written by its own
  /// reader into a part file, side by side, then the parts are joined in agent order.
  public static func writeTrials(runID: String, agents: [String], store: ResultStore, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let ordered = agents.sorted()
    let parts = ordered.indices.map { "\(folder)/.trials.csv.part\($0)" }
    defer { for part in parts { unlink(part) } }
    let failures = Mutex<[any Error]>([])
    DispatchQueue.concurrentPerform(iterations: ordered.count) { i in
      do {
        try writeTrialRows(runID: runID, agent: ordered[i], store: store, to: parts[i])
      } catch {
        failures.withLock { $0.append(error) }
      }
    }
    if let failure = failures.withLock({ $0.first }) { throw failure }
    FileManager.default.createFile(atPath: "\(folder)/trials.csv", contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/trials.csv"))
    defer { try? handle.close() }
    try handle.write(contentsOf: Data((trialColumns.joined(separator: ",") + "\r\n").utf8))
    for part in parts {
      let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: part))
      defer { try? reader.close() }
      while let chunk = try reader.read(upToCount: 4 << 20), !chunk.isEmpty { try handle.write(contentsOf: chunk) }
    }
  }

  /// One agent's trial rows, written as bytes cell by cell: a million of them in about a second.
  static func writeTrialRows(runID: String, agent: String, store: ResultStore, to path: String) throws {
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var row = CSVRow()
    row.bytes.reserveCapacity(1 << 21)
    try store.forEachExportRow(runID: runID, agent: agent) { t in
      row.text(runID)
      row.text(t.agent)
      row.text(t.taskID)
      row.integer(t.trial)
      row.text(t.status)
      row.text(t.errorKind)
      row.bool(t.efficacyPass)
      row.number(t.efficacyScore)
      row.integer(t.violations)
      row.number(t.latencyMs)
      row.integer(t.inputTokens)
      row.integer(t.outputTokens)
      row.number(t.costUSD)
      row.integer(t.attempts)
      row.integer(t.seed)
      row.text(t.startedAt)
      // A string output as its text, anything else as its JSON.
      row.text(t.outputJSON.map { json in
        let text = JSONValue.stringLiteral(json) ?? json
        // At most 1,000 characters; a text of at most 1,000 bytes has no more (and needs no counting).
        return text.utf8.count <= 1000 ? text : String(text.prefix(1000))
      })
      row.end()
      if row.bytes.count > 1 << 20 {
        try handle.write(contentsOf: row.bytes)
        row.bytes.removeAll(keepingCapacity: true)
      }
    }
    try handle.write(contentsOf: row.bytes)
  }
}

/// CSV rows built as bytes, with the same cells as `CSVExport.Cell` renders.
struct CSVRow {
  var bytes: [UInt8] = []
  private var first = true

  private mutating func separate() {
    if !first { bytes.append(UInt8(ascii: ",")) }
    first = false
  }

  mutating func text(_ s: String?) {
    separate()
    guard var s else { return }
    s.withUTF8 { append($0) }
  }

  /// A text cell from its UTF-8 bytes.
  private mutating func append(_ utf8: UnsafeBufferPointer<UInt8>) {
    let formula = utf8.first.map(CSVRow.startsFormula) ?? false
    let quoted = utf8.contains(where: CSVRow.needsQuotes)
    if quoted { bytes.append(UInt8(ascii: "\"")) }
    if formula { bytes.append(UInt8(ascii: "'")) }
    if quoted {
      for b in utf8 {
        if b == UInt8(ascii: "\"") { bytes.append(b) }
        bytes.append(b)
      }
      bytes.append(UInt8(ascii: "\""))
    } else {
      bytes.append(contentsOf: utf8)
    }
  }

  /// `=`, `+`, `-`, `@`, tab or CR first: a spreadsheet would run it as a formula.
  static func startsFormula(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13: true
    default: false
    }
  }

  static func needsQuotes(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: ","), UInt8(ascii: "\""), 10, 13: true
    default: false
    }
  }

  mutating func number(_ x: Double?) {
    separate()
    if let x, x.isFinite { bytes += Fmt.plain(x).utf8 }
  }

  mutating func integer(_ n: Int?) {
    separate()
    if let n { bytes += String(n).utf8 }
  }

  mutating func bool(_ b: Bool?) {
    separate()
    if let b { bytes.append(b ? UInt8(ascii: "1") : UInt8(ascii: "0")) }
  }

  mutating func end() {
    bytes += [13, 10]
    first = true
  }
}
