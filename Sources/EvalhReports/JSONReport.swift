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
    ])
  }

  /// The report as indented JSON text.
  public static func render(_ report: RunReport) -> String { value(report).prettyText + "\n" }

  static func number(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
  static func pair(_ i: (low: Double, high: Double)?) -> JSONValue {
    i.map { .array([.number($0.low), .number($0.high)]) } ?? .null
  }

  static func agent(_ a: AgentReport) -> JSONValue {
    let m = a.metrics
    var passHat: [String: JSONValue] = [:]
    var passAt: [String: JSONValue] = [:]
    for k in m.passHatK.indices {
      passHat[String(k + 1)] = .number(m.passHatK[k])
      passAt[String(k + 1)] = .number(m.passAtK[k])
    }
    let latency = JSONValue.object([
      "p50": number(m.latency.p50), "p90": number(m.latency.p90), "p95": number(m.latency.p95),
      "p99": number(m.latency.p99), "max": number(m.latency.max), "mean": number(m.latency.mean),
    ])
    let metrics: [String: JSONValue] = [
      "success_rate": number(m.successRate), "first_run_success": number(m.firstRunSuccess),
      "sustained_success": number(m.sustainedSuccess), "reliability_cliff": number(m.reliabilityCliff),
      "consistency": number(m.consistency), "pass_hat_k": .object(passHat), "pass_at_k": .object(passAt),
      "efficacy_rate": number(m.efficacyRate), "assurance_rate": number(m.assuranceRate),
      "violations": .number(Double(m.violations)), "cost_total_usd": number(m.costTotalUSD),
      "cost_per_trial_usd": number(m.costPerTrialUSD), "cost_per_success_usd": number(m.costPerSuccessUSD),
      "cost_unknown_trials": .number(Double(m.costUnknownTrials)), "latency_ms": latency,
      "errors": .object(m.errors.mapValues { .number(Double($0)) }),
    ]
    return .object([
      "agent": .string(m.agent), "task_count": .number(Double(m.tasks.count)), "trials": .number(Double(m.trials)),
      "n_min": .number(Double(m.nMin)), "metrics": .object(metrics),
      "intervals": .object([
        "success_rate": pair(a.successInterval), "first_run_success": pair(a.firstRunInterval),
        "sustained_success": pair(a.sustainedInterval),
      ]),
      "flaky_tasks": .array(m.flakyTasks.map { .string($0) }),
      "short_tasks": .array(m.shortTasks.map { .string($0) }),
      "tasks": .array(
        m.tasks.map { t in
          .object([
            "task_id": .string(t.taskID), "trials": .number(Double(t.trials)), "planned": .number(Double(t.planned)),
            "passes": .number(Double(t.passes)), "first_run": .bool(t.firstRun), "success_rate": .number(t.successRate),
            "pass_hat_k": .number(t.passHatN), "interval": pair(t.interval), "latency_p95_ms": number(t.latencyP95Ms),
            "cost_per_trial_usd": number(t.costPerTrialUSD), "violations": .number(Double(t.violations)),
            "errors": .number(Double(t.errors)),
          ])
        }),
    ])
  }
}
