import Foundation

extension JSONSchema {
  /// What makes `schema` not a valid schema of the keywords evalh enforces, by JSON pointer: a root
  /// that is not an object or boolean, keyword values of the wrong type (`type: 5`, `required: x`,
  /// `minimum: abc`), `multipleOf` ≤ 0, counts that are not whole and non-negative, `$ref`s that point
  /// nowhere, and `$ref` / `allOf` / `anyOf` / `oneOf` / `not` chains that come back to where they
  /// started without descending into the instance (they would never end). Empty when it is valid.
  public static func problems(in schema: JSONValue) -> [String] {
    var problems: [String] = []
    // Schemas applied to the same instance as the one at a pointer: the edges a cycle is made of.
    var sameInstance: [String: [String]] = [:]
    let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "integer", "string"]

    func walk(_ s: JSONValue, _ pointer: String) {
      let here = pointer.isEmpty ? "/" : pointer
      func problem(_ text: String) { problems.append("\(here): \(text)") }
      guard case .object(let o) = s else {
        if case .bool = s { return }
        return problem("a schema must be an object or a boolean, not \(typeName(s)) \(briefText(s))")
      }
      func schemas(_ key: String, _ value: JSONValue, list: Bool) {
        if list {
          guard let items = value.arrayValue, !items.isEmpty else {
            return problem("'\(key)' must be a non-empty list of schemas")
          }
          for (i, sub) in items.enumerated() { walk(sub, "\(pointer)/\(key)/\(i)") }
        } else {
          walk(value, "\(pointer)/\(key)")
        }
      }
      for (key, value) in o.sorted(by: { $0.key < $1.key }) {
        switch key {
        case "type":
          let names = value.arrayValue.map { $0.map(\.stringValue) } ?? [value.stringValue]
          if names.isEmpty || names.contains(where: { $0.map { !typeNames.contains($0) } ?? true }) {
            problem("'type' must be one of \(typeNames.sorted().joined(separator: ", ")) or a list of them")
          }
        case "enum":
          if value.arrayValue == nil { problem("'enum' must be a list") }
        case "required":
          if value.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            problem("'required' must be a list of property names")
          }
        case "properties", "$defs":
          guard let members = value.objectValue else {
            problem("'\(key)' must map names to schemas")
            continue
          }
          for (name, sub) in members.sorted(by: { $0.key < $1.key }) { walk(sub, "\(pointer)/\(key)/\(escape(name))") }
        case "items", "additionalProperties":
          if key == "items", value.arrayValue != nil {
            problem("'items' must be one schema; a list of schemas, one per position, is 'prefixItems' in 2020-12")
            continue
          }
          schemas(key, value, list: false)
        case "not":
          schemas(key, value, list: false)
          sameInstance[pointer, default: []].append("\(pointer)/not")
        case "prefixItems":
          schemas(key, value, list: true)
        case "allOf", "anyOf", "oneOf":
          schemas(key, value, list: true)
          for i in (value.arrayValue ?? []).indices {
            sameInstance[pointer, default: []].append("\(pointer)/\(key)/\(i)")
          }
        case "minItems", "maxItems", "minLength", "maxLength":
          if !isCount(value) { problem("'\(key)' must be a whole number ≥ 0 (at most 2^53), not \(briefText(value))") }
        case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
          if !(value.numberValue?.isFinite ?? false) { problem("'\(key)' must be a number, not \(briefText(value))") }
        case "multipleOf":
          if !((value.numberValue ?? 0) > 0 && (value.numberValue ?? 0).isFinite) {
            problem("'multipleOf' must be a number greater than 0, not \(briefText(value))")
          }
        case "uniqueItems":
          if case .bool = value {} else { problem("'uniqueItems' must be true or false") }
        case "pattern":
          if value.stringValue == nil { problem("'pattern' must be a string") }
        case "$ref":
          guard let ref = value.stringValue else {
            problem("'$ref' must be a string")
            continue
          }
          guard ref.hasPrefix("#") else { continue }  // reported by unsupportedKeywords
          if JSONSchema.resolve(ref, in: schema) == nil {
            problem("$ref '\(ref)' points nowhere in the schema")
          } else {
            sameInstance[pointer, default: []].append(normalized(ref))
          }
        default: break
        }
      }
    }
    walk(schema, "")
    if let cycle = firstCycle(sameInstance) {
      problems.append(
        "\(cycle.first.map { $0.isEmpty ? "/" : $0 } ?? "/"): $ref cycle that never descends into the value: "
          + cycle.map { $0.isEmpty ? "#" : "#\($0)" }.joined(separator: " → "))
    }
    return problems
  }

  /// A whole number a count can be: 0 ≤ n ≤ 2^53, exactly.
  static func isCount(_ value: JSONValue) -> Bool {
    guard let n = value.numberValue else { return false }
    return n >= 0 && n <= 9_007_199_254_740_992 && n == n.rounded()
  }

  /// A `$ref` as the pointer `walk` gives its target (`#/$defs/a` → `/$defs/a`, `#` → ``).
  static func normalized(_ ref: String) -> String {
    let pointer = String(ref.dropFirst())
    return pointer.removingPercentEncoding ?? pointer
  }

  /// A path that comes back to where it began, if the graph has one.
  static func firstCycle(_ edges: [String: [String]]) -> [String]? {
    var state: [String: Int] = [:]  // 1: on the path, 2: done
    var path: [String] = []
    func visit(_ node: String) -> [String]? {
      if state[node] == 2 { return nil }
      if state[node] == 1, let start = path.firstIndex(of: node) { return Array(path[start...]) + [node] }
      state[node] = 1
      path.append(node)
      for next in edges[node] ?? [] {
        if let cycle = visit(next) { return cycle }
      }
      path.removeLast()
      state[node] = 2
      return nil
    }
    for node in edges.keys.sorted() {
      if let cycle = visit(node) { return cycle }
    }
    return nil
  }

  /// `#…` resolved in `root`.
  static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
    var pointer = normalized(ref)
    if pointer.isEmpty { return root }
    guard pointer.hasPrefix("/") else { return nil }
    pointer.removeFirst()
    var node = root
    for token in pointer.split(separator: "/", omittingEmptySubsequences: false) {
      let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
      switch node {
      case .object(let o):
        guard let next = o[key] else { return nil }
        node = next
      case .array(let a):
        guard let i = Int(key), a.indices.contains(i) else { return nil }
        node = a[i]
      default: return nil
      }
    }
    return node
  }

  static func briefText(_ x: JSONValue) -> String {
    let text = x.compactText
    return text.count > 40 ? String(text.prefix(37)) + "..." : text
  }
}
