/// Human-readable durations.
public enum Durations {
  /// `250 ms`, `2.5 s`, `3 m 20 s`; a value no clock gives (negative, beyond a billion years, NaN,
  /// infinite: from a header or a database) is shown as the number it is, never trapped on.
  public static func format(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 3e16 else { return "\(seconds) s" }
    if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
    if seconds < 60 {
      let rounded = (seconds * 10).rounded() / 10
      return rounded == rounded.rounded() ? "\(Int(rounded)) s" : "\(rounded) s"
    }
    let total = Int(seconds.rounded())
    if total < 3600 { return "\(total / 60) m \(total % 60) s" }
    return "\(total / 3600) h \(total % 3600 / 60) m"
  }
}
