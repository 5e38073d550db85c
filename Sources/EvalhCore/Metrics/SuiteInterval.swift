import Foundation

/// The 95% interval of a suite-level rate: a Wilson score interval whose sample size is the
/// rate's effective number of independent trials over tasks (Kish's design effect, with Korn and
/// Graubard's small-sample correction by (z / t_{m−1})²).
///
/// The rate is R = Σ numᵢ / Σ denᵢ over the m tasks (a mean over tasks has denᵢ = 1). Its variance
/// across tasks is that of the ratio estimator, Σ (numᵢ − R·denᵢ)² / (m − 1) / (m · d̄²); the
/// effective size is R(1 − R) over that variance, times (z / t)², and never more than `units`, the
/// trials behind the figure, nor less than 1. So a suite whose tasks all agree reads as `units`
/// trials (all passes give a lower bound below 100%, as the rule of three does), one whose tasks
/// disagree reads as fewer, and a rate of one unit per task (first run, consistency, pass^n: one
/// Bernoulli each) is the Wilson interval over tasks, repaired near the ends (`wilsonNearEnds`). docs/reading-the-report.md gives the coverage
/// measured by simulation.
public enum SuiteInterval {
  static let z = 1.959963984540054

  /// The interval; nil when no task has a denominator.
  public static func of(numerators: [Double], denominators: [Double], units: Double) -> (low: Double, high: Double)? {
    var m = 0
    var totalNum = 0.0
    var totalDen = 0.0
    for (num, den) in zip(numerators, denominators) where den > 0 {
      m += 1
      totalNum += num
      totalDen += den
    }
    guard m > 0, totalDen > 0 else { return nil }
    let rate = min(1, max(0, totalNum / totalDen))
    // One unit per task (first run, consistency, pass^n): a binomial over tasks.
    if units <= Double(m) {
      return Statistics.wilsonNearEnds(successes: Int((rate * Double(m)).rounded()), n: m)
    }
    let cap = units
    guard m > 1 else { return Statistics.wilson(rate: rate, n: cap) }
    let meanDen = totalDen / Double(m)
    var squares = 0.0
    for (num, den) in zip(numerators, denominators) where den > 0 {
      let residual = num - rate * den
      squares += residual * residual
    }
    let variance = squares / Double(m - 1) / (Double(m) * meanDen * meanDen)
    var effective = variance > 1e-15 ? rate * (1 - rate) / variance : cap
    let t = StudentT.quantile975(df: m - 1)
    effective *= (z / t) * (z / t)
    return Statistics.wilson(rate: rate, n: min(cap, max(1, effective)))
  }
}
