import EvalhCore
import Foundation
import GRDB

/// What an agent's trials did with served tools: the report's tool section.
public struct ToolUseSummary: Sendable, Hashable {
  /// A summary from its counts.
  public init(
    trials: Int = 0, calls: Int = 0, unknownTool: Int = 0, invalidArguments: Int = 0, invalidResults: Int = 0,
    handlerFailures: Int = 0, phantomCalls: Int = 0, repeatedWrites: Int = 0
  ) {
    self.trials = trials
    self.calls = calls
    self.unknownTool = unknownTool
    self.invalidArguments = invalidArguments
    self.invalidResults = invalidResults
    self.handlerFailures = handlerFailures
    self.phantomCalls = phantomCalls
    self.repeatedWrites = repeatedWrites
  }

  /// Trials that had served tools.
  public var trials: Int
  /// Calls the agent made.
  public var calls: Int
  /// Calls to tools that do not exist.
  public var unknownTool: Int
  /// Calls whose arguments broke `input_schema`.
  public var invalidArguments: Int
  /// Results that broke `output_schema` (the suite's tool).
  public var invalidResults: Int
  /// Calls whose handler broke (the suite's side).
  public var handlerFailures: Int
  /// Reported tool calls never made.
  public var phantomCalls: Int
  /// Calls repeating an earlier call of a non-read-only tool with the same arguments in the same trial.
  public var repeatedWrites: Int

  /// Calls a condition's fault fired on.
  public var faultedCalls = 0
  /// Calls to a tool whose previous call in the trial met a fault: the agent tried again.
  public var retriesAfterFault = 0
  /// Repeated writes whose earlier call met `lost_response` (the write had happened; the retry did it twice).
  public var repeatsAfterLostResponse = 0
  /// Per fault kind: the trials (counted in the metrics) in which it fired, and how many of them passed.
  public var recovery: [String: PassCount] = [:]
  /// The trials in which any fault fired, and how many of them passed: the recovery rate.
  public var faultedTrials: PassCount?

  /// Contract violations by the agent: unknown tools and invalid arguments.
  public var contractViolations: Int { unknownTool + invalidArguments }
  /// Calls per trial that had served tools.
  public var callsPerTrial: Double? { trials == 0 ? nil : Double(calls) / Double(trials) }
}

/// Some trials, and how many of them passed: a recovery rate (the trials a fault fired in), a
/// variant's success.
public struct PassCount: Sendable, Hashable {
  /// Trials (those the metrics count).
  public var trials: Int
  /// Of them, those that passed.
  public var passed: Int
  /// A count.
  public init(trials: Int, passed: Int) {
    self.trials = trials
    self.passed = passed
  }
  /// passed / trials; nil without trials.
  public var rate: Double? { trials == 0 ? nil : Double(passed) / Double(trials) }
}

extension ResultStore {
  /// One trial's calls, in order.
  public func toolCalls(
    runID: String, agent: String, condition: String = Condition.defaultName, taskID: String, trial: Int
  ) throws(StoreError) -> [ObservedCall] {
    let path = self.path
    return try read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT seq, tool, arguments_json, result_json, is_error, fault, problem, latency_ms, started_at
          FROM tool_calls WHERE run_id = ? AND agent = ? AND condition = ? AND task_id = ? AND trial = ? ORDER BY seq
          """, arguments: [runID, agent, condition, taskID, trial])
      var calls: [ObservedCall] = []
      while let row = try rows.next() { calls.append(try ResultStore.observedCall(row, path: path)) }
      return calls
    }
  }

  /// Every call of a run, in (agent, condition, task, trial, seq) order: `tool_calls.csv`.
  public func forEachToolCall(
    runID: String, _ body: (_ key: TrialKey, ObservedCall) throws -> Void
  ) throws(StoreError) {
    let path = self.path
    do {
      try pool.read { db in
        let rows = try Row.fetchCursor(
          db,
          sql: """
            SELECT agent, condition, task_id, trial, seq, tool, arguments_json, result_json, is_error, fault, problem,
              latency_ms, started_at
            FROM tool_calls WHERE run_id = ? ORDER BY agent, condition, task_id, trial, seq
            """, arguments: [runID])
        while let row = try rows.next() {
          let c = Cells(row: row, table: "tool_calls", which: "a call of run \(VisibleText.of(runID))", path: path)
          let key = TrialKey(
            agent: try c.value("agent"), condition: try c.value("condition"), taskID: try c.value("task_id"),
            trial: try c.value("trial"))
          try body(key, try ResultStore.observedCall(row, path: path))
        }
      }
    } catch {
      throw ResultStore.wrap(error, path: path)
    }
  }

  /// Each (agent, condition)'s use of served tools in a run; pairs without served tools are absent.
  /// `writeTools` are the tools that are not read-only (repeated writes count only for them).
  public func toolUse(runID: String, writeTools: Set<String>) throws(StoreError) -> [AgentCondition: ToolUseSummary] {
    try read { db in
      var out: [AgentCondition: ToolUseSummary] = [:]
      func pair(_ row: Row) -> AgentCondition {
        AgentCondition(agent: row["agent"] ?? "", condition: row["condition"] ?? Condition.defaultName)
      }
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT agent, condition, count(*) AS trials, total(phantom_calls) AS phantoms FROM trials
          WHERE run_id = ? AND phantom_calls IS NOT NULL GROUP BY agent, condition
          """, arguments: [runID])
      {
        out[pair(row)] = ToolUseSummary(
          trials: row["trials"] ?? 0, phantomCalls: Int((row["phantoms"] as Double?) ?? 0))
      }
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT agent, condition, count(*) AS calls,
            total(problem = 'unknown_tool') AS unknown, total(problem = 'invalid_arguments') AS invalid,
            total(problem = 'invalid_result') AS badResults, total(problem = 'handler_failed') AS failures,
            total(fault IS NOT NULL) AS faulted
          FROM tool_calls WHERE run_id = ? GROUP BY agent, condition
          """, arguments: [runID])
      {
        var s = out[pair(row)] ?? ToolUseSummary()
        s.calls = row["calls"] ?? 0
        s.unknownTool = Int((row["unknown"] as Double?) ?? 0)
        s.invalidArguments = Int((row["invalid"] as Double?) ?? 0)
        s.invalidResults = Int((row["badResults"] as Double?) ?? 0)
        s.handlerFailures = Int((row["failures"] as Double?) ?? 0)
        s.faultedCalls = Int((row["faulted"] as Double?) ?? 0)
        out[pair(row)] = s
      }
      // The next call to the same tool after a faulted one: a retry.
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT agent, condition, count(*) AS retries FROM tool_calls a
          WHERE run_id = ? AND fault IS NOT NULL AND EXISTS (
            SELECT 1 FROM tool_calls b WHERE b.run_id = a.run_id AND b.agent = a.agent AND b.condition = a.condition
              AND b.task_id = a.task_id AND b.trial = a.trial AND b.seq > a.seq AND b.tool = a.tool)
          GROUP BY agent, condition
          """, arguments: [runID])
      {
        out[pair(row), default: ToolUseSummary()].retriesAfterFault = row["retries"] ?? 0
      }
      // Per fault kind, the trials it fired in (harness-side errors are not counted, as in the metrics).
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT t.agent, t.condition, f.fault, count(*) AS trials, total(t.status = 'pass') AS passed
          FROM trials t JOIN (
            SELECT DISTINCT agent, condition, task_id, trial, fault FROM tool_calls
            WHERE run_id = ? AND fault IS NOT NULL) f
          ON f.agent = t.agent AND f.condition = t.condition AND f.task_id = t.task_id AND f.trial = t.trial
          WHERE t.run_id = ? AND coalesce(t.error_kind, '') NOT IN ('grader', 'tool')
          GROUP BY t.agent, t.condition, f.fault
          """, arguments: [runID, runID])
      {
        let kind: String = row["fault"] ?? ""
        out[pair(row), default: ToolUseSummary()].recovery[kind] = PassCount(
          trials: row["trials"] ?? 0, passed: Int((row["passed"] as Double?) ?? 0))
      }
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT t.agent, t.condition, count(*) AS trials, total(t.status = 'pass') AS passed
          FROM trials t JOIN (
            SELECT DISTINCT agent, condition, task_id, trial FROM tool_calls WHERE run_id = ? AND fault IS NOT NULL) f
          ON f.agent = t.agent AND f.condition = t.condition AND f.task_id = t.task_id AND f.trial = t.trial
          WHERE t.run_id = ? AND coalesce(t.error_kind, '') NOT IN ('grader', 'tool')
          GROUP BY t.agent, t.condition
          """, arguments: [runID, runID])
      {
        out[pair(row), default: ToolUseSummary()].faultedTrials = PassCount(
          trials: row["trials"] ?? 0, passed: Int((row["passed"] as Double?) ?? 0))
      }
      if !writeTools.isEmpty {
        let list = writeTools.sorted().map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }
          .joined(separator: ", ")
        // A write repeated with the same arguments in one trial, after one that went through (a
        // successful call, or one whose response was lost after the write happened).
        for row in try Row.fetchAll(
          db,
          sql: """
            SELECT agent, condition, count(*) AS repeats, total(after_lost) AS afterLost FROM (
              SELECT a.agent, a.condition, (
                SELECT b.fault = 'lost_response' FROM tool_calls b
                WHERE b.run_id = a.run_id AND b.agent = a.agent AND b.condition = a.condition
                  AND b.task_id = a.task_id AND b.trial = a.trial AND b.seq < a.seq AND b.tool = a.tool
                  AND b.arguments_json = a.arguments_json AND b.problem IS NULL
                  AND (b.is_error = 0 OR b.fault = 'lost_response')
                ORDER BY b.seq DESC LIMIT 1) AS after_lost
              FROM tool_calls a
              WHERE a.run_id = ? AND a.tool IN (\(list)) AND a.problem IS NULL)
            WHERE after_lost IS NOT NULL
            GROUP BY agent, condition
            """, arguments: [runID])
        {
          out[pair(row), default: ToolUseSummary()].repeatedWrites = row["repeats"] ?? 0
          out[pair(row), default: ToolUseSummary()].repeatsAfterLostResponse = Int((row["afterLost"] as Double?) ?? 0)
        }
      }
      return out
    }
  }

  /// Per (agent, condition), task and variant: the trials of tasks with variants and their passes
  /// (harness-side errors left out, as in the metrics).
  public func variantCounts(runID: String) throws(StoreError) -> [AgentCondition: [String: [Int: PassCount]]] {
    try read { db in
      var out: [AgentCondition: [String: [Int: PassCount]]] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT agent, condition, task_id, variant, count(*) AS trials, total(status = 'pass') AS passed FROM trials
          WHERE run_id = ? AND variant IS NOT NULL AND coalesce(error_kind, '') NOT IN ('grader', 'tool')
          GROUP BY agent, condition, task_id, variant
          """, arguments: [runID])
      {
        let pair = AgentCondition(agent: row["agent"] ?? "", condition: row["condition"] ?? Condition.defaultName)
        let task: String = row["task_id"] ?? ""
        let variant: Int = row["variant"] ?? 0
        out[pair, default: [:]][task, default: [:]][variant] = PassCount(
          trials: row["trials"] ?? 0, passed: Int((row["passed"] as Double?) ?? 0))
      }
      return out
    }
  }

  static func observedCall(_ row: Row, path: String) throws(StoreError) -> ObservedCall {
    let c = Cells(row: row, table: "tool_calls", which: "a tool call", path: path)
    let arguments: String = try c.value("arguments_json")
    let result: String? = try c.optional("result_json")
    let problem: String? = try c.optional("problem")
    let started: String = try c.value("started_at")
    return ObservedCall(
      seq: try c.value("seq"), tool: try c.value("tool"), arguments: JSONValue.parse(arguments) ?? .string(arguments),
      result: result.map { JSONValue.parse($0) ?? .string($0) }, isError: try c.value("is_error"),
      problem: problem.flatMap(CallProblem.init(rawValue:)), fault: try c.optional("fault"),
      latencyMs: try c.value("latency_ms"), startedAt: Timestamp.parse(started) ?? Date(timeIntervalSince1970: 0))
  }
}
