import Foundation

/// The estimators of metrics.md, each checked against its published definition in the tests.
public enum Statistics {
  /// tau-bench's unbiased pass^k: C(c,k)/C(n,k), the chance that k trials drawn
  /// without replacement from n, c of them passing, all pass.
  /// Computed as the product Π_{i<k} (c−i)/(n−i), which never overflows.
  public static func passHatK(n: Int, c: Int, k: Int) -> Double {
    precondition(n > 0 && k >= 1 && k <= n && c >= 0 && c <= n)
    guard c >= k else { return 0 }
    var p = 1.0
    for i in 0..<k { p *= Double(c - i) / Double(n - i) }
    return p
  }

  /// Chen et al. (2021) unbiased pass@k: 1 − C(n−c,k)/C(n,k), in their stable
  /// product form 1 − Π_{i=n−c+1}^{n} (1 − k/i).
  public static func passAtK(n: Int, c: Int, k: Int) -> Double {
    precondition(n > 0 && k >= 1 && k <= n && c >= 0 && c <= n)
    if n - c < k { return 1 }
    if c == 0 { return 0 }
    var q = 1.0
    for i in (n - c + 1)...n { q *= 1 - Double(k) / Double(i) }
    return 1 - q
  }

  /// The percentile `p` (0–100) by linear interpolation between closest ranks
  /// (the "R-7" / NumPy default): rank h = (N−1)·p/100. `sorted` must be ascending.
  public static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let h = Double(sorted.count - 1) * p / 100
    let lo = Int(h.rounded(.down))
    let hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
  }

  /// The mean, nil for no values.
  public static func mean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
  }

  /// The Wilson score interval for `successes` out of `n` at z (1.96 for 95%).
  public static func wilson(successes: Int, n: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double)? {
    guard n > 0 else { return nil }
    return wilson(rate: Double(successes) / Double(n), n: Double(n), z: z)
  }

  /// Wilson's interval with Brown, Cai and DasGupta's (2001, §4.1.1) repair near the ends: for 1, 2
  /// (and 3 when n > 50) successes or failures, the near bound is the Poisson one, ½·χ²₂ₓ,₀.₀₂₅ / n.
  /// Plain Wilson's bound there sits too close to the count and misses rare rates (a pass^16 of 2%
  /// seen once in 10 tasks): its coverage dips to about 82%; repaired, it stays above about 90%.
  public static func wilsonNearEnds(successes: Int, n: Int) -> (low: Double, high: Double)? {
    guard var bounds = wilson(successes: successes, n: n) else { return nil }
    // The 0.025 quantiles of χ² with 2, 4 and 6 degrees of freedom.
    let chi = [0.050635615968579795, 0.48441855708793014, 1.2373442457912045]
    let reach = n > 50 ? 3 : 2
    if (1...reach).contains(successes) { bounds.low = min(bounds.low, chi[successes - 1] / 2 / Double(n)) }
    let failures = n - successes
    if (1...reach).contains(failures) { bounds.high = max(bounds.high, 1 - chi[failures - 1] / 2 / Double(n)) }
    return bounds
  }

  /// The Wilson score interval of a share `rate` observed with `n` (effective) trials; an observed
  /// 0 or 1 keeps its own end exactly, so a sample of all passes still covers 100%.
  public static func wilson(rate p: Double, n: Double, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
    let z2 = z * z
    let denominator = 1 + z2 / n
    let centre = (p + z2 / (2 * n)) / denominator
    let half = z * (max(0, p * (1 - p) / n + z2 / (4 * n * n))).squareRoot() / denominator
    return (p <= 0 ? 0 : max(0, centre - half), p >= 1 ? 1 : min(1, centre + half))
  }
}

/// SplitMix64 (Steele et al. 2014): a small, fast, seedable generator for reproducible resampling.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  /// A stream starting from `seed`.
  public init(seed: UInt64) { state = seed }
  /// Moves on `count` draws at once (the state advances by a constant per draw): a stream can be
  /// cut into parts drawn side by side that make exactly the same numbers.
  public mutating func skip(_ count: Int) { state &+= UInt64(count) &* 0x9E37_79B9_7F4A_7C15 }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension Array where Element == Double {
  /// Ascending, by a least-significant-digit radix sort of the bit patterns (turned to order like the
  /// numbers): linear in the count, several times faster than the standard comparison sort on the
  /// half-million latencies of one agent of a large run. Small arrays take the standard sort.
  public func radixSorted() -> [Double] {
    guard count > 4096 else { return sorted() }
    // Negative numbers: every bit flipped (larger magnitudes first); others: the sign bit set.
    var keys = map { x in x.sign == .minus ? ~x.bitPattern : x.bitPattern | (1 << 63) }
    var scratch = [UInt64](repeating: 0, count: count)
    var counts = [Int](repeating: 0, count: 2049)
    // Six 11-bit digits; a digit every key shares (the high bits of similar numbers) moves nothing.
    for shift in stride(from: UInt64(0), to: 64, by: 11) {
      for i in counts.indices { counts[i] = 0 }
      for key in keys { counts[Int((key >> shift) & 0x7FF) + 1] += 1 }
      if counts.contains(count) { continue }
      for i in 1..<counts.count { counts[i] += counts[i - 1] }
      for key in keys {
        let digit = Int((key >> shift) & 0x7FF)
        scratch[counts[digit]] = key
        counts[digit] += 1
      }
      swap(&keys, &scratch)
    }
    return keys.map { key in Double(bitPattern: key >> 63 == 1 ? key & ~(1 << 63) : ~key) }
  }
}
