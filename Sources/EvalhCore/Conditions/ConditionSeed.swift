/// The seeds of a condition's choices: FNV-1a 64 of the parts, each ended by a 0xff byte (which
/// UTF-8 never holds, so ("ab", "c") and ("a", "bc") differ), then SplitMix64's finaliser. No agent
/// is among the parts: every agent meets the same faults and the same perturbed input on the same
/// trial, so agents compare paired.
enum ConditionSeed {
  static func of(runSeed: Int64, _ parts: [String], _ numbers: [Int]) -> UInt64 {
    var fnv = FNV1a()
    fnv.add(withUnsafeBytes(of: runSeed.littleEndian) { Array($0) })
    fnv.add([0xff])
    for part in parts {
      fnv.add(part.utf8)
      fnv.add([0xff])
    }
    for number in numbers {
      fnv.add(withUnsafeBytes(of: Int64(number).littleEndian) { Array($0) })
      fnv.add([0xff])
    }
    var z = fnv.value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform draw in [0, 1) from a seed.
  static func unit(_ seed: UInt64) -> Double { Double(seed >> 11) / Double(UInt64(1) << 53) }
}
