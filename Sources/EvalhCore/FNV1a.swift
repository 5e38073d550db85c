/// FNV-1a, 64 bits: a stable hash of bytes (shards, trial seeds, names of files evalh makes). Stable
/// across platforms and versions, unlike `Hasher`.
public struct FNV1a: Sendable {
  /// The hash of the bytes added so far.
  public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

  /// An empty hash.
  public init() {}

  /// The hash of `bytes`.
  public init(_ bytes: some Sequence<UInt8>) { add(bytes) }

  /// Adds `bytes` to the hash.
  public mutating func add(_ bytes: some Sequence<UInt8>) {
    for b in bytes {
      value ^= UInt64(b)
      value = value &* 0x0000_0100_0000_01B3
    }
  }
}
