import Crypto
import EvalhCore
import Foundation

/// One trial as a trace, after the OpenTelemetry GenAI semantic conventions where they apply: an
/// `invoke_agent` span for the trial, an `execute_tool` child per served tool call, a child per
/// grade, and the verdict as a `gen_ai.evaluation.result` event. Ids derive from the trial's key,
/// so exporting a run twice sends the same trace and span ids (receivers deduplicate). What is
/// stored is already redacted, so the trace carries no secret.
public enum TrialTrace {
  /// The trace id of a trial: the first 16 bytes of SHA-256 over its key.
  public static func traceID(runID: String, agent: String, condition: String, task: String, trial: Int) -> [UInt8] {
    let key = [runID, agent, condition, task, String(trial)].joined(separator: "\u{1F}")
    return Array(SHA256.hash(data: Data(key.utf8)).prefix(16))
  }

  /// A span id within a trace: 8 bytes of SHA-256 over the trace id and the span's role.
  static func spanID(_ trace: [UInt8], _ role: String) -> [UInt8] {
    Array(SHA256.hash(data: Data(trace + Array(role.utf8))).prefix(8))
  }

  /// The spans of trial `t` of suite `suite`: the trial's first, then its calls, then its grades.
  public static func spans(_ t: TrialRecord, suite: String) -> [Span] {
    let trace = traceID(runID: t.runID, agent: t.agent, condition: t.condition, task: t.taskID, trial: t.trial)
    let root = spanID(trace, "trial")
    let end = t.startedAt.addingTimeInterval(max(0, t.latencyMs) / 1000)
    var attributes: [(String, AttributeValue)] = [
      ("gen_ai.operation.name", .string("invoke_agent")), ("gen_ai.agent.name", .string(t.agent)),
      ("evalh.run_id", .string(t.runID)), ("evalh.suite", .string(suite)), ("evalh.task_id", .string(t.taskID)),
      ("evalh.trial", .int(Int64(t.trial))), ("evalh.condition", .string(t.condition)),
      ("evalh.seed", .int(t.seed)), ("evalh.status", .string(t.status.rawValue)),
      ("evalh.attempts", .int(Int64(t.attempts))), ("evalh.violations", .int(Int64(t.violations))),
    ]
    if let n = t.inputTokens { attributes.append(("gen_ai.usage.input_tokens", .int(Int64(n)))) }
    if let n = t.outputTokens { attributes.append(("gen_ai.usage.output_tokens", .int(Int64(n)))) }
    if let cost = t.costUSD { attributes.append(("evalh.cost_usd", .double(cost))) }
    if let variant = t.variant { attributes.append(("evalh.variant", .int(Int64(variant)))) }
    if let kind = t.errorKind { attributes.append(("error.type", .string(kind.rawValue))) }
    if t.status == .timeout { attributes.append(("error.type", .string("timeout"))) }
    var verdict: [(String, AttributeValue)] = [
      ("gen_ai.evaluation.name", .string("evalh")), ("gen_ai.evaluation.score.label", .string(t.status.rawValue)),
    ]
    if let score = t.efficacyScore { verdict.append(("gen_ai.evaluation.score.value", .double(score))) }
    if let error = t.error { verdict.append(("gen_ai.evaluation.explanation", .string(String(error.prefix(1000))))) }
    var trial = Span(
      traceID: trace, spanID: root, name: "invoke_agent \(t.agent)", kind: .client, start: t.startedAt, end: end,
      attributes: attributes, events: [Span.Event(name: "gen_ai.evaluation.result", time: end, attributes: verdict)])
    switch t.status {
    case .pass: trial.status = .ok
    case .fail: trial.status = .unset
    case .error, .timeout:
      trial.status = .error
      trial.statusMessage = String((t.error ?? t.status.rawValue).prefix(1000))
    }
    var out = [trial]
    for call in t.toolCalls {
      var a: [(String, AttributeValue)] = [
        ("gen_ai.operation.name", .string("execute_tool")), ("gen_ai.tool.name", .string(call.tool)),
        ("gen_ai.tool.call.id", .string(String(call.seq))),
        ("gen_ai.tool.call.arguments", .string(String(call.arguments.compactText.prefix(4000)))),
      ]
      if let result = call.result {
        a.append(("gen_ai.tool.call.result", .string(String((result.stringValue ?? result.compactText).prefix(4000)))))
      }
      if let fault = call.fault { a.append(("evalh.fault", .string(fault))) }
      if let problem = call.problem { a.append(("evalh.problem", .string(problem.rawValue))) }
      if call.isError { a.append(("error.type", .string(call.fault ?? call.problem?.rawValue ?? "tool_error"))) }
      out.append(
        Span(
          traceID: trace, spanID: spanID(trace, "call \(call.seq)"), parentID: root, name: "execute_tool \(call.tool)",
          start: call.startedAt, end: call.startedAt.addingTimeInterval(max(0, call.latencyMs) / 1000), attributes: a,
          status: call.isError ? .error : .unset))
    }
    for (i, grade) in t.grades.enumerated() {
      var a: [(String, AttributeValue)] = [
        ("evalh.grade.kind", .string(grade.kind.rawValue)), ("evalh.grader", .string(grade.grader)),
        ("evalh.grade.passed", .bool(grade.passed)),
      ]
      if let score = grade.score { a.append(("evalh.grade.score", .double(score))) }
      if let detail = grade.detail { a.append(("evalh.grade.detail", .string(String(detail.prefix(1000))))) }
      out.append(
        Span(
          traceID: trace, spanID: spanID(trace, "grade \(i)"), parentID: root,
          name: "\(grade.kind == .assure ? "assure" : "grade") \(grade.grader)", start: end,
          end: t.finishedAt > end ? t.finishedAt : end, attributes: a, status: grade.passed ? .ok : .unset))
    }
    return out
  }
}
