import Foundation

/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`.
///
/// Every envelope, response body and stored output goes through here, per trial: Foundation's
/// decoder through Codable costs tens of microseconds for a small document, this a few. Nesting is
/// bounded, so hostile output cannot exhaust the stack; duplicate keys keep the last value.
struct JSONParser {
  static let maxDepth = 512

  private let bytes: UnsafeBufferPointer<UInt8>
  private var i = 0
  private var depth = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// One JSON value (surrounding whitespace allowed), or nil.
  static func parse<Bytes: Collection<UInt8>>(_ input: Bytes) -> JSONValue? {
    let run = { (buffer: UnsafeBufferPointer<UInt8>) -> JSONValue? in
      var parser = JSONParser(buffer)
      guard let value = parser.value() else { return nil }
      parser.skipWhitespace()
      return parser.i == buffer.count ? value : nil
    }
    if let result = input.withContiguousStorageIfAvailable(run) { return result }
    return Array(input).withUnsafeBufferPointer(run)
  }

  private var current: UInt8? { i < bytes.count ? bytes[i] : nil }

  private mutating func skipWhitespace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  private mutating func value() -> JSONValue? {
    skipWhitespace()
    guard let c = current else { return nil }
    switch c {
    case UInt8(ascii: "{"): return object()
    case UInt8(ascii: "["): return array()
    case UInt8(ascii: "\""): return string().map(JSONValue.string)
    case UInt8(ascii: "t"): return literal("true", .bool(true))
    case UInt8(ascii: "f"): return literal("false", .bool(false))
    case UInt8(ascii: "n"): return literal("null", .null)
    default: return number()
    }
  }

  private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
    let n = word.utf8CodeUnitCount
    guard i + n <= bytes.count else { return nil }
    for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return nil }
    i += n
    return value
  }

  private mutating func object() -> JSONValue? {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JSONParser.maxDepth else { return nil }
    i += 1
    var members: [String: JSONValue] = [:]
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      i += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\""), let key = string() else { return nil }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { return nil }
      i += 1
      guard let v = value() else { return nil }
      members[key] = v
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): i += 1
      case UInt8(ascii: "}"):
        i += 1
        return .object(members)
      default: return nil
      }
    }
  }

  private mutating func array() -> JSONValue? {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JSONParser.maxDepth else { return nil }
    i += 1
    var items: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      i += 1
      return .array(items)
    }
    while true {
      guard let v = value() else { return nil }
      items.append(v)
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): i += 1
      case UInt8(ascii: "]"):
        i += 1
        return .array(items)
      default: return nil
      }
    }
  }

  /// A string literal at `i` (the opening quote), unescaped.
  private mutating func string() -> String? {
    i += 1
    let start = i
    // The common case: no escapes, a slice of the input.
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        defer { i += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
      }
      if b == UInt8(ascii: "\\") { break }
      if b < 0x20 { return nil }
      i += 1
    }
    var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return String(decoding: out, as: UTF8.self)
      }
      if b < 0x20 { return nil }
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i += 1
        continue
      }
      guard i + 1 < bytes.count else { return nil }
      let escape = bytes[i + 1]
      i += 2
      switch escape {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        guard var code = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
          bytes[i + 1] == UInt8(ascii: "u")
        {
          let save = i
          i += 2
          if let low = hex4(), (0xDC00..<0xE000).contains(low) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          } else {
            i = save
          }
        }
        // A lone surrogate is not a scalar: it reads as U+FFFD rather than failing the document.
        out += Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
      default: return nil
      }
    }
    return nil
  }

  private mutating func hex4() -> UInt32? {
    guard i + 4 <= bytes.count else { return nil }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[i]
      let digit: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
      default: return nil
      }
      value = value << 4 | UInt32(digit)
      i += 1
    }
    return value
  }

  /// A number in RFC 8259's grammar, converted by the standard library (correctly rounded).
  private mutating func number() -> JSONValue? {
    let start = i
    func digits() -> Bool {
      let from = i
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
      return i > from
    }
    if current == UInt8(ascii: "-") { i += 1 }
    if current == UInt8(ascii: "0") {
      i += 1
    } else if !digits() {
      return nil
    }
    if current == UInt8(ascii: ".") {
      i += 1
      guard digits() else { return nil }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      i += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { i += 1 }
      guard digits() else { return nil }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    guard let n = Double(text), n.isFinite else { return nil }
    return .number(n)
  }
}
