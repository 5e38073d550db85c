import EvalhCore

/// Escaping for untrusted (agent- or suite-provided) text, in one tested place.
public enum Escape {
  /// Makes control and bidirectional characters visible so no agent byte can move the cursor,
  /// recolour or reorder a terminal: ESC becomes `\e`, others `\u{XX}`; newlines and tabs are kept
  /// only when `multiline` (`VisibleText`).
  public static func terminal(_ text: String, multiline: Bool = false) -> String {
    VisibleText.of(text, multiline: multiline)
  }

  /// Text safe in XML and XHTML content and attribute values: `& < > " '` escaped, and the
  /// characters XML 1.0 forbids (controls other than tab/newline/CR, U+FFFE/U+FFFF) removed.
  public static func xml(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        let v = scalar.value
        let allowed =
          v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v)
          || v >= 0x10000
        if allowed { out.unicodeScalars.append(scalar) }
      }
    }
    return out
  }

  /// A cell of a GitHub Markdown table: one line, pipes and markup characters escaped.
  public static func markdown(_ text: String) -> String {
    var out = ""
    for scalar in terminal(text).unicodeScalars {
      switch scalar {
      case "|", "\\", "`", "*", "_", "[", "]", "<", ">", "#", "~": out += "\\\(scalar)"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// An RFC 4180 field. Text that a spreadsheet would run as a formula (leading `=`, `+`, `-`,
  /// `@`, tab or carriage return) gets a leading `'`; fields with a comma, quote or line break are quoted.
  public static func csv(_ text: String) -> String {
    var value = text
    if let first = value.utf8.first,
      [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13].contains(first)
    {
      value = "'" + value
    }
    guard value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
    else {
      return value
    }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
