import Foundation

/// An HTTP agent's JSON body template: `{{placeholder}}`s inside strings are filled per trial.
///
/// A string that is exactly `"{{input}}"` (or `"{{task.metadata.KEY}}"`) takes that JSON value
/// itself, and exactly `"{{trial}}"` or `"{{seed}}"` a number; anywhere else a placeholder is
/// replaced by text (`{{input_text}}` always gives text).
public enum BodyTemplate {
  /// What the placeholders stand for in one trial.
  public struct Values: Sendable {
    /// The task's input.
    public var input: JSONValue
    /// The task's id.
    public var taskID: String
    /// The task's metadata.
    public var metadata: [String: JSONValue]
    /// The trial number, from 1.
    public var trial: Int
    /// The trial's seed.
    public var seed: Int64
    /// The run's id.
    public var runID: String
    /// The trial's working folder.
    public var workdir: String
    /// `{{tools.mcp_url}}`, `{{tools.url}}` and `{{tools.list}}`: empty (and `[]`) when no tools are served.
    public var toolsMCPURL = ""
    /// The plain JSON tools URL.
    public var toolsURL = ""
    /// The served tools in the OpenAI function shape.
    public var toolsList: JSONValue = .array([])
    /// The condition the trial runs under.
    public var condition = Condition.defaultName

    /// The values a template can name.
    public init(
      input: JSONValue, taskID: String, metadata: [String: JSONValue], trial: Int, seed: Int64, runID: String,
      workdir: String
    ) {
      self.input = input
      self.taskID = taskID
      self.metadata = metadata
      self.trial = trial
      self.seed = seed
      self.runID = runID
      self.workdir = workdir
    }
  }

  /// Placeholder names other than `task.metadata.KEY`.
  public static let names = [
    "input", "input_text", "task.id", "trial", "seed", "run_id", "workdir", "tools.mcp_url", "tools.url", "tools.list",
    "condition",
  ]

  /// Every placeholder name the template uses that evalh does not know.
  public static func unknownPlaceholders(in template: JSONValue) -> [String] {
    var unknown: [String] = []
    visitStrings(template) { s in
      for name in placeholders(in: s) where !names.contains(name) && !name.hasPrefix("task.metadata.") {
        if !unknown.contains(name) { unknown.append(name) }
      }
    }
    return unknown
  }

  /// The template with this trial's values filled in.
  public static func render(_ template: JSONValue, _ values: Values) -> JSONValue {
    switch template {
    case .string(let s): return renderString(s, values)
    case .array(let items): return .array(items.map { render($0, values) })
    case .object(let members): return .object(members.mapValues { render($0, values) })
    default: return template
    }
  }

  static func renderString(_ s: String, _ values: Values) -> JSONValue {
    guard s.contains("{{") else { return .string(s) }
    let names = placeholders(in: s)
    if names.count == 1, let name = names.first, s.trimmingCharacters(in: .whitespaces) == "{{\(name)}}" {
      if name == "input" { return values.input }
      if name == "trial" { return .number(Double(values.trial)) }
      if name == "seed" { return .number(Double(values.seed)) }
      if name == "tools.list" { return values.toolsList }
      if name.hasPrefix("task.metadata.") { return values.metadata[String(name.dropFirst(14))] ?? .null }
    }
    var out = ""
    var rest = Substring(s)
    while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
      out += rest[..<open.lowerBound]
      let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      out += text(of: name, values) ?? String(rest[open.lowerBound..<close.upperBound])
      rest = rest[close.upperBound...]
    }
    return .string(out + rest)
  }

  static func text(of name: String, _ v: Values) -> String? {
    switch name {
    case "input", "input_text": return v.input.gradingText
    case "task.id": return v.taskID
    case "trial": return String(v.trial)
    case "seed": return String(v.seed)
    case "run_id": return v.runID
    case "workdir": return v.workdir
    case "tools.mcp_url": return v.toolsMCPURL
    case "tools.url": return v.toolsURL
    case "tools.list": return v.toolsList.compactText
    case "condition": return v.condition
    default:
      guard name.hasPrefix("task.metadata.") else { return nil }
      return v.metadata[String(name.dropFirst(14))].map(\.gradingText) ?? ""
    }
  }

  static func placeholders(in s: String) -> [String] {
    var found: [String] = []
    var rest = Substring(s)
    while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
      found.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
      rest = rest[close.upperBound...]
    }
    return found
  }

  static func visitStrings(_ value: JSONValue, _ body: (String) -> Void) {
    switch value {
    case .string(let s): body(s)
    case .array(let items): for item in items { visitStrings(item, body) }
    case .object(let members): for member in members.values { visitStrings(member, body) }
    default: break
    }
  }
}
