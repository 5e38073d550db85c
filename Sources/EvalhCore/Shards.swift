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
