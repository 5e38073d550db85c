import EvalhCore
import EvalhStore
import Foundation

/// `evalh compare` in every format: per agent, base → candidate for each metric, with the delta,
/// its interval (two-sided 1 − 2·alpha: its upper end is the one-sided test of a drop) and a verdict; then regressed tasks, newly flaky tasks, and cost/latency flags.
public enum CompareReport {
  static func value(_ m: MetricComparison) -> String {
    switch m.metric {
    case .costPerTrial: Fmt.usd(m.base) + " → " + Fmt.usd(m.candidate)
    case .latencyP95: Fmt.millis(m.base) + " → " + Fmt.millis(m.candidate)
    default: Fmt.percent(m.base) + " → " + Fmt.percent(m.candidate)
    }
  }

  static func delta(_ m: MetricComparison) -> String {
    guard let d = m.delta else { return "–" }
    switch m.metric {
    case .costPerTrial, .latencyP95: return String(format: "×%.2f", d)
    default:
      var text = String(format: "%+.1f pts", d * 100)
      if let i = m.interval {
        text +=
          i.low.isFinite
          ? String(format: " [%+.1f, %+.1f]", i.low * 100, i.high * 100) : " [one shared task: Fisher exact]"
      }
      return text
    }
  }

  static func name(_ m: MetricComparison) -> String {
    m.k.map { "\(m.metric.rawValue) (k=\($0))" } ?? m.metric.rawValue
  }

  static func header(_ base: RunRecord, _ candidate: RunRecord) -> String {
    "compare \(Escape.terminal(base.id)) → \(Escape.terminal(candidate.id)) · suite \(Escape.terminal(base.suite))"
  }

  /// The comparison for a terminal.
  public static func text(_ c: Comparison, base: RunRecord, candidate: RunRecord) -> String {
    var out = Escape.terminal(header(base, candidate)) + "\n"
    if base.suite != candidate.suite {
      out += "  note: different suites (\(Escape.terminal(base.suite)) vs \(Escape.terminal(candidate.suite)))\n"
    }
    for name in c.onlyInBase {
      out += "  agent \(Escape.terminal(name)) is only in the base run: missing from the candidate, the gate fails\n"
    }
    for name in c.onlyInCandidate { out += "  agent \(Escape.terminal(name)) is only in the candidate run\n" }
    out +=
      "  deltas with their \(Fmt.number((100 - 200 * c.alpha).rounded()))% interval; a gated rate regressed when the drop is significant (one-sided at α = \(Fmt.number(c.alpha)), Holm across the gated rates) and at least \(Fmt.number(c.minEffect * 100)) points\n"
    for a in c.agents {
      out += "\nagent \(Escape.terminal(a.agent)) — \(a.sharedTasks) shared task\(a.sharedTasks == 1 ? "" : "s")"
      if !a.onlyInBase.isEmpty || !a.onlyInCandidate.isEmpty {
        out += " (\(a.onlyInBase.count) only in base, \(a.onlyInCandidate.count) only in candidate)"
      }
      out += a.regressed ? ": REGRESSED\n" : "\n"
      for m in a.metrics {
        let change = delta(m)
        out += "  " + Fmt.pad(name(m), 24) + Fmt.pad(value(m), 20) + Fmt.pad(change, 30)
        out += (change.count >= 30 ? " " : "") + m.verdict.rawValue
        out += m.gated ? "  (gated)\n" : "\n"
      }
      if let sees = sees(a) { out += "  \(sees)\n" }
      if !a.regressedTasks.isEmpty {
        out += "  regressed tasks (Fisher exact, Holm at α = \(Fmt.number(c.alpha))):\n"
        for t in a.regressedTasks {
          out +=
            "    \(Escape.terminal(t.taskID))  \(t.base.passes)/\(t.base.trials) → \(t.candidate.passes)/\(t.candidate.trials)  p = \(String(format: "%.4f", t.pValue))\n"
        }
      }
      if !a.newlyFlaky.isEmpty {
        out += "  newly flaky: \(a.newlyFlaky.map { Escape.terminal($0) }.joined(separator: ", "))\n"
      }
      for flag in a.flags { out += "  flag: \(flag)\n" }
      if !a.onlyInBase.isEmpty {
        out += "  tasks only in base: \(Escape.terminal(a.onlyInBase.joined(separator: ", ")))\n"
      }
      if !a.onlyInCandidate.isEmpty {
        out += "  tasks only in candidate: \(Escape.terminal(a.onlyInCandidate.joined(separator: ", ")))\n"
      }
    }
    out += c.regressed ? "\nverdict: regression\n" : "\nverdict: no regression\n"
    return out
  }

  /// What the gated rates can see: "the gate sees a drop of 8 points in success_rate, 12 in pass_hat_k
  /// (80% power)"; nil when there are none to say.
  static func sees(_ a: AgentComparison) -> String? {
    let parts = a.metrics.filter(\.gated).compactMap { m in
      m.detectableDrop.map { "\(String(format: "%.1f", $0 * 100)) points in \(name(m))" }
    }
    guard !parts.isEmpty else { return nil }
    return "the gate sees a drop of " + parts.joined(separator: ", ") + " (80% power at this suite's size and noise)"
  }

  /// The comparison as Markdown.
  public static func markdown(_ c: Comparison, base: RunRecord, candidate: RunRecord) -> String {
    var out =
      "## evalh compare · \(Escape.markdown(base.suite))\n\n`\(base.id)` → `\(candidate.id)`: **\(c.regressed ? "regression" : "no regression")**\n"
    for a in c.agents {
      out +=
        "\n### Agent \(Escape.markdown(a.agent)) (\(a.sharedTasks) shared task\(a.sharedTasks == 1 ? "" : "s"))\(a.regressed ? " ❌ regressed" : "")\n\n"
      out +=
        "| metric | base → candidate | delta [\(Fmt.number((100 - 200 * c.alpha).rounded()))% interval] | verdict |\n| --- | --- | --- | --- |\n"
      for m in a.metrics {
        out +=
          "| \(Escape.markdown(name(m)))\(m.gated ? " (gated)" : "") | \(value(m)) | \(delta(m)) | \(m.verdict.rawValue) |\n"
      }
      if let sees = sees(a) {
        out += "\n" + Escape.markdown(sees).prefix(1).uppercased() + Escape.markdown(sees).dropFirst() + ".\n"
      }
      if !a.regressedTasks.isEmpty {
        out +=
          "\nRegressed tasks: "
          + a.regressedTasks.map {
            "\(Escape.markdown($0.taskID)) (\($0.base.passes)/\($0.base.trials) → \($0.candidate.passes)/\($0.candidate.trials), p = \(String(format: "%.4f", $0.pValue)))"
          }.joined(separator: ", ") + "\n"
      }
      if !a.newlyFlaky.isEmpty {
        out += "\nNewly flaky: " + a.newlyFlaky.map(Escape.markdown).joined(separator: ", ") + "\n"
      }
      for flag in a.flags { out += "\n⚠️ \(Escape.markdown(flag))\n" }
    }
    return out
  }

  /// The comparison as JSON.
  public static func json(_ c: Comparison, base: RunRecord, candidate: RunRecord) -> String {
    func number(_ x: Double?) -> JSONValue {
      x.flatMap { $0.isFinite ? JSONValue.number(Fmt.significant($0)) : nil } ?? .null
    }
    let agents: [JSONValue] = c.agents.map { a in
      .object([
        "agent": .string(a.agent), "shared_tasks": .number(Double(a.sharedTasks)), "regressed": .bool(a.regressed),
        "only_in_base": .array(a.onlyInBase.map { .string($0) }),
        "only_in_candidate": .array(a.onlyInCandidate.map { .string($0) }),
        "metrics": .array(
          a.metrics.map { m in
            .object([
              "metric": .string(m.metric.rawValue), "k": m.k.map { .number(Double($0)) } ?? .null,
              "base": number(m.base), "candidate": number(m.candidate), "delta": number(m.delta),
              "interval": m.interval.map { .array([number($0.low), number($0.high)]) } ?? .null,
              "verdict": .string(m.verdict.rawValue), "gated": .bool(m.gated), "p_value": number(m.pValue),
              "detectable_drop": number(m.detectableDrop),
            ])
          }),
        "regressed_tasks": .array(
          a.regressedTasks.map { t in
            .object([
              "task_id": .string(t.taskID),
              "base": .array([.number(Double(t.base.passes)), .number(Double(t.base.trials))]),
              "candidate": .array([.number(Double(t.candidate.passes)), .number(Double(t.candidate.trials))]),
              "p_value": .number(t.pValue),
            ])
          }),
        "newly_flaky": .array(a.newlyFlaky.map { .string($0) }), "flags": .array(a.flags.map { .string($0) }),
      ])
    }
    return JSONValue.object([
      "base": .string(base.id), "candidate": .string(candidate.id), "suite": .string(base.suite),
      "alpha": .number(c.alpha), "min_effect": .number(c.minEffect), "regressed": .bool(c.regressed),
      "agents": .array(agents),
    ]).prettyText + "\n"
  }

  /// JUnit: a `<testsuite>` per agent, a `<testcase>` per gated metric (classname `suite.agent.metrics`)
  /// and per regressed or newly flaky task (`suite.agent`); regressions are failures. Newly flaky
  /// tasks that are not significant pass and are named in the suite's output. An agent of the base
  /// run missing from the candidate is a suite of one failed case.
  public static func junit(_ c: Comparison, base: RunRecord, candidate: RunRecord) -> String {
    func suite(_ agent: String, _ cases: [JUnitXML.TestCase], output: String = "") -> JUnitXML.TestSuite {
      JUnitXML.TestSuite(
        name: agent, package: base.suite, seconds: 0, timestamp: candidate.startedAt, hostname: candidate.host,
        properties: [
          ("base", base.id), ("candidate", candidate.id), ("alpha", JUnitXML.number(c.alpha)),
          ("min_effect", JUnitXML.number(c.minEffect)),
        ],
        cases: cases, output: output)
    }
    var suites = c.agents.map { a -> JUnitXML.TestSuite in
      let classname = "\(base.suite).\(a.agent)"
      var cases = a.metrics.filter(\.gated).map { m in
        JUnitXML.TestCase(
          classname: classname + ".metrics", name: name(m), seconds: 0,
          outcome: m.verdict == .regressed
            ? .failure(type: "regression", message: "regressed: \(value(m)), \(delta(m))", detail: "") : .passed)
      }
      for t in a.regressedTasks {
        let message =
          "regressed: \(t.base.passes)/\(t.base.trials) → \(t.candidate.passes)/\(t.candidate.trials) trials passed (p = \(String(format: "%.4f", t.pValue)))"
        cases.append(
          JUnitXML.TestCase(
            classname: classname, name: t.taskID, seconds: 0,
            outcome: .failure(type: "regression", message: message, detail: "")))
      }
      let regressed = Set(a.regressedTasks.map(\.taskID))
      let flakyOnly = a.newlyFlaky.filter { !regressed.contains($0) }.reduce(into: [String]()) {
        if !$0.contains($1) { $0.append($1) }
      }
      for task in flakyOnly {
        cases.append(JUnitXML.TestCase(classname: classname, name: task, seconds: 0, outcome: .passed))
      }
      let output = flakyOnly.isEmpty ? "" : "newly flaky (not significant): " + flakyOnly.joined(separator: ", ")
      return suite(a.agent, cases, output: output)
    }
    for agent in c.onlyInBase {
      let missing = JUnitXML.TestCase(
        classname: "\(base.suite).\(agent)", name: "present in the candidate", seconds: 0,
        outcome: .failure(
          type: "missing_agent", message: "agent \(agent) is in the base run but not in the candidate", detail: ""))
      suites.append(suite(agent, [missing]))
    }
    return JUnitXML(suites: suites).render()
  }
}
