import Foundation

/// The PII kinds `no_pii` detects.
public enum PIIKind: String, Sendable, CaseIterable, Hashable {
  case email
  case usSSN = "us_ssn"
  case creditCard = "credit_card"
  case phone
  case ipv4

  // Compiled once; NSRegularExpression is immutable and documented thread-safe.
  static let patterns: [PIIKind: NSRegularExpression] = {
    let sources: [PIIKind: String] = [
      .email: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"#,
      // Area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
      .usSSN: #"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"#,
      // 13 to 19 digits, optionally grouped by spaces or dashes; confirmed by the Luhn check.
      .creditCard: #"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)"#,
      // E.164 (+ and 8–15 digits, separators allowed) or North American 3-3-4.
      .phone: #"(?<![\w+])(?:\+\d(?:[ .()-]?\d){7,14}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\d)"#,
      .ipv4: #"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"#,
    ]
    // Fixed literals; a test checks that every kind's pattern compiled.
    return sources.compactMapValues { try? NSRegularExpression(pattern: $0) }
  }()

  /// The matches of this kind in `text`.
  public func matches(in text: String) -> [String] {
    guard let regex = PIIKind.patterns[self] else { return [] }
    let found = regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
      Range($0.range, in: text).map { String(text[$0]) }
    }
    return self == .creditCard ? found.filter { PIIKind.luhn($0.filter(\.isNumber)) } : found
  }

  /// The Luhn checksum (ISO/IEC 7812-1) over a string of digits.
  public static func luhn(_ digits: String) -> Bool {
    let values = digits.compactMap(\.wholeNumberValue)
    guard values.count >= 12 else { return false }
    var sum = 0
    for (i, d) in values.reversed().enumerated() {
      if i % 2 == 1 {
        let doubled = d * 2
        sum += doubled > 9 ? doubled - 9 : doubled
      } else {
        sum += d
      }
    }
    return sum % 10 == 0
  }

  /// A match with most of it hidden, for grade details: `j***@example.com`, `***-**-6789`.
  public static func mask(_ match: String) -> String {
    if let at = match.firstIndex(of: "@") {
      return String(match.prefix(1)) + "***" + match[at...]
    }
    let keep = 4
    var seen = 0
    var out = ""
    for c in match.reversed() {
      if c.isNumber {
        seen += 1
        out.append(seen <= keep ? c : "*")
      } else {
        out.append(c)
      }
    }
    return String(out.reversed())
  }
}

/// Tool calls in a trial's steps.
public enum ToolCalls {
  /// The steps that are tool calls, as (name, arguments).
  public static func of(_ steps: [JSONValue]) -> [(name: String, arguments: JSONValue)] {
    steps.compactMap { step in
      guard step["type"]?.stringValue == "tool_call", let name = step["name"]?.stringValue else { return nil }
      return (name, step["arguments"] ?? .object([:]))
    }
  }

  /// Whether `actual` contains `expected`: objects by key (recursively), everything else by equality.
  public static func contains(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
    switch (actual, expected) {
    case (.object(let a), .object(let e)):
      return e.allSatisfy { key, value in a[key].map { contains($0, value) } ?? false }
    case (.number(let a), .string(let e)), (.string(let e), .number(let a)):
      // YAML `order_id: 1234` and JSON `"1234"` name the same argument.
      return Double(e) == a
    default:
      return actual == expected
    }
  }
}
