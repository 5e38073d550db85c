import Foundation

/// A JSON Schema (draft 2020-12) restricted to the keywords of suite-format.md, with
/// `$ref` into the same document. Unsupported keywords are found by `unsupportedKeywords`
/// so `validate` can report them instead of silently ignoring them.
public struct JSONSchema: @unchecked Sendable {
  // @unchecked: the regex cache holds immutable NSRegularExpressions, documented thread-safe.

  /// The schema document.
  public let root: JSONValue
  private let patterns: [String: NSRegularExpression]

  /// Keywords that assert something, and evalh implements.
  public static let supported: Set<String> = [
    "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
    "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "allOf", "anyOf", "oneOf", "not", "$ref", "$defs",
  ]
  /// Annotations: they assert nothing (`format` is an annotation by default in 2020-12).
  public static let annotations: Set<String> = [
    "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
    "writeOnly", "format", "contentMediaType", "contentEncoding",
  ]

  /// Compiles the schema; throws a message for an invalid `pattern`.
  public init(_ root: JSONValue) throws(JSONSchemaError) {
    self.root = root
    var patterns: [String: NSRegularExpression] = [:]
    for source in JSONSchema.collectPatterns(root) where patterns[source] == nil {
      do {
        patterns[source] = try NSRegularExpression(pattern: source)
      } catch {
        throw JSONSchemaError(message: "invalid pattern '\(source)'")
      }
    }
    self.patterns = patterns
  }

  /// Every keyword the validator would not enforce, as `pointer: keyword` (e.g. `/properties/a: patternProperties`),
  /// plus `$ref`s that do not point inside the document.
  public static func unsupportedKeywords(in schema: JSONValue) -> [String] {
    var found: [String] = []
    func walk(_ s: JSONValue, _ pointer: String) {
      guard case .object(let o) = s else { return }
      for (key, value) in o.sorted(by: { $0.key < $1.key }) {
        let here = pointer.isEmpty ? "/" : pointer
        if !supported.contains(key) && !annotations.contains(key) { found.append("\(here): \(key)") }
        switch key {
        case "properties", "$defs":
          for (name, sub) in (value.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            walk(sub, "\(pointer)/\(key)/\(escape(name))")
          }
        case "allOf", "anyOf", "oneOf", "prefixItems":
          for (i, sub) in (value.arrayValue ?? []).enumerated() { walk(sub, "\(pointer)/\(key)/\(i)") }
        case "items", "not", "additionalProperties":
          walk(value, "\(pointer)/\(key)")
        case "$ref":
          if let ref = value.stringValue, !ref.hasPrefix("#") {
            found.append("\(here): $ref '\(ref)' (only references inside the document are supported)")
          }
        default: break
        }
      }
    }
    walk(schema, "")
    return found
  }

  static func escape(_ name: String) -> String {
    name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
  }

  static func collectPatterns(_ s: JSONValue) -> [String] {
    switch s {
    case .object(let o):
      var out: [String] = []
      if let p = o["pattern"]?.stringValue { out.append(p) }
      for (key, value) in o where key != "enum" && key != "const" { out += collectPatterns(value) }
      return out
    case .array(let a): return a.flatMap(collectPatterns)
    default: return []
    }
  }

  /// Every way `instance` fails the schema; empty when it validates.
  public func validate(_ instance: JSONValue) -> [SchemaViolation] {
    var violations: [SchemaViolation] = []
    check(instance, against: root, at: "$", depth: 0, into: &violations)
    return violations
  }

  /// Whether `instance` validates.
  public func isValid(_ instance: JSONValue) -> Bool { validate(instance).isEmpty }

  private func check(
    _ x: JSONValue, against s: JSONValue, at path: String, depth: Int, into out: inout [SchemaViolation]
  ) {
    func fail(_ message: String) { out.append(SchemaViolation(path: path, message: message)) }
    func passes(_ sub: JSONValue) -> Bool {
      var scratch: [SchemaViolation] = []
      check(x, against: sub, at: path, depth: depth + 1, into: &scratch)
      return scratch.isEmpty
    }
    guard depth < 64 else { return fail("schema references nest too deeply (a $ref cycle?)") }
    switch s {
    case .bool(true): return
    case .bool(false): return fail("no value is allowed here (schema false)")
    case .object: break
    default: return
    }

    if let ref = s["$ref"]?.stringValue {
      if let target = resolve(ref) {
        check(x, against: target, at: path, depth: depth + 1, into: &out)
      } else {
        fail("$ref '\(ref)' does not resolve inside the schema")
      }
    }
    if let type = s["type"] {
      let names = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
      if !names.contains(where: { JSONSchema.matches(x, type: $0) }) {
        fail("expected \(names.joined(separator: " or ")), got \(JSONSchema.typeName(x))")
      }
    }
    if let options = s["enum"]?.arrayValue, !options.contains(where: { JSONSchema.equal($0, x) }) {
      fail("\(brief(x)) is not one of \(brief(.array(options)))")
    }
    if let constant = s["const"], !JSONSchema.equal(constant, x) {
      fail("\(brief(x)) is not \(brief(constant))")
    }
    if case .number(let n) = x {
      if let m = s["minimum"]?.numberValue, n < m { fail("\(brief(x)) is less than the minimum \(brief(.number(m)))") }
      if let m = s["maximum"]?.numberValue, n > m {
        fail("\(brief(x)) is greater than the maximum \(brief(.number(m)))")
      }
      if let m = s["exclusiveMinimum"]?.numberValue, n <= m {
        fail("\(brief(x)) is not greater than \(brief(.number(m)))")
      }
      if let m = s["exclusiveMaximum"]?.numberValue, n >= m {
        fail("\(brief(x)) is not less than \(brief(.number(m)))")
      }
      if let m = s["multipleOf"]?.numberValue, m > 0 {
        let q = n / m
        if !q.isFinite || abs(q - q.rounded()) > 1e-9 * max(1, abs(q)) {
          fail("\(brief(x)) is not a multiple of \(brief(.number(m)))")
        }
      }
    }
    if case .string(let str) = x {
      let length = str.unicodeScalars.count
      if let m = s["minLength"]?.numberValue, Double(length) < m {
        fail("string is shorter than \(brief(.number(m))) characters")
      }
      if let m = s["maxLength"]?.numberValue, Double(length) > m {
        fail("string is longer than \(brief(.number(m))) characters")
      }
      if let p = s["pattern"]?.stringValue, let regex = patterns[p], !regex.matchesWithinBudget(str) {
        fail("\(brief(x)) does not match /\(p)/")
      }
    }
    if case .array(let items) = x {
      if let m = s["minItems"]?.numberValue, Double(items.count) < m { fail("fewer than \(brief(.number(m))) items") }
      if let m = s["maxItems"]?.numberValue, Double(items.count) > m { fail("more than \(brief(.number(m))) items") }
      if s["uniqueItems"] == .bool(true) {
        outer: for i in items.indices {
          for j in items.indices where j > i && JSONSchema.equal(items[i], items[j]) {
            fail("items \(i) and \(j) are equal (uniqueItems)")
            break outer
          }
        }
      }
      let prefix = s["prefixItems"]?.arrayValue ?? []
      for (i, sub) in prefix.enumerated() where i < items.count {
        check(items[i], against: sub, at: "\(path)[\(i)]", depth: depth + 1, into: &out)
      }
      if let itemSchema = s["items"] {
        for i in items.indices where i >= prefix.count {
          check(items[i], against: itemSchema, at: "\(path)[\(i)]", depth: depth + 1, into: &out)
        }
      }
    }
    if case .object(let members) = x {
      for name in (s["required"]?.arrayValue ?? []).compactMap(\.stringValue) where members[name] == nil {
        fail("missing required property '\(name)'")
      }
      let properties = s["properties"]?.objectValue ?? [:]
      for (name, member) in members.sorted(by: { $0.key < $1.key }) {
        let childPath = JSONSchema.childPath(path, name)
        if let sub = properties[name] {
          check(member, against: sub, at: childPath, depth: depth + 1, into: &out)
        } else if let extra = s["additionalProperties"] {
          if extra == .bool(false) {
            fail("property '\(name)' is not allowed")
          } else {
            check(member, against: extra, at: childPath, depth: depth + 1, into: &out)
          }
        }
      }
    }
    if let all = s["allOf"]?.arrayValue {
      for sub in all { check(x, against: sub, at: path, depth: depth + 1, into: &out) }
    }
    if let any = s["anyOf"]?.arrayValue, !any.contains(where: passes) {
      fail("matches none of the \(any.count) anyOf schemas")
    }
    if let one = s["oneOf"]?.arrayValue {
      let count = one.filter(passes).count
      if count != 1 { fail("matches \(count) of the oneOf schemas (exactly one required)") }
    }
    if let not = s["not"], passes(not) {
      fail("matches a schema it must not (not)")
    }
  }

  /// `#`, `#/$defs/x`, `#/properties/a/items`: JSON Pointer into this document.
  func resolve(_ ref: String) -> JSONValue? {
    ref.hasPrefix("#") ? JSONSchema.resolve(ref, in: root) : nil
  }

  static func matches(_ x: JSONValue, type: String) -> Bool {
    switch (type, x) {
    case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
      ("number", .number):
      return true
    case ("integer", .number(let n)): return n.isFinite && n == n.rounded()
    default: return false
    }
  }

  static func typeName(_ x: JSONValue) -> String {
    switch x {
    case .null: "null"
    case .bool: "boolean"
    case .number(let n): n == n.rounded() ? "integer" : "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }

  /// JSON equality: numbers by value (1 equals 1.0), booleans never equal to numbers.
  static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }

  static func childPath(_ path: String, _ name: String) -> String {
    let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
    return plain ? "\(path).\(name)" : "\(path)['\(name.replacingOccurrences(of: "'", with: "\\'"))']"
  }

  func brief(_ x: JSONValue) -> String {
    let text = x.compactText
    return text.count > 60 ? String(text.prefix(57)) + "..." : text
  }
}

/// One way an instance fails a schema.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
  /// Where in the instance, as a JSONPath (`$.items[2].sku`).
  public var path: String
  /// What is wrong there.
  public var message: String
  /// As shown to people.
  public var description: String { "\(path): \(message)" }
}

/// A schema that cannot be compiled.
public struct JSONSchemaError: Error, Sendable, CustomStringConvertible {
  /// What is wrong with the schema.
  public var message: String
  /// As shown to people.
  public var description: String { message }
}
