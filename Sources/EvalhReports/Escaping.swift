/// Escaping for untrusted (agent-provided) text, in one tested place.
public enum Escape {
  /// Makes control characters visible so no agent byte can move the cursor or recolour a terminal:
  /// ESC becomes `\e`, other C0/C1 controls `\u{XX}`; newlines and tabs are kept only when `multiline`.
  public static func terminal(_ text: String, multiline: Bool = false) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x0A where multiline, 0x09 where multiline: out.unicodeScalars.append(scalar)
      case 0x1B: out += "\\e"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case 0x00..<0x20, 0x7F, 0x80..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
