import EvalhCore
import EvalhStore
import Foundation

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

  public static func trialRow(runID: String, _ t: ExportRow) -> [Cell] {
    // A string output as its text (decoded without a JSON parser: this runs per trial), anything else as JSON.
    let output = t.outputJSON.map { json in JSONValue.stringLiteral(json) ?? json }.map { String($0.prefix(1000)) }
    return [
      .text(runID), .text(t.agent), .text(t.taskID), .integer(t.trial), .text(t.status), .text(t.errorKind),
      .bool(t.efficacyPass), .number(t.efficacyScore), .integer(t.violations), .number(t.latencyMs),
      .integer(t.inputTokens), .integer(t.outputTokens), .number(t.costUSD), .integer(t.attempts), .integer(t.seed),
      .text(t.startedAt), .text(output),
    ]
  }

  /// Writes the four files into `folder` (created if missing); trials are streamed from the store.
  public static func write(_ report: RunReport, store: ResultStore, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let tags = try store.taskTags(runID: report.run.id)
    try Data(summary(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/summary.csv"))
    try Data(tasks(report, tags: tags).utf8).write(to: URL(fileURLWithPath: "\(folder)/tasks.csv"))
    try Data(passk(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/passk.csv"))
    FileManager.default.createFile(atPath: "\(folder)/trials.csv", contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/trials.csv"))
    defer { try? handle.close() }
    try handle.write(contentsOf: Data((trialColumns.joined(separator: ",") + "\r\n").utf8))
    var buffer = ""
    try store.forEachExportRow(runID: report.run.id) { trial in
      buffer += trialRow(runID: report.run.id, trial).map(\.rendered).joined(separator: ",") + "\r\n"
      if buffer.utf8.count > 1 << 20 {
        try handle.write(contentsOf: Data(buffer.utf8))
        buffer = ""
      }
    }
    try handle.write(contentsOf: Data(buffer.utf8))
  }
}
