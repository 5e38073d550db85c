import Foundation

/// Student's t distribution, for small-sample intervals and the paired test of `compare`: the
/// normal's 1.96 is too narrow with 10 or 30 tasks (it made compare false-alarm above its alpha).
public enum StudentT {
  /// P(T ≤ t) with `df` degrees of freedom, through the regularized incomplete beta function:
  /// P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2).
  public static func cdf(_ t: Double, df: Double) -> Double {
    guard df > 0, !t.isNaN else { return .nan }
    if t.isInfinite { return t > 0 ? 1 : 0 }
    let tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), a: df / 2, b: 0.5)
    return t > 0 ? 1 - tail : tail
  }

  /// The `p` quantile (0 < p < 1), by bisection on `cdf`: exact to 1e-12, and cheap next to a report.
  public static func quantile(_ p: Double, df: Double) -> Double {
    guard df > 0, p > 0, p < 1 else { return p >= 1 ? .infinity : p <= 0 ? -.infinity : .nan }
    if p == 0.5 { return 0 }
    var low = -1.0
    var high = 1.0
    while cdf(low, df: df) > p { low *= 2 }
    while cdf(high, df: df) < p { high *= 2 }
    for _ in 0..<200 where high - low > 1e-12 * max(1, abs(low)) {
      let mid = (low + high) / 2
      if cdf(mid, df: df) < p { low = mid } else { high = mid }
    }
    return (low + high) / 2
  }

  /// t₀.₉₇₅ with `df` degrees of freedom, from a table made once for df up to 300 (every suite-level
  /// interval asks for it; a report of many rates would otherwise repeat the bisection).
  public static func quantile975(df: Int) -> Double {
    guard df >= 1 else { return .nan }
    return df <= table975.count ? table975[df - 1] : quantile(0.975, df: Double(df))
  }

  private static let table975: [Double] = (1...300).map { quantile(0.975, df: Double($0)) }

  /// I_x(a, b) by the continued fraction of Numerical Recipes (§6.4), using the symmetry
  /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
  static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
    let logPowers: Double = a * log(x) + b * log(1 - x)
    let logFront = logPowers - logBeta
    if x < (a + 1) / (a + b + 2) {
      return exp(logFront) * continuedFraction(x, a: a, b: b) / a
    }
    return 1 - exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
  }

  /// Lentz's evaluation of the incomplete beta's continued fraction.
  private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0
    var d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...300 {
      let m = Double(m)
      let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
      d = 1 + even * d
      if abs(d) < tiny { d = tiny }
      c = 1 + even / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      h *= d * c
      let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
      d = 1 + odd * d
      if abs(d) < tiny { d = tiny }
      c = 1 + odd / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let step = d * c
      h *= step
      if abs(step - 1) < 1e-15 { break }
    }
    return h
  }
}
