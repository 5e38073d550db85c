import EvalhCore
import EvalhStore
import Foundation

/// `export --xlsx FILE`: the run as a workbook for people (the CSV files stay for machines). Sheets
/// Summary, Tasks, Pass^k and Trials, and Robustness for a run with conditions; rates as
/// percentages beside their 95% intervals, costs in dollars, times as dates, ids and outputs as text.
public enum WorkbookExport {
  /// Characters of an output shown in the Trials sheet (as in trials.csv).
  static let outputLimit = 1000

  /// The workbook of `run`.
  public static func workbook(_ run: RunRecord, store: ResultStore) throws -> Workbook {
    let report = try RunReport.load(run, from: store)
    let tags = try store.taskTags(runID: run.id)
    var sheets = [summary(report), tasks(report, tags: tags), passk(report)]
    sheets.append(try trials(run, store: store))
    if !Robustness.sections(report).isEmpty { sheets.append(robustness(report)) }
    return Workbook(sheets: sheets)
  }

  /// Writes the workbook of `run` to `path`.
  public static func write(_ run: RunRecord, store: ResultStore, to path: String) throws {
    try workbook(run, store: store).write(to: path, date: run.startedAt)
  }

  static func rate(_ value: Double?, _ interval: Intervals.Range?) -> [Workbook.Cell] {
    [.percent(value), .percent(interval?.low), .percent(interval?.high)]
  }

  static func summary(_ report: RunReport) -> Workbook.Sheet {
    let run = report.run
    let header = [
      "agent", "condition", "tasks", "trials", "first run success", "low", "high", "success rate", "low", "high",
      "sustained success", "low", "high", "reliability cliff", "consistency", "efficacy rate", "assurance rate",
      "policy adherence", "violations", "cost total", "cost per trial", "cost per success", "trials of unknown cost",
      "latency p50 ms", "latency p95 ms", "latency p99 ms", "SLA compliance", "CLEAR score", "errors", "timeouts",
      "recovery rate", "fault cliff", "run", "suite", "label", "seed", "started", "finished",
    ]
    let rows = report.agents.map { a -> [Workbook.Cell] in
      let m = a.metrics
      let i = m.intervals
      let errors = m.errors.filter { !["timeout", "grader", "tool"].contains($0.key) }.values.reduce(0, +)
      var row: [Workbook.Cell] = [.text(m.agent), .text(m.condition), .integer(m.tasks.count), .integer(m.trials)]
      row += rate(m.firstRunSuccess, i.firstRunSuccess) + rate(m.successRate, i.successRate)
      row += rate(m.sustainedSuccess, i.sustainedSuccess)
      row += [
        .percent(m.reliabilityCliff), .percent(m.consistency), .percent(m.efficacyRate), .percent(m.assuranceRate),
        .percent(m.policyAdherence), .integer(m.violations), .usd(m.costTotalUSD), .usd(m.costPerTrialUSD),
        .usd(m.costPerSuccessUSD), .integer(m.costUnknownTrials), .number(m.latency.p50), .number(m.latency.p95),
        .number(m.latency.p99), .percent(m.slaCompliance), .number(m.clear.score), .integer(errors),
        .integer(m.errors["timeout"] ?? 0), .percent(m.recoveryRate), .percent(m.faultCliff), .text(run.id),
        .text(run.suite), .text(run.label), .text(String(run.seed)), .date(run.startedAt), .date(run.finishedAt),
      ]
      return row
    }
    let widths = [16, 14] + Array(repeating: 10, count: 30) + [24, 16, 12, 12, 20, 20]
    return Workbook.Sheet(name: "Summary", header: header, widths: widths, rows: rows)
  }

  static func tasks(_ report: RunReport, tags: [String: [String]]) -> Workbook.Sheet {
    let header = [
      "agent", "condition", "task", "tags", "trials", "passes", "first run passed", "success rate", "low", "high",
      "pass^n", "latency p50 ms", "latency p95 ms", "cost per trial", "violations", "errors",
    ]
    let rows = report.agents.flatMap { a in
      a.tasksWorstFirst.map { t -> [Workbook.Cell] in
        [
          .text(a.metrics.agent), .text(a.metrics.condition), .text(t.taskID),
          .text((tags[t.taskID] ?? []).joined(separator: "; ")), .integer(t.trials), .integer(t.passes),
          .bool(t.trials > 0 ? t.firstRun : nil), .percent(t.successRate), .percent(t.interval.low),
          .percent(t.interval.high), .percent(t.passHatN), .number(t.latencyP50Ms), .number(t.latencyP95Ms),
          .usd(t.costPerTrialUSD), .integer(t.violations), .integer(t.errors),
        ]
      }
    }
    return Workbook.Sheet(
      name: "Tasks", header: header, widths: [16, 14, 28, 16] + Array(repeating: 10, count: 12), rows: rows)
  }

  static func passk(_ report: RunReport) -> Workbook.Sheet {
    let rows = report.agents.flatMap { a in
      a.metrics.passHatK.indices.map { k -> [Workbook.Cell] in
        [
          .text(a.metrics.agent), .text(a.metrics.condition), .integer(k + 1), .percent(a.metrics.passHatK[k]),
          .percent(a.metrics.passAtK[k]),
        ]
      }
    }
    return Workbook.Sheet(
      name: "Pass^k", header: ["agent", "condition", "k", "pass^k", "pass@k"], widths: [16, 14, 6, 10, 10],
      rows: rows)
  }

  static func trials(_ run: RunRecord, store: ResultStore) throws -> Workbook.Sheet {
    let header = [
      "agent", "condition", "task", "trial", "status", "error kind", "efficacy pass", "efficacy score", "violations",
      "latency ms", "input tokens", "output tokens", "cost", "attempts", "seed", "variant", "started", "output",
    ]
    let rows = try store.trials(runID: run.id).prefix(Workbook.rowLimit - 1).map { t -> [Workbook.Cell] in
      let output = t.outputJSON.map { json in
        String((JSONValue.parse(json).map { $0.stringValue ?? $0.compactText } ?? json).prefix(outputLimit))
      }
      return [
        .text(t.agent), .text(t.condition), .text(t.taskID), .integer(t.trial), .text(t.status.rawValue),
        .text(t.errorKind?.rawValue), .bool(t.efficacyPass), .number(t.efficacyScore), .integer(t.violations),
        .number(t.latencyMs), .integer(t.inputTokens), .integer(t.outputTokens), .usd(t.costUSD),
        .integer(t.attempts), .text(String(t.seed)), .integer(t.variant), .date(t.startedAt), .text(output),
      ]
    }
    return Workbook.Sheet(
      name: "Trials", header: header,
      widths: [16, 14, 28, 6, 8, 12, 8, 8, 8, 10, 10, 10, 10, 8, 12, 8, 20, 60], rows: Array(rows))
  }

  static func robustness(_ report: RunReport) -> Workbook.Sheet {
    let header = [
      "agent", "row", "condition", "fault kind", "task", "variant", "trials", "passed", "rate", "low", "high",
      "sustained success", "fault cliff", "recovery rate", "calls per trial", "retries after a fault",
      "repeated writes", "after lost_response",
    ]
    var rows: [[Workbook.Cell]] = []
    for s in Robustness.sections(report) {
      for a in s.conditions {
        let m = a.metrics
        let u = a.toolUse
        rows.append(
          [
            .text(s.agent), .text("condition"), .text(m.condition), .text(nil), .text(nil), .integer(nil),
            .integer(m.trials), .integer(m.tasks.reduce(0) { $0 + $1.passes }),
          ] + rate(m.successRate, m.intervals.successRate) + [
            .percent(m.sustainedSuccess), .percent(m.faultCliff), .percent(m.recoveryRate),
            .number(u?.callsPerTrial), .integer(u?.retriesAfterFault), .integer(u?.repeatedWrites),
            .integer(u?.repeatsAfterLostResponse),
          ])
      }
      for r in s.recovery {
        rows.append([
          .text(s.agent), .text("recovery"), .text(nil), .text(r.kind), .text(nil), .integer(nil),
          .integer(r.count.trials), .integer(r.count.passed), .percent(r.count.rate), .percent(r.interval?.low),
          .percent(r.interval?.high),
        ])
      }
      for t in s.variants {
        for v in t.variants {
          rows.append([
            .text(s.agent), .text("variant"), .text(nil), .text(nil), .text(t.task), .integer(v.variant),
            .integer(v.count.trials), .integer(v.count.passed), .percent(v.count.rate),
          ])
        }
      }
    }
    return Workbook.Sheet(
      name: "Robustness", header: header, widths: [16, 10, 14, 14, 20] + Array(repeating: 10, count: 13), rows: rows)
  }
}
