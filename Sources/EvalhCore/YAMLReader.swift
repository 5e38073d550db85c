import Foundation
import Yams

/// Reads typed values out of a composed YAML tree, recording every problem with
/// its position and carrying on, so one pass reports all of a suite's errors.
final class YAMLReader {
  let file: String
  /// Added to node lines: a JSONL line is composed on its own, but reported at its line in the file.
  let lineOffset: Int
  /// The environment `${VAR}` reads.
  let environment: [String: String]
  private(set) var diagnostics: [SuiteDiagnostic] = []
  /// Every value substituted from `${VAR}`, by variable: secrets to redact.
  private(set) var secrets: [String: String] = [:]
  /// Nodes left to visit: bounds alias-expansion bombs (aliases share storage,
  /// but walking them is exponential).
  private var budget: Int

  /// Without aliases a document has fewer nodes than characters, and the loader visits each
  /// node at most twice; so anything past 4 × its length (plus slack) is alias expansion.
  init(file: String, documentLength: Int, environment: [String: String], lineOffset: Int = 0) {
    self.file = file
    self.budget = 4 * documentLength + 10_000
    self.environment = environment
    self.lineOffset = lineOffset
  }

  /// Records a problem at `node`'s position.
  func error(_ node: Node?, _ message: String) {
    let mark = node?.mark
    let line = mark.map { $0.line + lineOffset } ?? 0
    diagnostics.append(SuiteDiagnostic(file: file, line: line, column: mark?.column ?? 0, message: message))
  }

  /// Records a problem at a line (files that are not YAML: CSV).
  func error(line: Int, column: Int = 1, _ message: String) {
    diagnostics.append(SuiteDiagnostic(file: file, line: line, column: column, message: message))
  }

  /// Takes another reader's problems and secrets (a JSONL line's).
  func absorb(_ other: YAMLReader) {
    diagnostics += other.diagnostics
    secrets.merge(other.secrets) { a, _ in a }
  }

  /// Replaces `${VAR}` and `${VAR:-default}` with the environment's values, remembering each as a
  /// secret; `$${` is a literal `${`. An unset variable without a default is an error at `node`.
  func interpolate(_ text: String, at node: Node) -> String {
    guard text.contains("${") else { return text }
    var out = ""
    var rest = Substring(text)
    while let start = rest.range(of: "${") {
      if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
        out += rest[..<rest.index(before: start.lowerBound)] + "${"
        rest = rest[start.upperBound...]
        continue
      }
      out += rest[..<start.lowerBound]
      guard let close = rest[start.upperBound...].firstIndex(of: "}") else {
        error(node, "unterminated '${' in '\(text)'")
        return text
      }
      let body = rest[start.upperBound..<close]
      let (name, fallback): (Substring, Substring?) =
        body.range(of: ":-").map { (body[..<$0.lowerBound], body[$0.upperBound...]) } ?? (body, nil)
      if name.isEmpty || !name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) {
        error(node, "'${\(body)}' is not a variable reference (use ${NAME} or ${NAME:-default})")
      } else if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
        // As in the shell, `:-` stands for a variable that is unset or empty: CI systems pass a
        // missing secret as an empty string.
        // A value from the environment is a secret; a default is written in the suite for all to
        // read, and redacting a word like `none` everywhere would mangle outputs.
        if !value.isEmpty { secrets[String(name)] = value }
        out += value
      } else if let fallback {
        out += fallback
      } else {
        error(node, "environment variable '\(name)' is not set (write ${\(name):-default} to give a default)")
      }
      rest = rest[rest.index(after: close)...]
    }
    return out + rest
  }

  /// Whether the walk is still within its node budget (records one error when not).
  func spend(_ node: Node, _ n: Int = 1) -> Bool {
    if budget <= 0 { return false }
    budget -= n
    if budget <= 0 {
      error(node, "the document expands to too many nodes (an alias-expansion bomb?)")
      return false
    }
    return true
  }

  /// A mapping's entries, with unknown keys reported ("did you mean").
  func mapping(_ node: Node, _ what: String, allowed: [String]) -> Fields? {
    guard spend(node) else { return nil }
    guard case .mapping(let mapping) = node else {
      error(node, "\(what) must be a mapping")
      return nil
    }
    var fields = Fields(node: node)
    for (keyNode, value) in mapping {
      guard case .scalar(let key) = keyNode else {
        error(keyNode, "keys of \(what) must be plain strings")
        continue
      }
      if fields.values[key.string] != nil {
        error(keyNode, "duplicate key '\(key.string)'")
        continue
      }
      if !allowed.isEmpty, !allowed.contains(key.string) {
        var message = "unknown key '\(key.string)' in \(what)"
        if let hint = suggestion(for: key.string, among: allowed) { message += " (did you mean '\(hint)'?)" }
        error(keyNode, message)
        continue
      }
      fields.order.append(key.string)
      fields.values[key.string] = value
      fields.keyNodes[key.string] = keyNode
    }
    return fields
  }

  func string(_ node: Node, _ what: String) -> String? {
    guard case .scalar(let s) = node, node.null == nil else {
      error(node, "\(what) must be a string")
      return nil
    }
    return interpolate(s.string, at: node)
  }

  func int(_ node: Node, _ what: String, min: Int = 1) -> Int? {
    guard let n = node.int else {
      error(node, "\(what) must be an integer")
      return nil
    }
    guard n >= min else {
      error(node, "\(what) must be at least \(min)")
      return nil
    }
    return n
  }

  func number(_ node: Node, _ what: String) -> Double? {
    if let n = node.int { return Double(n) }
    if let f = node.float, f.isFinite { return f }
    error(node, "\(what) must be a number")
    return nil
  }

  func bool(_ node: Node, _ what: String) -> Bool? {
    guard let b = node.bool else {
      error(node, "\(what) must be true or false")
      return nil
    }
    return b
  }

  /// `250ms`, `30s`, `2m`, `1h` or a number of seconds; positive.
  func duration(_ node: Node, _ what: String) -> Double? {
    let seconds: Double?
    if let n = node.int {
      seconds = Double(n)
    } else if let f = node.float {
      seconds = f
    } else if case .scalar(let s) = node {
      seconds = YAMLReader.parseDuration(s.string)
    } else {
      seconds = nil
    }
    guard let seconds, seconds > 0, seconds.isFinite else {
      error(node, "\(what) must be a positive duration such as 250ms, 30s, 2m or a number of seconds")
      return nil
    }
    // Timeouts become clock deadlines: a year is beyond any trial and keeps every deadline in range.
    guard seconds <= YAMLReader.longestDuration else {
      error(node, "\(what) must be at most 365 days")
      return nil
    }
    return seconds
  }

  /// The longest duration a suite may give, seconds (365 days).
  static let longestDuration = 365.0 * 86_400

  static func parseDuration(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces)
    for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where t.hasSuffix(suffix) {
      return Double(t.dropLast(suffix.count)).map { $0 * scale }
    }
    return Double(t)
  }

  /// A string or a list of strings.
  func strings(_ node: Node, _ what: String) -> [String]? {
    if case .sequence(let seq) = node {
      var out: [String] = []
      for item in seq {
        guard let s = string(item, "each item of \(what)") else { return nil }
        out.append(s)
      }
      return out
    }
    return string(node, what).map { [$0] }
  }

  /// A list of strings, and only a list.
  func stringList(_ node: Node, _ what: String) -> [String]? {
    guard case .sequence = node else {
      error(node, "\(what) must be a list")
      return nil
    }
    return strings(node, what)
  }

  func pattern(_ node: Node, _ what: String) -> Pattern? {
    guard let source = string(node, what) else { return nil }
    do {
      return try Pattern(source)
    } catch {
      self.error(node, "invalid regular expression '\(source)' in \(what)")
      return nil
    }
  }

  /// Any YAML value as JSON (core schema: null, bool, int, float, string); strings are
  /// interpolated unless `raw` (the stored config keeps `${VAR}`).
  func json(_ node: Node, raw: Bool = false) -> JSONValue? {
    guard spend(node) else { return nil }
    switch node {
    case .scalar(let s):
      // Quoted scalars resolve to the str tag, so only plain ones become null/bool/numbers.
      if node.null != nil { return .null }
      if let b = node.bool { return .bool(b) }
      if let i = node.int { return .number(Double(i)) }
      if let f = node.float, f.isFinite { return .number(f) }
      return .string(raw ? s.string : interpolate(s.string, at: node))
    case .sequence(let seq):
      var items: [JSONValue] = []
      for item in seq {
        guard let v = json(item, raw: raw) else { return nil }
        items.append(v)
      }
      return .array(items)
    case .mapping(let map):
      var members: [String: JSONValue] = [:]
      for (k, v) in map {
        guard case .scalar(let key) = k else {
          error(k, "keys must be plain strings")
          return nil
        }
        guard let value = json(v, raw: raw) else { return nil }
        members[key.string] = value
      }
      return .object(members)
    case .alias:
      error(node, "unresolved alias")
      return nil
    }
  }
}

/// A mapping's known entries in document order.
struct Fields {
  let node: Node
  var order: [String] = []
  var values: [String: Node] = [:]
  var keyNodes: [String: Node] = [:]

  subscript(key: String) -> Node? { values[key] }
}
