import EvalhCore
import EvalhStore

/// The robustness section of a run with conditions (tools.md, "What is stored and reported"): per
/// agent, its figures under each condition side by side, how often it still passed when a fault of
/// each kind fired, and how its tasks with variants fared per variant.
public struct Robustness: Sendable {
  /// A fault kind's recovery: the trials it fired in (across the agent's conditions), the passes,
  /// and the Wilson interval.
  public struct KindRecovery: Sendable {
    /// The fault kind, as stored (`unavailable`, `lost_response`, ...).
    public var kind: String
    /// Trials it fired in, and passes among them.
    public var count: PassCount
    /// 95% Wilson interval of the rate.
    public var interval: (low: Double, high: Double)?
  }

  /// A task with variants: each input's trials and passes (over the agent's conditions), the worst.
  public struct TaskVariants: Sendable {
    /// The task.
    public var task: String
    /// Variant number (0 is `input`) and its count, in order.
    public var variants: [(variant: Int, count: PassCount)]
    /// The variant with the lowest success.
    public var worst: Int
  }

  /// The agent.
  public var agent: String
  /// The agent under each condition, in the run's order (the first is the cliff's reference).
  public var conditions: [AgentReport]
  /// Per fault kind that fired, in `FaultKind` order.
  public var recovery: [KindRecovery]
  /// Tasks with variants, by id.
  public var variants: [TaskVariants]

  /// The sections of `report`, one per agent: none for a run with one condition and no variants.
  public static func sections(_ report: RunReport) -> [Robustness] {
    guard report.run.plan.conditions.count > 1 || !report.variants.isEmpty else { return [] }
    var order: [String] = []
    for a in report.agents where !order.contains(a.metrics.agent) { order.append(a.metrics.agent) }
    return order.map { agent in
      let mine = report.agents.filter { $0.metrics.agent == agent }
      var kinds: [String: PassCount] = [:]
      for a in mine {
        for (kind, count) in a.toolUse?.recovery ?? [:] {
          kinds[kind, default: PassCount(trials: 0, passed: 0)].trials += count.trials
          kinds[kind, default: PassCount(trials: 0, passed: 0)].passed += count.passed
        }
      }
      let known = FaultKind.allCases.map(\.rawValue)
      let recovery = kinds.keys.sorted { (known.firstIndex(of: $0) ?? 99, $0) < (known.firstIndex(of: $1) ?? 99, $1) }
        .compactMap { kind in
          kinds[kind].map {
            KindRecovery(kind: kind, count: $0, interval: Statistics.wilson(successes: $0.passed, n: $0.trials))
          }
        }
      var tasks: [String: [Int: PassCount]] = [:]
      for a in mine {
        for (task, byVariant) in report.variants[a.metrics.pair] ?? [:] {
          for (variant, count) in byVariant {
            tasks[task, default: [:]][variant, default: PassCount(trials: 0, passed: 0)].trials += count.trials
            tasks[task, default: [:]][variant, default: PassCount(trials: 0, passed: 0)].passed += count.passed
          }
        }
      }
      let variants = tasks.keys.sorted().compactMap { task -> TaskVariants? in
        guard let byVariant = tasks[task] else { return nil }
        let list = byVariant.keys.sorted().compactMap { v in byVariant[v].map { (variant: v, count: $0) } }
        let worst = list.min { ($0.count.rate ?? 1, $0.variant) < ($1.count.rate ?? 1, $1.variant) }?.variant ?? 0
        return TaskVariants(task: task, variants: list, worst: worst)
      }
      return Robustness(agent: agent, conditions: mine, recovery: recovery, variants: variants)
    }
  }

  /// `12/14 86% [60–96]`: a count, its rate and interval.
  static func shown(_ count: PassCount, _ interval: (low: Double, high: Double)?) -> String {
    "\(count.passed)/\(count.trials) \(Fmt.percent(count.rate, digits: 0))"
      + (interval.map { " " + Fmt.interval($0) } ?? "")
  }

  /// The section as terminal text.
  var text: String {
    let reference = conditions.first?.metrics.condition ?? Condition.defaultName
    var out = "robustness of agent \(Escape.terminal(agent)) (fault cliff against \(Escape.terminal(reference)))\n"
    let width = max(12, conditions.map { $0.metrics.condition.count }.max() ?? 0) + 2
    out +=
      "  " + Fmt.pad("condition", width)
      + "success (95% CI)    sustained (95% CI)  cliff   recovery  calls/trial  retries  repeated writes\n"
    for a in conditions {
      let m = a.metrics
      let u = a.toolUse
      let repeats =
        u.map {
          "\($0.repeatedWrites)"
            + ($0.repeatsAfterLostResponse > 0 ? " (\($0.repeatsAfterLostResponse) after lost_response)" : "")
        } ?? "–"
      out +=
        "  " + Fmt.pad(Escape.terminal(m.condition), width)
        + Fmt.pad(TextReport.rate(m.successRate, m.intervals.successRate.map { ($0.low, $0.high) }, false), 20)
        + Fmt.pad(
          TextReport.rate(m.sustainedSuccess, m.intervals.sustainedSuccess.map { ($0.low, $0.high) }, false), 20)
        + Fmt.pad(m.faultCliff.map { Fmt.percent($0, digits: 0) } ?? "–", 8)
        + Fmt.pad(m.recoveryRate.map { Fmt.percent($0, digits: 0) } ?? "–", 10)
        + Fmt.pad(u?.callsPerTrial.map { String(format: "%.1f", $0) } ?? "–", 13)
        + Fmt.pad(u.map { "\($0.retriesAfterFault)" } ?? "–", 9) + repeats + "\n"
    }
    if !recovery.isEmpty {
      out +=
        "  recovery    " + recovery.map { "\($0.kind) \(Self.shown($0.count, $0.interval))" }.joined(separator: " · ")
      out += "\n"
    }
    for t in variants {
      out += "  variants    \(Escape.terminal(t.task)): "
      out += t.variants.map { "#\($0.variant) \($0.count.passed)/\($0.count.trials)" }.joined(separator: " · ")
      out += " (worst #\(t.worst))\n"
    }
    return out
  }
}

extension Robustness {
  /// The section as GitHub-flavoured Markdown: a table of the conditions, then recovery and variants.
  var markdown: String {
    let reference = conditions.first?.metrics.condition ?? Condition.defaultName
    var out =
      "### Robustness of agent \(Escape.markdown(agent)) (fault cliff against \(Escape.markdown(reference)))\n\n"
    out +=
      "| condition | success | 95% CI | sustained | 95% CI | fault cliff | recovery | calls / trial | retries after a fault | repeated writes | after lost_response |\n"
    out += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    for a in conditions {
      let m = a.metrics
      let u = a.toolUse
      out += "| \(Escape.markdown(m.condition)) | "
      out += MarkdownReport.cell(m.successRate, m.intervals.successRate.map { ($0.low, $0.high) }) + " | "
      out += MarkdownReport.cell(m.sustainedSuccess, m.intervals.sustainedSuccess.map { ($0.low, $0.high) }) + " | "
      out += "\(m.faultCliff.map { Fmt.percent($0, digits: 0) } ?? "–") | "
      out += "\(m.recoveryRate.map { Fmt.percent($0, digits: 0) } ?? "–") | "
      out += "\(u?.callsPerTrial.map { String(format: "%.1f", $0) } ?? "–") | "
      out += "\(u.map { "\($0.retriesAfterFault)" } ?? "–") | \(u.map { "\($0.repeatedWrites)" } ?? "–") | "
      out += "\(u.map { "\($0.repeatsAfterLostResponse)" } ?? "–") |\n"
    }
    if !recovery.isEmpty {
      out += "\nRecovery per fault kind (trials it fired in that still passed): "
      out += recovery.map { "`\($0.kind)` \(Self.shown($0.count, $0.interval))" }.joined(separator: " · ") + "\n"
    }
    for t in variants {
      out += "\nVariants of `\(Escape.markdown(t.task))`: "
      out += t.variants.map { "#\($0.variant) \($0.count.passed)/\($0.count.trials)" }.joined(separator: " · ")
      out += " (worst #\(t.worst))\n"
    }
    return out
  }

  /// The section as JSON.
  var json: JSONValue {
    .object([
      "agent": .string(agent),
      "reference": .string(conditions.first?.metrics.condition ?? Condition.defaultName),
      "conditions": .array(
        conditions.map { a in
          let m = a.metrics
          let u = a.toolUse
          func count(_ n: Int?) -> JSONValue { n.map { .number(Double($0)) } ?? .null }
          return .object([
            "condition": .string(m.condition), "trials": .number(Double(m.trials)),
            "success_rate": JSONReport.number(m.successRate),
            "success_rate_interval": JSONReport.pair(m.intervals.successRate.map { ($0.low, $0.high) }),
            "sustained_success": JSONReport.number(m.sustainedSuccess),
            "sustained_success_interval": JSONReport.pair(m.intervals.sustainedSuccess.map { ($0.low, $0.high) }),
            "fault_cliff": JSONReport.number(m.faultCliff), "recovery_rate": JSONReport.number(m.recoveryRate),
            "calls_per_trial": JSONReport.number(u?.callsPerTrial), "faulted_calls": count(u?.faultedCalls),
            "retries_after_fault": count(u?.retriesAfterFault), "repeated_writes": count(u?.repeatedWrites),
            "repeated_writes_after_lost_response": count(u?.repeatsAfterLostResponse),
            "contract_violations": count(u?.contractViolations), "unknown_tool": count(u?.unknownTool),
            "phantom_calls": count(u?.phantomCalls),
          ])
        }),
      "recovery": .array(
        recovery.map { r in
          .object([
            "kind": .string(r.kind), "trials": .number(Double(r.count.trials)),
            "passed": .number(Double(r.count.passed)), "rate": JSONReport.number(r.count.rate),
            "interval": JSONReport.pair(r.interval),
          ])
        }),
      "variants": .array(
        variants.map { t in
          .object([
            "task_id": .string(t.task), "worst": .number(Double(t.worst)),
            "variants": .array(
              t.variants.map { v in
                .object([
                  "variant": .number(Double(v.variant)), "trials": .number(Double(v.count.trials)),
                  "passed": .number(Double(v.count.passed)), "success_rate": JSONReport.number(v.count.rate),
                ])
              }),
          ])
        }),
    ])
  }

  /// The columns of robustness.csv: one row per agent and condition, then one per fault kind and
  /// per variant (`row` says which; unused columns are empty).
  public static let csvColumns = [
    "run_id", "agent", "row", "condition", "fault_kind", "task_id", "variant", "trials", "passed", "rate",
    "rate_low", "rate_high", "sustained_success", "sustained_low", "sustained_high", "fault_cliff", "recovery_rate",
    "calls_per_trial", "retries_after_fault", "repeated_writes", "repeated_writes_after_lost_response",
    "contract_violations", "phantom_calls",
  ]

  /// robustness.csv: the sections of `report` as rows (a header only for a run without conditions).
  public static func csv(_ report: RunReport) -> String {
    typealias Cell = CSVExport.Cell
    var rows: [[Cell]] = []
    let id = report.run.id
    for s in sections(report) {
      for a in s.conditions {
        let m = a.metrics
        let u = a.toolUse
        rows.append([
          .text(id), .text(s.agent), .text("condition"), .text(m.condition), .text(nil), .text(nil), .integer(nil),
          .integer(m.trials), .integer(m.tasks.reduce(0) { $0 + $1.passes }), .number(m.successRate),
          .number(m.intervals.successRate?.low), .number(m.intervals.successRate?.high), .number(m.sustainedSuccess),
          .number(m.intervals.sustainedSuccess?.low), .number(m.intervals.sustainedSuccess?.high),
          .number(m.faultCliff), .number(m.recoveryRate), .number(u?.callsPerTrial), .integer(u?.retriesAfterFault),
          .integer(u?.repeatedWrites), .integer(u?.repeatsAfterLostResponse), .integer(u?.contractViolations),
          .integer(u?.phantomCalls),
        ])
      }
      for r in s.recovery {
        rows.append(
          [
            .text(id), .text(s.agent), .text("recovery"), .text(nil), .text(r.kind), .text(nil), .integer(nil),
            .integer(r.count.trials), .integer(r.count.passed), .number(r.count.rate), .number(r.interval?.low),
            .number(r.interval?.high),
          ] + Array(repeating: Cell.text(nil), count: 11))
      }
      for t in s.variants {
        for v in t.variants {
          rows.append(
            [
              .text(id), .text(s.agent), .text("variant"), .text(nil), .text(nil), .text(t.task), .integer(v.variant),
              .integer(v.count.trials), .integer(v.count.passed), .number(v.count.rate),
            ] + Array(repeating: Cell.text(nil), count: 13))
        }
      }
    }
    return CSVExport.table(csvColumns, rows)
  }
}
