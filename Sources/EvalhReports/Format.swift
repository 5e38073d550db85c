import EvalhCore
import Foundation

/// Number formatting shared by the human-readable renderers.
enum Fmt {
  /// `51.3%`, or `–` when unknown.
  static func percent(_ x: Double?, digits: Int = 1) -> String {
    guard let x else { return "–" }
    return String(format: "%.\(digits)f%%", x * 100)
  }

  /// `[45–74]` in whole percent.
  static func interval(_ i: (low: Double, high: Double)?) -> String {
    guard let i else { return "" }
    return "[\(whole(i.low * 100))–\(whole(i.high * 100))]"
  }

  /// `x` rounded to an Int for display; whatever is stored (NaN, ±∞, beyond Int) never traps:
  /// non-finite is 0, the rest is clamped.
  static func whole(_ x: Double) -> Int {
    guard x.isFinite else { return 0 }
    let r = x.rounded()
    if r >= 9.2e18 { return Int.max }
    if r <= -9.2e18 { return Int.min }
    return Int(r)
  }

  /// `820 ms`, `2.9 s`.
  static func millis(_ ms: Double?) -> String {
    guard let ms else { return "–" }
    guard ms.isFinite else { return "\(ms) ms" }
    return ms < 1000 ? "\(whole(ms)) ms" : String(format: "%.1f s", ms / 1000)
  }

  /// `$0.41`, `$0.0013`: enough digits to be useful for tiny per-trial costs. A stored value that is
  /// negative or not finite (another tool's database) is shown as it is, never trapped on.
  static func usd(_ x: Double?) -> String {
    guard let x else { return "–" }
    guard x.isFinite else { return "$\(x)" }
    if x < 0 { return "-" + usd(-x) }
    if x == 0 { return "$0" }
    if x >= 1 { return String(format: "$%.2f", x) }
    let digits = max(2, min(8, Int((-log10(x)).rounded(.up)) + 1))
    return String(format: "$%.\(digits)f", x)
  }

  /// Pads to `width` display columns (left-aligned).
  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }

  /// Pads to `width` display columns (right-aligned).
  static func lpad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }
}

extension Fmt {
  /// `39.5k`, `1.2M`, `812`.
  static func compact(_ x: Double) -> String {
    if abs(x) >= 1e6 { return String(format: "%.1fM", x / 1e6) }
    if abs(x) >= 1e3 { return String(format: "%.1fk", x / 1e3) }
    return String(format: "%.0f", x)
  }

  /// `0.2`, `1`, `0.25`: a plain number without trailing zeros.
  static func number(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(format: "%g", x)
  }
}

extension Fmt {
  /// A number as CSV and JSON readers expect: `.` decimal point, no exponent for ordinary magnitudes.
  /// A number for machines (CSV): 12 significant digits, so float noise such as 0.03100000000000002
  /// (sums taken in another order) reads 0.031.
  static func plain(_ x: Double) -> String {
    let rounded = significant(x)
    if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
    return "\(rounded)"
  }

  /// The most bytes `plain` writes for a finite Double (`-2.2250738585072014e-308` is 24).
  static let plainRoom = 32

  /// Writes `plain(x)` at `out` (room for `plainRoom` bytes) without making a `String` when `x` is
  /// written without an exponent (10⁻⁴ ≤ |x| < 10¹⁵, or 0): the 12-digit rounding as an integer, the
  /// decimal point put in, trailing zeros dropped. That integer over a power of ten is what
  /// `significant` rounds to, and the shortest text of a Double with at most 15 digits is those
  /// digits, so it reads like `plain`. The bytes written, or nil for the other numbers.
  static func writePlain(_ x: Double, to out: UnsafeMutablePointer<UInt8>) -> Int? {
    let magnitude = abs(x)
    if magnitude == 0 {
      out[0] = UInt8(ascii: "0")
      return 1
    }
    guard magnitude >= 1e-4, magnitude < 1e15 else { return nil }
    let sign = x < 0 ? 1 : 0
    let decimals = 11 - decimalExponent(magnitude)
    guard decimals >= 0 else {
      // 10¹² and more: `significant` rounds to an integer with trailing zeros; printed as one.
      let rounded = significant(magnitude)
      guard rounded < 1e15 else { return nil }
      if sign == 1 { out[0] = UInt8(ascii: "-") }
      return sign + writeDigits(of: UInt64(rounded), pointBefore: 0, to: out + sign)
    }
    var mantissa = UInt64((magnitude * powersOfTen[decimals]).rounded())
    var scale = decimals
    while scale > 0, mantissa % 10 == 0 {
      mantissa /= 10
      scale -= 1
    }
    if sign == 1 { out[0] = UInt8(ascii: "-") }
    return sign + writeDigits(of: mantissa, pointBefore: scale, to: out + sign)
  }

  /// Writes `n` in decimal at `out` (room for 20 bytes), as `String(n)` writes it; the bytes written.
  static func writeInteger(_ n: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
    let sign = n < 0 ? 1 : 0
    if sign == 1 { out[0] = UInt8(ascii: "-") }
    return sign + writeDigits(of: UInt64(n.magnitude), pointBefore: 0, to: out + sign)
  }

  /// The digits of `n` with a decimal point before the last `scale` of them (`0.0…` when n has
  /// fewer), written right to left; the bytes written.
  private static func writeDigits(of n: UInt64, pointBefore scale: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
    var digits = 1
    var rest = n / 10
    while rest > 0 {
      digits += 1
      rest /= 10
    }
    digits = max(digits, scale + 1)
    let length = digits + (scale > 0 ? 1 : 0)
    var at = length
    rest = n
    for written in 0..<digits {
      if written == scale, scale > 0 {
        at -= 1
        out[at] = UInt8(ascii: ".")
      }
      at -= 1
      out[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
      rest /= 10
    }
    return length
  }

  /// ⌊log₁₀ x⌋ for x > 0: by comparison with exact powers for 1 ≤ x < 10²², else by log10.
  static func decimalExponent(_ x: Double) -> Int {
    guard x >= 1, x < 1e22 else { return Int(log10(x).rounded(.down)) }
    var exponent = 0
    while exponent < 22, x >= powersOfTen[exponent + 1] { exponent += 1 }
    return exponent
  }

  /// 10⁰ … 10²², each exact in a Double.
  static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

  /// `x` rounded to 12 significant digits.
  static func significant(_ x: Double) -> Double {
    guard x.isFinite, x != 0 else { return x }
    // Below 10⁻¹² nothing evalh reports is measured (rates, dollars, milliseconds): such a value is
    // the residue of a subtraction (1 − 0.9999999999999999), and reads as the 0 it is.
    guard abs(x) >= 1e-12 else { return 0 }
    // An integer of at most 12 digits times or over an exact power of ten: correctly rounded, and fast
    // (this runs for every number of a million-row export).
    let shift = 11 - decimalExponent(abs(x))
    guard abs(shift) <= 22 else { return x }
    let power = powersOfTen[abs(shift)]
    return shift >= 0 ? (x * power).rounded() / power : (x / power).rounded() * power
  }
}
