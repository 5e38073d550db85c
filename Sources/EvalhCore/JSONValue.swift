import Foundation

/// Any JSON value: task inputs, agent outputs, metadata and steps.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The string when this is a string, nil otherwise.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The number when this is a number, nil otherwise.
  public var numberValue: Double? {
    if case .number(let n) = self { return n }
    return nil
  }

  /// The members when this is an object, nil otherwise.
  public var objectValue: [String: JSONValue]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// The elements when this is an array, nil otherwise.
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The member `key` of an object, nil otherwise.
  public subscript(key: String) -> JSONValue? {
    objectValue?[key]
  }

  /// Compact JSON with sorted keys: stable, so it can be hashed and compared.
  public var compactText: String {
    var out = ""
    write(to: &out)
    return out
  }

  /// The text graders see: a string as itself, anything else as compact JSON.
  public var gradingText: String {
    stringValue ?? compactText
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let n): out += JSONValue.format(number: n)
    case .string(let s): JSONValue.writeQuoted(s, to: &out)
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.write(to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
        if i > 0 { out += "," }
        JSONValue.writeQuoted(member.key, to: &out)
        out += ":"
        member.value.write(to: &out)
      }
      out += "}"
    }
  }

  /// Integers print without a fraction; non-finite numbers (not JSON) print as null.
  public static func format(number n: Double) -> String {
    guard n.isFinite else { return "null" }
    if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
    return "\(n)"
  }

  /// `s` as a JSON string literal, appended to `out`.
  public static func writeQuoted(_ s: String, to out: inout String) {
    out += "\""
    // Most strings are printable ASCII without quotes or backslashes: appended whole.
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
      out += s
      out += "\""
      return
    }
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _
      where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
        || scalar.value == 0x2028 || scalar.value == 0x2029:
        out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}

extension JSONValue: Codable {
  /// Decodes any JSON value.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let b = try? container.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? container.decode(Double.self) {
      self = .number(n)
    } else if let s = try? container.decode(String.self) {
      self = .string(s)
    } else if let a = try? container.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// Encodes the value as the JSON it is.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let b): try container.encode(b)
    case .number(let n): try container.encode(n)
    case .string(let s): try container.encode(s)
    case .array(let a): try container.encode(a)
    case .object(let o): try container.encode(o)
    }
  }
}

extension JSONValue {
  /// Parses JSON text; nil when it is not one valid JSON value.
  public static func parse(_ text: String) -> JSONValue? {
    var text = text
    return text.withUTF8 { JSONParser.parse($0) }
  }

  /// Parses JSON bytes; nil when they are not one valid JSON value.
  public static func parse(_ data: Data) -> JSONValue? {
    JSONParser.parse(data)
  }
}

extension JSONValue {
  /// Indented JSON with sorted keys, for people and for `--json`.
  public var prettyText: String {
    var out = ""
    writePretty(to: &out, indent: 0)
    return out
  }

  private func writePretty(to out: inout String, indent: Int) {
    let pad = String(repeating: "  ", count: indent + 1)
    let close = String(repeating: "  ", count: indent)
    switch self {
    case .array(let items) where !items.isEmpty:
      if items.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil }) {
        out += compactText
        return
      }
      out += "[\n"
      for (i, item) in items.enumerated() {
        out += pad
        item.writePretty(to: &out, indent: indent + 1)
        out += i < items.count - 1 ? ",\n" : "\n"
      }
      out += close + "]"
    case .object(let members) where !members.isEmpty:
      out += "{\n"
      let sorted = members.sorted(by: { $0.key < $1.key })
      for (i, member) in sorted.enumerated() {
        out += pad
        JSONValue.writeQuoted(member.key, to: &out)
        out += ": "
        member.value.writePretty(to: &out, indent: indent + 1)
        out += i < sorted.count - 1 ? ",\n" : "\n"
      }
      out += close + "}"
    default:
      out += compactText
    }
  }
}

extension JSONValue {
  /// The text of a JSON string literal (`"a\\nb"` → a, newline, b); nil when `json` is not one.
  public static func stringLiteral(_ json: String) -> String? {
    guard json.utf8.first == UInt8(ascii: "\"") else { return nil }
    return parse(json)?.stringValue
  }
}

/// JSON written as Swift literals (the suite schema is built this way).
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
  ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}
