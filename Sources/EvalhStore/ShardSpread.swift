import EvalhCore

/// How a run was cut into shards, as each shard records it: the shard count, the shards this
/// database holds, and every task of the whole run. A merge that lacks a shard then knows which,
/// and how many trials are missing, instead of calling the run completed.
public struct ShardSpread: Sendable, Hashable, Codable {
  /// N of `--shard I/N`.
  public var count: Int
  /// The shards recorded here (1-based, ascending).
  public var present: [Int]
  /// Every task of the run, across all shards, with its planned trials.
  public var tasks: [RunPlan.PlannedTask]

  /// The spread of one shard.
  public init(count: Int, present: [Int], tasks: [RunPlan.PlannedTask]) {
    self.count = count
    self.present = present.sorted()
    self.tasks = tasks
  }

  /// Two databases' shards of one run together.
  public func union(_ other: ShardSpread) -> ShardSpread {
    let known = Set(tasks.map(\.id))
    return ShardSpread(
      count: max(count, other.count), present: Array(Set(present).union(other.present)),
      tasks: tasks + other.tasks.filter { !known.contains($0.id) })
  }

  /// The shards not recorded here.
  public var missing: [Int] {
    let here = Set(present)
    return (1...max(1, count)).filter { !here.contains($0) }
  }

  /// The tasks of the missing shards.
  public var missingTasks: [RunPlan.PlannedTask] {
    let gone = Set(missing.map { $0 - 1 })
    return tasks.filter { gone.contains(Shard.bucket(of: $0.id, count: count)) }
  }
}

extension RunPlan {
  /// What the run lacks for being whole, for people; nil when no shard is missing.
  public var shardGap: String? {
    guard let shards, !shards.missing.isEmpty else { return nil }
    let tasks = shards.missingTasks
    let trials = agents.count * tasks.reduce(0) { $0 + Swift.max(1, $1.trials) }
    let which = shards.missing.map(String.init).joined(separator: ", ")
    return
      "shard\(shards.missing.count == 1 ? "" : "s") \(which) of \(shards.count) not recorded here (\(trials) trials of \(tasks.count) tasks missing); merge their databases to complete the run"
  }

  /// Trials of the whole run, every shard's included (`trialCount` counts those planned here).
  public var wholeTrialCount: Int {
    guard let shards else { return trialCount }
    return agents.count * shards.tasks.reduce(0) { $0 + Swift.max(1, $1.trials) }
  }

  /// The status of a run that recorded `recorded` of its trials and stopped for no other reason.
  public func status(recorded: Int) -> RunStatus {
    if recorded < trialCount { return .interrupted }
    return shardGap == nil ? .completed : .incomplete
  }
}
