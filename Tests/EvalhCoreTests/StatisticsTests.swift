import Foundation
import Testing

@testable import EvalhCore

/// C(n, k) by the textbook recurrence, exact for the small n used here.
func binomial(_ n: Int, _ k: Int) -> Double {
  guard k >= 0, k <= n else { return 0 }
  var r = 1.0
  for i in 0..<k { r = r * Double(n - i) / Double(i + 1) }
  return r.rounded()
}

@Suite struct PassHatKTests {
  @Test func handComputedValues() {
    // tau-bench: C(c,k)/C(n,k). C(5,2)/C(8,2) = 10/28.
    #expect(abs(Statistics.passHatK(n: 8, c: 5, k: 2) - 10.0 / 28.0) < 1e-12)
    // C(7,3)/C(10,3) = 35/120.
    #expect(abs(Statistics.passHatK(n: 10, c: 7, k: 3) - 35.0 / 120.0) < 1e-12)
    #expect(Statistics.passHatK(n: 8, c: 5, k: 1) == 5.0 / 8.0)
  }

  @Test func edges() {
    #expect(Statistics.passHatK(n: 8, c: 0, k: 1) == 0)
    #expect(Statistics.passHatK(n: 8, c: 8, k: 8) == 1)
    #expect(Statistics.passHatK(n: 8, c: 7, k: 8) == 0)
    #expect(Statistics.passHatK(n: 8, c: 3, k: 4) == 0)
    #expect(Statistics.passHatK(n: 1, c: 1, k: 1) == 1)
  }

  @Test func matchesTheBinomialDefinitionEverywhere() {
    for n in 1...16 {
      for c in 0...n {
        for k in 1...n {
          let expected = binomial(c, k) / binomial(n, k)
          #expect(abs(Statistics.passHatK(n: n, c: c, k: k) - expected) < 1e-12, "n=\(n) c=\(c) k=\(k)")
        }
      }
    }
  }
}

@Suite struct PassAtKTests {
  @Test func handComputedValues() {
    // Chen et al.: 1 − C(n−c,k)/C(n,k). 1 − C(3,2)/C(8,2) = 1 − 3/28.
    #expect(abs(Statistics.passAtK(n: 8, c: 5, k: 2) - (1 - 3.0 / 28.0)) < 1e-12)
    // 1 − C(8,4)/C(10,4) = 1 − 70/210.
    #expect(abs(Statistics.passAtK(n: 10, c: 2, k: 4) - (1 - 70.0 / 210.0)) < 1e-12)
  }

  @Test func edges() {
    #expect(Statistics.passAtK(n: 8, c: 0, k: 1) == 0)
    #expect(Statistics.passAtK(n: 8, c: 0, k: 8) == 0)
    #expect(Statistics.passAtK(n: 8, c: 8, k: 1) == 1)
    #expect(Statistics.passAtK(n: 8, c: 1, k: 8) == 1)  // n − c < k
    #expect(Statistics.passAtK(n: 8, c: 3, k: 6) == 1)
  }

  @Test func matchesTheBinomialDefinitionEverywhere() {
    for n in 1...16 {
      for c in 0...n {
        for k in 1...n {
          let expected = 1 - binomial(n - c, k) / binomial(n, k)
          #expect(abs(Statistics.passAtK(n: n, c: c, k: k) - expected) < 1e-12, "n=\(n) c=\(c) k=\(k)")
        }
      }
    }
  }

  @Test func stableForLargeN() {
    // C(200,100) overflows naive integer arithmetic; the product form stays finite and exact enough.
    let p = Statistics.passAtK(n: 200, c: 100, k: 100)
    #expect(p > 0.999999 && p <= 1)
    #expect(abs(Statistics.passHatK(n: 200, c: 199, k: 100) - 0.5) < 1e-12)
  }
}

@Suite struct DescriptiveTests {
  /// Latency percentiles of a large run sort by radix: the same order as the standard sort.
  @Test func radixSortOrdersLikeTheStandardSort() {
    var generator = SystemRandomNumberGenerator()
    let latencies = (0..<50_000).map { _ in Double.random(in: 0...120_000, using: &generator) }
    #expect(latencies.radixSorted() == latencies.sorted())
    // Signs, zeros, infinities, tiny and huge magnitudes, ties; and a run with one shared high digit.
    var mixed = (0..<20_000).map { _ in
      Double(
        sign: Bool.random(using: &generator) ? .minus : .plus,
        exponent: Int.random(in: -1070...1020, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
    }
    mixed += [0, 0, .infinity, -.infinity, 1, 1, 1, -1, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
    #expect(mixed.radixSorted() == mixed.sorted())
    let same = [Double](repeating: 812.5, count: 5000) + [812.25]
    #expect(same.radixSorted() == same.sorted())
    #expect([3.0, 1, 2].radixSorted() == [1, 2, 3])
  }

  @Test func percentilesInterpolateLinearlyLikeNumPy() {
    // numpy.percentile defaults (linear): [1,2,3,4] → p50 2.5, p95 3.85; [10..50] → p90 46.
    #expect(Statistics.percentile([1, 2, 3, 4], 50) == 2.5)
    #expect(abs(Statistics.percentile([1, 2, 3, 4], 95)! - 3.85) < 1e-12)
    #expect(Statistics.percentile([10, 20, 30, 40, 50], 90) == 46)
    #expect(Statistics.percentile([5], 99) == 5)
    #expect(Statistics.percentile([], 50) == nil)
  }

  @Test func wilsonMatchesTextbookValues() throws {
    // 8 of 10 at 95%: 0.4902–0.9433 (Wilson 1927; e.g. Newcombe 1998, method 3).
    let a = try #require(Statistics.wilson(successes: 8, n: 10))
    #expect(abs(a.low - 0.490162) < 1e-6 && abs(a.high - 0.943318) < 1e-6)
    let b = try #require(Statistics.wilson(successes: 0, n: 8))
    #expect(b.low == 0 && abs(b.high - 0.324408) < 1e-6)
    let c = try #require(Statistics.wilson(successes: 5, n: 8))
    #expect(abs(c.low - 0.305742) < 1e-6 && abs(c.high - 0.863156) < 1e-6)
    #expect(Statistics.wilson(successes: 0, n: 0) == nil)
  }

  @Test func trialSeedsAreDeterministicAndDistinct() {
    let s = Seeds.trialSeed(runSeed: 42, agent: "small", taskID: "refund", trial: 3)
    #expect(s == Seeds.trialSeed(runSeed: 42, agent: "small", taskID: "refund", trial: 3))
    #expect(s >= 0 && s < 1 << 31)
    var seen = Set<Int64>()
    for agent in ["a", "b"] {
      for task in ["t1", "t2", "t3"] {
        for trial in 1...8 { seen.insert(Seeds.trialSeed(runSeed: 42, agent: agent, taskID: task, trial: trial)) }
      }
    }
    #expect(seen.count == 48)
    #expect(s != Seeds.trialSeed(runSeed: 43, agent: "small", taskID: "refund", trial: 3))
  }
}
