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
    let nn = Double(n)
    let p = Double(successes) / nn
    let z2 = z * z
    let denominator = 1 + z2 / nn
    let centre = (p + z2 / (2 * nn)) / denominator
    let half = z * ((p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()) / denominator
    return (max(0, centre - half), min(1, centre + half))
  }
}

extension Statistics {
  /// A percentile bootstrap 95% interval for the mean of `values` (one per task), resampling
  /// whole tasks `resamples` times with a fixed seed so reports are reproducible.
  public static func bootstrapMeanInterval(_ values: [Double], resamples: Int = 2000, seed: UInt64 = 0x5EED_CAFE)
    -> (low: Double, high: Double)?
  {
    guard !values.isEmpty else { return nil }
    var rng = SplitMix64(seed: seed)
    var means = [Double](repeating: 0, count: resamples)
    let m = values.count
    for r in 0..<resamples {
      var sum = 0.0
      for _ in 0..<m { sum += values[Int(rng.next() % UInt64(m))] }
      means[r] = sum / Double(m)
    }
    means.sort()
    guard let low = percentile(means, 2.5), let high = percentile(means, 97.5) else { return nil }
    return (low, high)
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
