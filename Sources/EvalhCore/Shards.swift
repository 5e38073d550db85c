import Foundation

/// `--shard I/N`: a stable partition of tasks by a hash of their id, so every task's trials
/// stay together on one machine and every machine computes the same partition.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
  /// 1-based.
  public var index: Int
  /// How many shards there are (N).
  public var count: Int

  /// Parses `I/N` with 1 ≤ I ≤ N.
  public init?(_ text: String) {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
    index = i
    count = n
  }

  /// As written: `I/N`.
  public var description: String { "\(index)/\(count)" }

  /// Whether the task belongs to this shard (FNV-1a 64 of the id, modulo the count).
  public func contains(_ taskID: String) -> Bool {
    Shard.bucket(of: taskID, count: count) == index - 1
  }

  /// The 0-based shard of a task id.
  public static func bucket(of taskID: String, count: Int) -> Int {
    Int(FNV1a(taskID.utf8).value % UInt64(count))
  }
}

/// `--shard auto`: the shard the engine running this worker assigned, from its own variables.
public struct EngineShard: Sendable, Hashable {
  /// The shard, 1-based.
  public var shard: Shard
  /// Which engine and variables it came from, for people.
  public var source: String

  /// Reads the first engine whose variables are set: a Kubernetes Indexed Job
  /// (`JOB_COMPLETION_INDEX`, 0-based, with the count from `shards` since Kubernetes exports none),
  /// a Slurm job array (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`,
  /// `SLURM_ARRAY_TASK_STEP`), or GitLab's `parallel:` (`CI_NODE_INDEX`, 1-based, `CI_NODE_TOTAL`).
  /// `shards`, when given, must agree with an engine that says its count.
  public static func resolve(_ env: [String: String], shards: Int?) throws(ShardError) -> EngineShard {
    func number(_ name: String) throws(ShardError) -> Int? {
      guard let text = env[name] else { return nil }
      guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
        throw ShardError("\(name)=\(text) is not a whole number")
      }
      return value
    }
    func make(index: Int, count: Int, _ source: String) throws(ShardError) -> EngineShard {
      if let shards, shards != count {
        throw ShardError("--shards \(shards) disagrees with \(source), which says \(count) shards")
      }
      guard count >= 1, index >= 1, index <= count else {
        throw ShardError("\(source) gives shard \(index) of \(count), which does not exist")
      }
      guard let shard = Shard("\(index)/\(count)") else { throw ShardError("shard \(index)/\(count) is not valid") }
      return EngineShard(shard: shard, source: source)
    }
    if let index = try number("JOB_COMPLETION_INDEX") {
      guard let shards else {
        throw ShardError(
          "a Kubernetes Indexed Job exports its index (JOB_COMPLETION_INDEX=\(index)) but not its completions: add --shards N"
        )
      }
      return EngineShard(
        shard: try make(index: index + 1, count: shards, "the Kubernetes Indexed Job").shard,
        source: "the Kubernetes Indexed Job (JOB_COMPLETION_INDEX=\(index), --shards \(shards))")
    }
    if let id = try number("SLURM_ARRAY_TASK_ID") {
      guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
        throw ShardError("a Slurm job array without SLURM_ARRAY_TASK_COUNT")
      }
      let low = try number("SLURM_ARRAY_TASK_MIN") ?? 0
      let step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
      guard (id - low) % step == 0 else {
        throw ShardError("SLURM_ARRAY_TASK_ID=\(id) is off the array's step \(step)")
      }
      return try make(
        index: (id - low) / step + 1, count: count,
        "the Slurm job array (SLURM_ARRAY_TASK_ID=\(id), SLURM_ARRAY_TASK_MIN=\(low), SLURM_ARRAY_TASK_COUNT=\(count))")
    }
    if let index = try number("CI_NODE_INDEX") {
      guard let total = try number("CI_NODE_TOTAL") else {
        throw ShardError("GitLab's CI_NODE_INDEX without CI_NODE_TOTAL")
      }
      return try make(
        index: index, count: total, "GitLab's parallel job (CI_NODE_INDEX=\(index), CI_NODE_TOTAL=\(total))")
    }
    throw ShardError(
      "--shard auto found no engine's index: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N), a Slurm job array (SLURM_ARRAY_TASK_ID) or GitLab's parallel (CI_NODE_INDEX)"
    )
  }
}

/// Why `--shard auto` could not tell the shard.
public struct ShardError: Error, Sendable, CustomStringConvertible {
  /// For people.
  public var description: String
  init(_ description: String) { self.description = description }
}
