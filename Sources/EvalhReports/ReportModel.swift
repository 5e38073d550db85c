import EvalhCore
import EvalhStore
import Foundation
import Synchronization

/// Everything a run report shows, computed from the database alone.
public struct RunReport: Sendable {
  /// The run as stored.
  public var run: RunRecord
  /// One report per evaluated (agent, condition), in plan order.
  public var agents: [AgentReport]
  /// Per (agent, condition), task and variant, the trials and passes of tasks with variants.
  public var variants: [AgentCondition: [String: [Int: PassCount]]] = [:]

  /// A report of already measured agents.
  public init(run: RunRecord, agents: [AgentReport]) {
    self.run = run
    self.agents = agents
  }

  /// Builds the report of `run` from `store`.
  /// `withIntervals` false skips the intervals, `violationsByCheck` false the per-check counts
  /// (compare needs neither). `parts` are what is read side by side (by default `parts(of:in:)`);
  /// `eachRow`, when given, sees every trial as it is read, with the index of its part (export writes
  /// trials.csv from the same scan); each part is read on one thread.
  public static func load(
    _ run: RunRecord, from store: ResultStore, withIntervals: Bool = true, violationsByCheck: Bool = true,
    parts: [(pair: AgentCondition, tasks: TaskRange)]? = nil,
    eachRow: (@Sendable (_ part: Int, borrowing StoredTrialRow) -> Void)? = nil
  ) throws(StoreError) -> RunReport {
    let planned = run.plan.plannedByTask
    let targets = MetricTargets(config: JSONValue.parse(run.configJSON) ?? .null)
    let parts = if let parts { parts } else { try Self.parts(of: run, in: store) }
    // Pairs in plan order: each pair's parts are consecutive.
    let names = parts.map(\.pair).reduce(into: [AgentCondition]()) { if $0.last != $1 { $0.append($1) } }
    let showsCondition = run.plan.conditions != [Condition.defaultName]
    // Parts (pairs, and task ranges of large ones) are read side by side, each on its own reader,
    // then each pair's parts are merged and measured side by side: a large run uses every core.
    typealias Tally = (tally: TrialTally, violationsByCheck: [(check: String, count: Int)])
    let read = parts.indices.concurrentMap { i in
      var partRows: (@Sendable (borrowing StoredTrialRow) -> Void)? = nil
      if let eachRow { partRows = { row in eachRow(i, row) } }
      return Result { () throws(StoreError) -> Tally in
        try store.trialTally(
          runID: run.id, agent: parts[i].pair.agent, condition: parts[i].pair.condition, tasks: parts[i].tasks,
          slaLimitMs: targets.slo.latency.map { $0 * 1000 },
          violationsByCheck: violationsByCheck, eachRow: partRows)
      }
    }
    let tallies = try read.map { result throws(StoreError) in try result.get() }
    let reports = names.indices.concurrentMap { a in
      var tally = TrialTally(slaLimitMs: targets.slo.latency.map { $0 * 1000 })
      var checks: [String: Int] = [:]
      for i in parts.indices where parts[i].pair == names[a] {
        tally.merge(tallies[i].tally)
        for (check, count) in tallies[i].violationsByCheck { checks[check, default: 0] += count }
      }
      let byCheck = checks.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { (check: $0.key, count: $0.value) }
      var metrics = AgentMetrics(
        agent: names[a].agent, tally: tally, planned: planned, targets: targets, violationsByCheck: byCheck,
        withIntervals: withIntervals)
      metrics.condition = names[a].condition
      metrics.showsCondition = showsCondition
      return AgentReport(metrics)
    }
    var report = RunReport(run: run, agents: reports)
    let config = JSONValue.parse(run.configJSON)
    // Tool use is read only for a suite that served tools: a run without any is not scanned for it.
    if violationsByCheck, servesTools(config: config) {
      let use = try store.toolUse(runID: run.id, writeTools: writeTools(config: config))
      for i in report.agents.indices {
        report.agents[i].toolUse = use[report.agents[i].metrics.pair]
        report.agents[i].metrics.recoveryRate = report.agents[i].toolUse?.faultedTrials?.rate
      }
      // Read only for a suite with variants: a run without any is not scanned for them.
      if run.configJSON.contains(#""variants""#) { report.variants = try store.variantCounts(runID: run.id) }
    }
    report.measureFaultCliffs()
    return report
  }

  /// Sets each pair's fault cliff against the same agent under the run's first condition.
  mutating func measureFaultCliffs() {
    guard let first = run.plan.conditions.first else { return }
    let baseline = Dictionary(
      agents.filter { $0.metrics.condition == first }.map { ($0.metrics.agent, $0.metrics.sustainedSuccess) },
      uniquingKeysWith: { a, _ in a })
    for i in agents.indices where agents[i].metrics.condition != first {
      guard let base = baseline[agents[i].metrics.agent] ?? nil, base > 0,
        let here = agents[i].metrics.sustainedSuccess
      else { continue }
      agents[i].metrics.faultCliff = 1 - here / base
    }
  }

  /// The suite's Streamable HTTP MCP servers: one server for every trial, so its state is not the
  /// trial's own (tools.md asks the report to say so).
  public var sharedMCPServers: [String] {
    let config = JSONValue.parse(run.configJSON)
    let sections = [config?["mcp_servers"]] + (config?["tasks"]?.arrayValue ?? []).map { $0["mcp_servers"] }
    var names: [String] = []
    for case .object(let servers)? in sections {
      for (name, spec) in servers.sorted(by: { $0.key < $1.key }) where spec["url"] != nil && !names.contains(name) {
        names.append(name)
      }
    }
    return names
  }

  /// A line for people about `sharedMCPServers`, nil when there are none.
  public var sharedServersNote: String? {
    let names = sharedMCPServers
    guard !names.isEmpty else { return nil }
    return
      "MCP server\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")) served every trial (a URL server is shared: its state carries over between trials)"
  }

  /// Whether the suite served tools to any task (`tools:` or `mcp_servers:`, suite or task level).
  static func servesTools(config: JSONValue?) -> Bool {
    let sections = [config] + (config?["tasks"]?.arrayValue ?? []).map { Optional($0) }
    return sections.contains { $0?["tools"] != nil || $0?["mcp_servers"] != nil }
  }

  /// The served tools not marked read-only, suite and task level: a repeated call of one is a repeated write.
  static func writeTools(config: JSONValue?) -> Set<String> {
    var out: Set<String> = []
    let sections = [config?["tools"]] + (config?["tasks"]?.arrayValue ?? []).map { $0["tools"] }
    for case .object(let tools)? in sections {
      for (name, spec) in tools where spec["annotations"]?["read_only"] != .bool(true) { out.insert(name) }
    }
    return out
  }

  /// The parts a run is read in: each (agent, condition) in plan order, a pair of many planned
  /// trials split into task ranges so that there are about as many parts as cores.
  public static func parts(of run: RunRecord, in store: ResultStore) throws(StoreError) -> [(
    pair: AgentCondition, tasks: TaskRange
  )] {
    let names =
      run.plan.agents.isEmpty
      ? try store.recordedAgents(runID: run.id).flatMap { agent in
        run.plan.conditions.map { AgentCondition(agent: agent, condition: $0) }
      } : run.plan.pairs
    let trialsPerPair = run.plan.tasks.reduce(0) { $0 + $1.trials }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    // Splitting pays for itself only on large pairs (a part costs a reader and a merge).
    let ranges =
      trialsPerPair >= 50_000 && cores > names.count
      ? TaskRange.split(run.plan.tasks.map(\.id), into: (cores + names.count - 1) / names.count) : [TaskRange()]
    return names.flatMap { pair in ranges.map { (pair: pair, tasks: $0) } }
  }
}

/// One agent's metrics, as renderers consume them.
public struct AgentReport: Sendable {
  /// The agent's figures.
  public var metrics: AgentMetrics

  /// What the agent did with served tools; nil when its trials had none.
  public var toolUse: ToolUseSummary?

  /// A report of one agent's figures.
  public init(_ metrics: AgentMetrics, toolUse: ToolUseSummary? = nil) {
    self.metrics = metrics
    self.toolUse = toolUse
  }

  /// Tasks worst first: lowest success rate, then lowest pass^n, then id.
  public var tasksWorstFirst: [TaskMetrics] {
    metrics.tasks.sorted {
      ($0.successRate, $0.passHatN, $0.taskID) < ($1.successRate, $1.passHatN, $1.taskID)
    }
  }
}
