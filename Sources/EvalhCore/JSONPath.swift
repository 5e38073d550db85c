/// A JSONPath expression of the subset suite-format.md defines:
/// `$`, `.name`, `['name']`, `[index]` (negative from the end), `[*]` and `..name`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
  enum Segment: Sendable, Hashable {
    case child(String)
    case index(Int)
    case wildcard
    case descendant(String)
  }

  let segments: [Segment]
  /// The expression as written.
  public let description: String

  /// An expression made of segments known to be well formed (evalh's own presets).
  init(segments: [Segment], description: String) {
    self.segments = segments
    self.description = description
  }

  /// Parses an expression; throws a message naming the offending position.
  public init(_ text: String) throws(JSONPathError) {
    description = text
    let chars = Array(text)
    guard chars.first == "$" else { throw JSONPathError(path: text, message: "must start with '$'") }
    var i = 1
    var segments: [Segment] = []

    func name(from start: Int) -> (String, Int) {
      var j = start
      while j < chars.count, chars[j] != ".", chars[j] != "[" { j += 1 }
      return (String(chars[start..<j]), j)
    }

    while i < chars.count {
      if chars[i] == "." {
        if i + 1 < chars.count, chars[i + 1] == "." {
          let (n, next) = name(from: i + 2)
          guard !n.isEmpty else { throw JSONPathError(path: text, message: "'..' needs a name at offset \(i + 2)") }
          segments.append(.descendant(n))
          i = next
        } else {
          let (n, next) = name(from: i + 1)
          guard !n.isEmpty else { throw JSONPathError(path: text, message: "'.' needs a name at offset \(i + 1)") }
          segments.append(n == "*" ? .wildcard : .child(n))
          i = next
        }
      } else if chars[i] == "[" {
        guard let close = chars[i...].firstIndex(of: "]") else {
          throw JSONPathError(path: text, message: "unclosed '[' at offset \(i)")
        }
        let inner = String(chars[(i + 1)..<close]).trimmingCharacters(in: .whitespaces)
        if inner == "*" {
          segments.append(.wildcard)
        } else if let n = Int(inner) {
          segments.append(.index(n))
        } else if inner.count >= 2, let q = inner.first, q == "'" || q == "\"", inner.last == q {
          segments.append(.child(String(inner.dropFirst().dropLast())))
        } else {
          throw JSONPathError(path: text, message: "'[\(inner)]' is not an index, '*' or a quoted name")
        }
        i = close + 1
      } else {
        throw JSONPathError(path: text, message: "unexpected '\(chars[i])' at offset \(i)")
      }
    }
    self.segments = segments
  }

  /// Every value the path selects in `root`, in document order.
  public func select(in root: JSONValue) -> [JSONValue] {
    var current = [root]
    for segment in segments {
      var next: [JSONValue] = []
      for value in current {
        switch segment {
        case .child(let name):
          if let v = value[name] { next.append(v) }
        case .index(let n):
          if let a = value.arrayValue {
            let k = n < 0 ? a.count + n : n
            if a.indices.contains(k) { next.append(a[k]) }
          }
        case .wildcard:
          if let a = value.arrayValue {
            next += a
          } else if let o = value.objectValue {
            next += o.keys.sorted().compactMap { o[$0] }
          }
        case .descendant(let name):
          JSONPath.collect(name, in: value, into: &next)
        }
      }
      current = next
    }
    return current
  }

  private static func collect(_ name: String, in value: JSONValue, into out: inout [JSONValue]) {
    switch value {
    case .object(let o):
      if let v = o[name] { out.append(v) }
      for (_, member) in o.sorted(by: { $0.key < $1.key }) { collect(name, in: member, into: &out) }
    case .array(let a):
      for v in a { collect(name, in: v, into: &out) }
    default: break
    }
  }
}

/// A JSONPath expression that does not parse.
public struct JSONPathError: Error, Sendable, CustomStringConvertible {
  /// The expression.
  public let path: String
  /// What is wrong with it.
  public let message: String
  /// As shown in a diagnostic.
  public var description: String { "invalid JSONPath '\(path)': \(message)" }
}
