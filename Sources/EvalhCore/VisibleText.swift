/// Untrusted text (agent output, suite names, database cells) made safe to print on a terminal.
public enum VisibleText {
  /// Whether a scalar would act on a terminal instead of showing: C0/C1 controls, DEL, and the
  /// bidirectional overrides and isolates that reorder what follows (U+202A–U+202E, U+2066–U+2069,
  /// U+200E, U+200F, U+061C).
  public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00..<0x20, 0x7F, 0x80..<0xA0, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
    default: false
    }
  }

  /// `text` with every hidden scalar written out: ESC as `\e`, newline, CR and tab as `\n`, `\r`,
  /// `\t` (newlines and tabs kept as they are when `multiline`), others as `\u{XX}`.
  public static func of(_ text: String, multiline: Bool = false) -> String {
    guard text.unicodeScalars.contains(where: isHidden) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x0A where multiline, 0x09 where multiline: out.unicodeScalars.append(scalar)
      case 0x1B: out += "\\e"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case _ where isHidden(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
