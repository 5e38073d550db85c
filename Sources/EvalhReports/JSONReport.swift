import EvalhCore
import EvalhStore
import Foundation

/// The JSON report of reports.md (`report --format json`, `run --json`).
public enum JSONReport {
  /// The report as a JSON value; unknown values are null, never 0.
  public static func value(_ report: RunReport) -> JSONValue {
    let run = report.run
    return .object([
      "run": .object([
        "id": .string(run.id), "suite": .string(run.suite), "label": run.label.map(JSONValue.string) ?? .null,
        "status": .string(run.status.rawValue), "started_at": .string(Timestamp.format(run.startedAt)),
        "finished_at": run.finishedAt.map { .string(Timestamp.format($0)) } ?? .null, "seed": .number(Double(run.seed)),
        "trials": .number(Double(run.trials)), "stop_reason": run.stopReason.map(JSONValue.string) ?? .null,
      ]),
      "agents": .array(report.agents.map(agent)),
      // With more than one condition (or tasks with variants): tools.md's robustness section.
      "robustness": .array(Robustness.sections(report).map(\.json)),
    ])
  }

  /// The report as indented JSON text.
  public static func render(_ report: RunReport) -> String { value(report).prettyText + "\n" }

  /// 12 significant digits: float noise from summation order does not reach the report.
  static func number(_ x: Double?) -> JSONValue {
    guard let x, x.isFinite else { return .null }
    return .number(Fmt.significant(x))
  }

  static func pair(_ i: (low: Double, high: Double)?) -> JSONValue {
    i.map { .array([number($0.low), number($0.high)]) } ?? .null
  }

  static func byK(_ values: [Double]) -> JSONValue {
    .object(Dictionary(uniqueKeysWithValues: values.enumerated().map { (String($0.offset + 1), number($0.element)) }))
  }

  static func byK(_ values: [(low: Double, high: Double)?]) -> JSONValue {
    .object(Dictionary(uniqueKeysWithValues: values.enumerated().map { (String($0.offset + 1), pair($0.element)) }))
  }

  /// Served tools: what the agent's calls did (null when it had none).
  static func tools(_ u: ToolUseSummary) -> JSONValue {
    .object([
      "trials": .number(Double(u.trials)), "calls": .number(Double(u.calls)),
      "calls_per_trial": number(u.callsPerTrial), "contract_violations": .number(Double(u.contractViolations)),
      "invalid_arguments": .number(Double(u.invalidArguments)), "unknown_tool": .number(Double(u.unknownTool)),
      "phantom_calls": .number(Double(u.phantomCalls)), "repeated_writes": .number(Double(u.repeatedWrites)),
      "handler_failures": .number(Double(u.handlerFailures)), "invalid_results": .number(Double(u.invalidResults)),
    ])
  }

  static func agent(_ a: AgentReport) -> JSONValue {
    let m = a.metrics
    let clear = m.clear
    let latency = JSONValue.object([
      "p50": number(m.latency.p50), "p90": number(m.latency.p90), "p95": number(m.latency.p95),
      "p99": number(m.latency.p99), "max": number(m.latency.max), "mean": number(m.latency.mean),
    ])
    let metrics: [String: JSONValue] = [
      "success_rate": number(m.successRate), "first_run_success": number(m.firstRunSuccess),
      "sustained_success": number(m.sustainedSuccess), "reliability_cliff": number(m.reliabilityCliff),
      "consistency": number(m.consistency), "pass_hat_k": byK(m.passHatK), "pass_at_k": byK(m.passAtK),
      "efficacy_rate": number(m.efficacyRate), "efficacy_score": number(m.efficacyScore),
      "assurance_rate": number(m.assuranceRate), "policy_adherence": number(m.policyAdherence),
      "violations": .number(Double(m.violations)),
      "violations_by_check": .object(
        Dictionary(uniqueKeysWithValues: m.violationsByCheck.map { ($0.check, JSONValue.number(Double($0.count))) })),
      "cost_total_usd": number(m.costTotalUSD), "cost_per_trial_usd": number(m.costPerTrialUSD),
      "cost_per_success_usd": number(m.costPerSuccessUSD), "cost_unknown_trials": .number(Double(m.costUnknownTrials)),
      "judge_cost_usd": number(m.judgeCostUSD),
      "cna": number(m.cna), "latency_ms": latency, "sla_compliance": number(m.slaCompliance),
      "clear_score": number(clear.score),
      "clear": .object([
        "C": number(clear.cost), "L": number(clear.latency), "E": number(clear.efficacy), "A": number(clear.assurance),
        "R": number(clear.reliability),
        "weights": .object([
          "cost": .number(clear.weights.cost), "latency": .number(clear.weights.latency),
          "efficacy": .number(clear.weights.efficacy), "assurance": .number(clear.weights.assurance),
          "reliability": .number(clear.weights.reliability),
        ]),
        "missing": .array(clear.missing.map { .string($0) }),
      ]),
      "errors": .object(m.errors.mapValues { .number(Double($0)) }),
    ]
    let i = m.intervals
    var entry: [String: JSONValue] = [
      "agent": .string(m.agent), "condition": .string(m.condition), "task_count": .number(Double(m.tasks.count)),
      "trials": .number(Double(m.trials)),
      "n_min": .number(Double(m.nMin)), "metrics": .object(metrics),
      "intervals": .object([
        "success_rate": pair(i.successRate), "first_run_success": pair(i.firstRunSuccess),
        "sustained_success": pair(i.sustainedSuccess), "consistency": pair(i.consistency),
        "efficacy_rate": pair(i.efficacyRate), "assurance_rate": pair(i.assuranceRate),
        "policy_adherence": pair(i.policyAdherence), "sla_compliance": pair(i.slaCompliance),
        "pass_hat_k": byK(i.passHatK), "pass_at_k": byK(i.passAtK),
      ]),
      "flaky_tasks": .array(m.flakyTasks.map { .string($0) }),
      "short_tasks": .array(m.shortTasks.map { .string($0) }),
      "tasks": .array(
        a.tasksWorstFirst.map { t in
          .object([
            "task_id": .string(t.taskID), "trials": .number(Double(t.trials)), "planned": .number(Double(t.planned)),
            "passes": .number(Double(t.passes)), "first_run": .bool(t.firstRun), "success_rate": .number(t.successRate),
            "pass_hat_k": .number(t.passHatN), "interval": pair(t.interval), "latency_p95_ms": number(t.latencyP95Ms),
            "cost_per_trial_usd": number(t.costPerTrialUSD), "violations": .number(Double(t.violations)),
            "errors": .number(Double(t.errors)), "grader_errors": .number(Double(t.graderErrors)),
          ])
        }),
    ]
    // Present only for agents whose trials had served tools (tools.md).
    if let use = a.toolUse { entry["tools"] = tools(use) }
    return .object(entry)
  }
}
