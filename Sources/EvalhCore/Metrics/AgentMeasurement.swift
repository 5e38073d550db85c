import Foundation

extension AgentMetrics {
  /// Every metric for one agent from its trials; `planned` gives each task's planned trial count.
  public init(
    agent: String, trials all: [TrialFacts], planned: [String: Int], targets: MetricTargets = MetricTargets(),
    violationsByCheck: [(check: String, count: Int)] = [], withIntervals: Bool = true
  ) {
    var tally = TrialTally(slaLimitMs: targets.slo.latency.map { $0 * 1000 })
    for f in all { tally.add(f) }
    self.init(
      agent: agent, tally: tally, planned: planned, targets: targets, violationsByCheck: violationsByCheck,
      withIntervals: withIntervals)
  }

  /// Every metric for one agent from its folded trials (the tally's SLA limit must be the targets').
  public init(
    agent: String, tally folded: TrialTally, planned: [String: Int], targets: MetricTargets = MetricTargets(),
    violationsByCheck: [(check: String, count: Int)] = [], withIntervals: Bool = true
  ) {
    var tally = folded
    tally.flush()
    self.agent = agent
    self.targets = targets
    self.violationsByCheck = violationsByCheck
    let hasSLA = tally.slaLimitMs != nil
    // In task order, so that sums of costs add up in the same order on every read.
    let sums = Set(tally.tasks.keys).union(planned.keys).sorted().map { ($0, tally.tasks[$0] ?? TrialTally.Task()) }
    tasks = sums.map { TaskMetrics(id: $0.0, sums: $0.1, planned: planned[$0.0]) }
    let measured = tasks.filter { $0.trials > 0 }
    trials = measured.reduce(0) { $0 + $1.trials }
    nMin = measured.map(\.trials).min() ?? 0
    let nMin = nMin

    let table = RateTable(tasks: measured, nMin: nMin, hasSLA: hasSLA)
    let point = table.estimate(table.all)
    successRate = point[.success]
    firstRunSuccess = point[.firstRun]
    // One trial per task agrees with itself: consistency is not measured then, not 100%.
    consistency = nMin >= 2 ? point[.consistency] : nil
    efficacyRate = point[.efficacy]
    assuranceRate = point[.assurance]
    policyAdherence = point[.adherence]
    slaCompliance = hasSLA ? point[.sla] : nil
    passHatK = (0..<nMin).map { point[.passHat($0 + 1)] ?? 0 }
    passAtK = (0..<nMin).map { point[.passAt($0 + 1)] ?? 0 }
    let bounds =
      withIntervals
      ? table.intervals()
      : RateValues(columns: table.columns, values: [Intervals.Range?](repeating: nil, count: table.columns.count))
    intervals = Intervals(bounds, nMin: nMin, hasSLA: hasSLA)

    let scored = measured.reduce(0) { $0 + $1.sums.scored }
    efficacyScore = scored > 0 ? measured.reduce(0) { $0 + $1.sums.scoreSum } / Double(scored) : nil
    violations = measured.reduce(0) { $0 + $1.violations }

    let costSum = sums.reduce(0) { $0 + $1.1.costSum }
    let costCount = sums.reduce(0) { $0 + $1.1.costCount }
    let passing = measured.reduce(0) { $0 + $1.passes }
    costUnknownTrials = trials - costCount
    costTotalUSD = costCount == 0 ? nil : costSum
    costPerTrialUSD = costCount == 0 ? nil : costSum / Double(costCount)
    costPerSuccessUSD = costTotalUSD.flatMap { passing > 0 ? $0 / Double(passing) : nil }
    judgeCostUSD = tally.judgeCostCount == 0 ? nil : tally.judgeCostSum

    latencySamples = sums.flatMap(\.1.latencies).radixSorted()
    latency = Latency(sorted: latencySamples)
    var errors: [String: Int] = ["timeout": tally.timeouts]
    for kind in ErrorKind.allCases { errors[kind.rawValue] = tally.errorsByKind[kind] ?? 0 }
    self.errors = errors
  }
}

extension TaskMetrics {
  /// A task's figures from its folded trials; `planned` nil: as many as were recorded.
  init(id: String, sums: TrialTally.Task, planned: Int?) {
    let n = sums.counted
    let c = sums.passes
    let latencies = sums.latencies.sorted()
    self.init(
      taskID: id, trials: n, passes: c, planned: planned ?? (n + sums.graderErrors),
      firstRun: n > 0 && sums.firstPassed,
      successRate: n > 0 ? Double(c) / Double(n) : 0, passHatN: n > 0 ? Statistics.passHatK(n: n, c: c, k: n) : 0,
      interval: Statistics.wilson(successes: c, n: n) ?? (0, 1), latencyP50Ms: Statistics.percentile(latencies, 50),
      latencyP95Ms: Statistics.percentile(latencies, 95),
      costPerTrialUSD: sums.costCount > 0 ? sums.costSum / Double(sums.costCount) : nil, violations: sums.violations,
      errors: sums.errors, graderErrors: sums.graderErrors)
    self.sums = sums
    self.sums.latencies = []
  }
}

extension Intervals {
  /// The intervals of the rates, by rate.
  init(_ bounds: RateValues<Range>, nMin: Int, hasSLA: Bool) {
    self.init()
    successRate = bounds[.success]
    firstRunSuccess = bounds[.firstRun]
    consistency = nMin >= 2 ? bounds[.consistency] : nil
    efficacyRate = bounds[.efficacy]
    assuranceRate = bounds[.assurance]
    policyAdherence = bounds[.adherence]
    slaCompliance = hasSLA ? bounds[.sla] : nil
    passHatK = (0..<nMin).map { bounds[.passHat($0 + 1)] }
    passAtK = (0..<nMin).map { bounds[.passAt($0 + 1)] }
  }
}
