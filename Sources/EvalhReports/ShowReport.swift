import EvalhCore
import EvalhStore
import Foundation

/// `evalh show`: the trial grid and one trial's detail; `evalh runs`: the run list.
public enum ShowReport {
  /// One mark per trial status.
  static func mark(_ status: TrialStatus?) -> String {
    switch status {
    case .pass?: "✓"
    case .fail?: "✗"
    case .error?: "E"
    case .timeout?: "T"
    case nil: "·"
    }
  }

  /// Tasks × trials per agent (and condition): ✓ pass, ✗ fail, E error, T timeout, · not recorded.
  public static func grid(run: RunRecord, trials: [TrialRecord]) -> String {
    var out = "run \(Escape.terminal(run.id)) · suite \(Escape.terminal(run.suite)) · \(run.status.rawValue)\n"
    out += "✓ pass  ✗ fail  E error  T timeout  · not recorded\n"
    let showsCondition = run.plan.conditions.count > 1
    func name(_ agent: String, _ condition: String) -> String {
      showsCondition ? "\(agent) @ \(condition)" : agent
    }
    let byAgent = Dictionary(grouping: trials) { name($0.agent, $0.condition) }
    let shownConditions = run.plan.conditions.filter { c in trials.contains { $0.condition == c } }
    let agents =
      run.plan.agents.isEmpty
      ? byAgent.keys.sorted()
      : run.plan.agents.flatMap { a in
        (shownConditions.isEmpty ? run.plan.conditions : shownConditions).map { name(a, $0) }
      }
    let tasks =
      run.plan.tasks.isEmpty
      ? Set(trials.map(\.taskID)).sorted().map { RunPlan.PlannedTask(id: $0, trials: run.trials) } : run.plan.tasks
    let width = max(4, min(40, tasks.map { $0.id.count }.max() ?? 4))
    for agent in agents {
      out += "\nagent \(Escape.terminal(agent))\n"
      let status = Dictionary(
        (byAgent[agent] ?? []).map { ("\($0.taskID)#\($0.trial)", $0.status) }, uniquingKeysWith: { a, _ in a })
      for task in tasks {
        let marks = (1...max(1, task.trials)).map { mark(status["\(task.id)#\($0)"]) }
        let passes = marks.filter { $0 == "✓" }.count
        let recorded = marks.filter { $0 != "·" }.count
        out +=
          "  \(Fmt.pad(Escape.terminal(String(task.id.prefix(40))), width))  \(marks.joined(separator: " "))  \(passes)/\(recorded)\n"
      }
    }
    return out
  }

  /// Everything stored about one trial, agent text made terminal-safe. A trial that received
  /// another input than the task's (a variant, a perturbation) shows both, `taskInput` being the task's.
  public static func detail(_ t: TrialRecord, taskInput: String? = nil, showsCondition: Bool = false) -> String {
    var out = "\(Escape.terminal(t.agent))"
    if showsCondition || t.condition != Condition.defaultName { out += " @ \(Escape.terminal(t.condition))" }
    out += " · \(Escape.terminal(t.taskID)) · trial \(t.trial): \(t.status.rawValue)"
    if let kind = t.errorKind { out += " (\(kind.rawValue))" }
    out += "\n"
    if let received = t.inputJSON {
      if let variant = t.variant { out += "variant:   #\(variant) of the task's inputs (0 is its input)\n" }
      out += "input:     \(Escape.terminal(displayLine(taskInput)))   (the task's)\n"
      out += "received:  \(Escape.terminal(displayLine(received)))   (what the agent was sent)\n"
    } else if let variant = t.variant {
      out += "variant:   #\(variant) of the task's inputs (0 is its input)\n"
    }
    if let error = t.error { out += "error:     \(Escape.terminal(error))\n" }
    out += "latency:   \(Fmt.millis(t.latencyMs))   attempts \(t.attempts)   seed \(t.seed)\n"
    let tokens = [t.inputTokens.map { "\($0) in" }, t.outputTokens.map { "\($0) out" }].compactMap { $0 }
    out +=
      "usage:     \(tokens.isEmpty ? "tokens unknown" : tokens.joined(separator: ", ")), cost \(Fmt.usd(t.costUSD))\n"
    out += "started:   \(Timestamp.format(t.startedAt))   finished \(Timestamp.format(t.finishedAt))\n"
    if t.truncated { out += "truncated: stdout was longer than the output limit and was cut\n" }
    if let workdir = t.workdir { out += "workdir:   \(Escape.terminal(workdir)) (kept by --keep-failed)\n" }
    if !t.grades.isEmpty {
      out += "grades:\n"
      for g in t.grades {
        let verdict =
          g.kind == .assure ? (g.passed ? "ok       " : "VIOLATED ") : (g.passed ? "pass     " : "FAIL     ")
        out += "  \(g.kind.rawValue)  \(verdict)\(Escape.terminal(g.grader))"
        if let s = g.score { out += String(format: "  score %.2f", s) }
        if let d = g.detail { out += "  — \(Escape.terminal(d))" }
        out += "\n"
      }
    }
    if !t.toolCalls.isEmpty || t.phantomCalls != nil {
      out += toolCalls(t)
    }
    out += "output:\n\(indent(Escape.terminal(display(t.outputJSON), multiline: true)))\n"
    if let steps = t.stepsJSON, let value = JSONValue.parse(steps) {
      out += "steps:\n\(indent(Escape.terminal(value.prettyText, multiline: true)))\n"
    }
    if let stderr = t.stderrTail, !stderr.isEmpty {
      out += "stderr (tail):\n\(indent(Escape.terminal(stderr, multiline: true)))\n"
    }
    return out
  }

  /// The calls the agent made to served tools, in order, problems and faults marked.
  static func toolCalls(_ t: TrialRecord) -> String {
    var out = "tool calls (\(t.toolCalls.count), as served"
    if let phantoms = t.phantomCalls, phantoms > 0 {
      out += "; \(phantoms) reported call\(phantoms == 1 ? "" : "s") never made"
    }
    out += "):\n"
    for call in t.toolCalls {
      var line =
        "  \(call.seq). \(Escape.terminal(call.tool))(\(Escape.terminal(String(call.arguments.compactText.prefix(200)))))"
      line += " → "
      line += call.isError ? "error: " : ""
      line += Escape.terminal(String((call.result.map { $0.stringValue ?? $0.compactText } ?? "(none)").prefix(200)))
      line += "  \(Fmt.millis(call.latencyMs))"
      if let problem = call.problem { line += "  [\(problem.rawValue)]" }
      if let fault = call.fault { line += "  [fault: \(Escape.terminal(fault))]" }
      out += line + "\n"
    }
    return out
  }

  /// A stored output: strings shown as text, other JSON indented.
  static func display(_ json: String?) -> String {
    guard let json else { return "(none)" }
    guard let value = JSONValue.parse(json) else { return json }
    return value.stringValue ?? value.prettyText
  }

  /// `display` on one line: a JSON value compact, so two of them read side by side.
  static func displayLine(_ json: String?) -> String {
    guard let json else { return "(none)" }
    guard let value = JSONValue.parse(json) else { return json }
    return value.stringValue ?? value.compactText
  }

  static func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
  }

  /// `evalh runs`: newest first, with recorded/planned trials and the headline success rate.
  public static func runs(_ rows: [(run: RunRecord, recorded: Int, success: Double?)]) -> String {
    guard !rows.isEmpty else { return "no runs yet\n" }
    let header = ["id", "suite", "label", "agents", "status", "trials", "started", "duration", "success"]
    let cells = rows.map { r -> [String] in
      let run = r.run
      let duration = run.finishedAt.map { Durations.format($0.timeIntervalSince(run.startedAt)) } ?? "–"
      return [
        Escape.terminal(run.id), Escape.terminal(String(run.suite.prefix(20))),
        Escape.terminal(String((run.label ?? "–").prefix(13))),
        Escape.terminal(String(run.plan.agents.joined(separator: ",").prefix(14))), run.status.rawValue,
        "\(r.recorded)/\(run.plan.wholeTrialCount)", String(Timestamp.format(run.startedAt).prefix(19)), duration,
        Fmt.percent(r.success),
      ]
    }
    // Each column as wide as its widest cell, two spaces between: wide counts never run together.
    let widths = header.indices.map { i in ([header] + cells).map { $0[i].count }.max() ?? 0 }
    func line(_ row: [String]) -> String {
      row.indices.map { i in i == row.count - 1 ? row[i] : Fmt.pad(row[i], widths[i] + 2) }.joined() + "\n"
    }
    return ([header] + cells).map(line).joined()
  }

  /// `evalh runs --json`.
  public static func runsJSON(_ rows: [(run: RunRecord, recorded: Int, success: Double?)]) -> String {
    JSONValue.array(
      rows.map { r in
        .object([
          "id": .string(r.run.id), "suite": .string(r.run.suite), "label": r.run.label.map(JSONValue.string) ?? .null,
          "agents": .array(r.run.plan.agents.map { .string($0) }), "status": .string(r.run.status.rawValue),
          "trials_recorded": .number(Double(r.recorded)), "trials_planned": .number(Double(r.run.plan.wholeTrialCount)),
          "started_at": .string(Timestamp.format(r.run.startedAt)),
          "finished_at": r.run.finishedAt.map { .string(Timestamp.format($0)) } ?? .null,
          "success_rate": r.success.map { .number($0) } ?? .null,
        ])
      }
    ).prettyText + "\n"
  }
}
