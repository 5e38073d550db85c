import EvalhCore
import EvalhStore

/// The trials behind a task's figure, for the HTML report's drill-down.
public struct TaskDetail: Sendable {
  /// The agent (with its condition, when the run has conditions): `AgentMetrics.label`.
  public var agent: String
  /// The task's figures.
  public var task: TaskMetrics
  /// Its trials, with grades and tool calls.
  public var trials: [TrialRecord]

  /// A task's trials.
  public init(agent: String, task: TaskMetrics, trials: [TrialRecord]) {
    self.agent = agent
    self.task = task
    self.trials = trials
  }
}

/// Which tasks get a drill-down, and how it reads: failing and flaky tasks first (worst first), at
/// most `taskLimit` of them, every text cut, so the page of any run stays bounded.
public enum TrialDetails {
  /// Tasks whose trials are shown, at most.
  public static let taskLimit = 200
  /// Characters of an output, an error or a stderr tail shown.
  static let textLimit = 400
  /// Tool calls shown per trial.
  static let callLimit = 20
  /// Trials shown per task (the ones that did not pass first).
  public static let trialLimit = 8
  /// Grades shown per trial (the failed ones first).
  static let gradeLimit = 12
  /// Bytes of drill-down at most: past it, the remaining tasks are left out like those past `taskLimit`.
  public static let byteBudget = 4_000_000

  /// The tasks to show, across agents: every agent's non-passing tasks, worst first, interleaved so
  /// that each agent gets its share, at most `taskLimit`.
  public static func selection(_ report: RunReport, limit: Int = taskLimit) -> [(
    agent: AgentMetrics, task: TaskMetrics
  )] {
    let lists = report.agents.map { a in a.tasksWorstFirst.filter { $0.passHatN < 1 }.map { (a.metrics, $0) } }
    var picked: [(agent: AgentMetrics, task: TaskMetrics)] = []
    var depth = 0
    while picked.count < limit, lists.contains(where: { depth < $0.count }) {
      for list in lists where depth < list.count && picked.count < limit { picked.append(list[depth]) }
      depth += 1
    }
    return picked
  }

  /// How many non-passing tasks the selection leaves out.
  public static func leftOut(_ report: RunReport, shown: Int) -> Int {
    report.agents.reduce(0) { $0 + $1.metrics.tasks.filter { $0.passHatN < 1 }.count } - shown
  }

  /// The section's body: one `<details>` per task, no script needed to open it.
  static func html(_ details: [TaskDetail], leftOut: Int, runID: String) -> String {
    let x = Escape.xml
    guard !details.isEmpty || leftOut > 0 else { return "<p class=\"note\">Every trial of every task passed.</p>" }
    var out = ""
    var leftOut = leftOut
    for (index, d) in details.enumerated() {
      let t = d.task
      var block =
        "<details class=\"task\"><summary><b>\(x(t.taskID))</b> · \(x(d.agent)) · \(t.passes)/\(t.trials) passed"
      if t.errors > 0 { block += " · \(t.errors) error\(t.errors == 1 ? "" : "s") or timeouts" }
      if t.violations > 0 { block += " · \(t.violations) violation\(t.violations == 1 ? "" : "s")" }
      block += "</summary>"
      // The trials that did not pass first, in trial order within each group.
      // (The store reads only these: `trials(…, failedFirst: trialLimit)`.)
      let ordered = d.trials.filter { $0.status != .pass } + d.trials.filter { $0.status == .pass }
      for trial in ordered.prefix(trialLimit) { block += html(trial) }
      let recorded = max(ordered.count, t.trials + t.graderErrors)
      if recorded > trialLimit {
        block +=
          "<p class=\"note\">\(recorded - trialLimit) more trials: <code>evalh show \(x(runID)) --task \(x(t.taskID))</code></p>"
      }
      block += "</details>\n"
      if out.utf8.count + block.utf8.count > byteBudget {
        leftOut += details.count - index
        break
      }
      out += block
    }
    if leftOut > 0 {
      out +=
        "<p class=\"note\">\(leftOut) more failing or flaky task\(leftOut == 1 ? " is" : "s are") left out to keep this page small: <code>evalh show \(x(runID)) --task ID</code> shows any task's trials.</p>"
    }
    return out
  }

  static func html(_ t: TrialRecord) -> String {
    let x = Escape.xml
    var out = "<div class=\"trial \(t.status.rawValue)\"><p><b>trial \(t.trial)</b> · \(t.status.rawValue)"
    if let kind = t.errorKind { out += " (\(x(kind.rawValue)))" }
    out += " · \(x(Fmt.millis(t.latencyMs)))</p>"
    if let error = t.error { out += "<p class=\"err\">\(x(cut(error)))</p>" }
    if !t.grades.isEmpty {
      out += "<ul>"
      let failedFirst = t.grades.filter { !$0.passed } + t.grades.filter(\.passed)
      for g in failedFirst.prefix(gradeLimit) {
        let mark = g.passed ? "✓" : "✗"
        out += "<li class=\"\(g.passed ? "ok" : "bad")\">\(mark) \(x(g.kind.rawValue)) \(x(g.grader))"
        if let detail = g.detail { out += " — \(x(cut(detail)))" }
        out += "</li>"
      }
      if t.grades.count > gradeLimit { out += "<li>… \(t.grades.count - gradeLimit) more</li>" }
      out += "</ul>"
    }
    if !t.toolCalls.isEmpty {
      out += "<ol class=\"calls\">"
      for call in t.toolCalls.prefix(callLimit) {
        var line = "\(call.tool)(\(cut(call.arguments.compactText, 120))) → "
        line += call.isError ? "error: " : ""
        line += cut(call.result.map { $0.stringValue ?? $0.compactText } ?? "(none)", 120)
        if let problem = call.problem { line += " [\(problem.rawValue)]" }
        out += "<li>\(x(line))</li>"
      }
      if t.toolCalls.count > callLimit { out += "<li>… \(t.toolCalls.count - callLimit) more calls</li>" }
      out += "</ol>"
    }
    out += "<pre>\(x(cut(ShowReport.display(t.outputJSON))))</pre>"
    if let stderr = t.stderrTail, !stderr.isEmpty { out += "<pre class=\"err\">\(x(cut(stderr)))</pre>" }
    return out + "</div>"
  }

  /// At most `limit` characters, with a mark where it was cut.
  static func cut(_ text: String, _ limit: Int = textLimit) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + " … (cut)"
  }
}
