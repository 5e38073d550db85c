import Foundation
import Yams

/// `tools:`, `mcp_servers:` and `state:`, at suite and task level (tools.md, "Declaring tools").
extension SuiteLoader {
  static let toolKeys =
    ["description", "input_schema", "output_schema", "annotations", "timeout"] + ToolHandler.keywords
  static let serverKeys = ["command", "url", "env", "cwd", "tools"]
  static let caseKeys = ["when", "result", "is_error"]

  /// The tools of a `tools:` mapping, in order.
  static func tools(_ node: Node, _ c: LoadContext) -> [ToolSpec] {
    let r = c.reader
    guard let map = r.mapping(node, "tools", allowed: []) else { return [] }
    return map.order.compactMap { name in
      if let problem = Names.toolNameProblem(name) { r.error(map.keyNodes[name] ?? node, problem) }
      return map.values[name].flatMap { tool($0, name: name, c) }
    }
  }

  static func tool(_ node: Node, name: String, _ c: LoadContext) -> ToolSpec? {
    let r = c.reader
    guard let f = r.mapping(node, "tool '\(name)'", allowed: toolKeys) else { return nil }
    let description = f["description"].flatMap { r.string($0, "description") } ?? ""
    if f["description"] == nil { r.error(node, "tool '\(name)' needs a 'description' (the agent reads it)") }
    guard let schemaNode = f["input_schema"] else {
      r.error(node, "tool '\(name)' needs an 'input_schema'")
      return nil
    }
    let input = schema(schemaNode, c)
    if let input, input.root["type"]?.stringValue != "object" {
      r.error(schemaNode, "tool '\(name)': input_schema must have type: object (arguments are an object)")
    }
    let output = f["output_schema"].flatMap { schema($0, c) }
    var annotations = ToolAnnotations()
    if let a = f["annotations"], let af = r.mapping(a, "annotations", allowed: ToolAnnotations.keys) {
      annotations.readOnly = af["read_only"].flatMap { r.bool($0, "read_only") }
      annotations.destructive = af["destructive"].flatMap { r.bool($0, "destructive") }
      annotations.idempotent = af["idempotent"].flatMap { r.bool($0, "idempotent") }
      annotations.openWorld = af["open_world"].flatMap { r.bool($0, "open_world") }
    }
    let present = ToolHandler.keywords.filter { f[$0] != nil }
    guard present.count == 1, let keyword = present.first, let value = f[keyword] else {
      r.error(
        node,
        present.isEmpty
          ? "tool '\(name)' needs a handler: one of cases, respond, run"
          : "tool '\(name)' has \(present.count) handlers (\(present.joined(separator: ", "))): use exactly one")
      return nil
    }
    if let t = f["timeout"], keyword != "run" { r.error(t, "timeout applies to a 'run' handler only") }
    let properties = input?.root["properties"]?.objectValue.map { Set($0.keys) }
    let handler: ToolHandler?
    switch keyword {
    case "cases": handler = cases(value, r).map { .cases($0) }
    case "respond":
      handler = r.json(value).map { result in
        checkPlaceholders(in: result, at: value, tool: name, properties: properties, r)
        return .respond(result)
      }
    default:
      guard let argv = r.stringList(value, "run"), !argv.isEmpty else {
        r.error(value, "run needs [program, args...]")
        return nil
      }
      c.checkProgram(argv, cwd: c.folder, node: value, what: "tool command")
      let timeout = f["timeout"].flatMap { r.duration($0, "timeout") } ?? ToolHandler.defaultTimeout
      handler = .run(argv: argv, cwd: c.folder, timeout: timeout)
    }
    guard let input, let handler else { return nil }
    if let output { checkFixedResults(handler, against: output, at: value, tool: name, r) }
    return ToolSpec(
      name: name, description: description, inputSchema: input, outputSchema: output, annotations: annotations,
      handler: handler)
  }

  static func cases(_ node: Node, _ r: YAMLReader) -> [ToolCase]? {
    guard case .sequence(let items) = node, !items.isEmpty else {
      r.error(node, "cases must be a non-empty list of {when, result, is_error}")
      return nil
    }
    var out: [ToolCase] = []
    for (i, item) in items.enumerated() {
      guard let f = r.mapping(item, "a case", allowed: caseKeys) else { continue }
      guard let resultNode = f["result"], let result = r.json(resultNode) else {
        if f["result"] == nil { r.error(item, "a case needs a 'result'") }
        continue
      }
      var when: JSONValue?
      if let w = f["when"] {
        when = r.json(w)
        if when?.objectValue == nil { r.error(w, "when must be a mapping of arguments") }
      } else if i < items.count - 1 {
        r.error(item, "a case without 'when' matches every call: only the last case may omit it")
      }
      let isError = f["is_error"].flatMap { r.bool($0, "is_error") } ?? false
      out.append(ToolCase(when: when, result: result, isError: isError))
    }
    return out
  }

  /// Results written in the suite must keep the tool's own `output_schema`.
  static func checkFixedResults(
    _ handler: ToolHandler, against schema: JSONSchema, at node: Node, tool: String, _ r: YAMLReader
  ) {
    var fixed: [(String, JSONValue)] = []
    switch handler {
    case .cases(let cases):
      for (i, c) in cases.enumerated() where !c.isError { fixed.append(("case \(i + 1)'s result", c.result)) }
    case .respond(let value) where !value.compactText.contains("{{"):
      fixed.append(("the respond result", value))
    default: break
    }
    for (what, value) in fixed {
      if let first = schema.validate(value).first {
        r.error(
          node, "tool '\(tool)': \(what) breaks its output_schema (result\(first.path.dropFirst()) \(first.message))")
      }
    }
  }

  /// `{{arguments.NAME}}` must name an argument the schema declares (when it declares any).
  static func checkPlaceholders(
    in value: JSONValue, at node: Node, tool: String, properties: Set<String>?, _ r: YAMLReader
  ) {
    switch value {
    case .string(let s):
      for name in ToolTemplate.placeholders(in: s) {
        guard let argument = ToolTemplate.argumentName(name) else {
          r.error(node, "tool '\(tool)': unknown placeholder '{{\(name)}}' (use {{arguments.NAME}})")
          continue
        }
        if let properties, !properties.contains(argument) {
          r.error(node, "tool '\(tool)': '{{\(name)}}' names no property of its input_schema")
        }
      }
    case .array(let items):
      for item in items { checkPlaceholders(in: item, at: node, tool: tool, properties: properties, r) }
    case .object(let members):
      for member in members.values { checkPlaceholders(in: member, at: node, tool: tool, properties: properties, r) }
    default: break
    }
  }

  /// The servers of an `mcp_servers:` mapping.
  static func servers(_ node: Node, _ c: LoadContext) -> [MCPServerSpec] {
    let r = c.reader
    guard let map = r.mapping(node, "mcp_servers", allowed: []) else { return [] }
    var out: [MCPServerSpec] = []
    for name in map.order {
      guard let value = map.values[name], let f = r.mapping(value, "server '\(name)'", allowed: serverKeys) else {
        continue
      }
      if let problem = Names.problem(name, "server name") { r.error(map.keyNodes[name] ?? node, problem) }
      let only = f["tools"].flatMap { r.stringList($0, "tools") }
      switch (f["command"], f["url"]) {
      case (.some(let commandNode), nil):
        guard let argv = r.stringList(commandNode, "command"), !argv.isEmpty else {
          r.error(commandNode, "command needs [program, args...]")
          continue
        }
        var cwd = c.folder
        if let node = f["cwd"], let s = r.string(node, "cwd") {
          cwd = c.resolve(s)
          if !c.isFolder(cwd) { r.error(node, "cwd '\(s)' is not a folder") }
        }
        var env: [String: String] = [:]
        if let e = f["env"], let ef = r.mapping(e, "env", allowed: []) {
          for key in ef.order { env[key] = ef.values[key].flatMap { r.string($0, "env \(key)") } }
        }
        c.checkProgram(argv, cwd: cwd, node: commandNode, what: "MCP server command")
        out.append(MCPServerSpec(name: name, transport: .command(argv: argv, cwd: cwd, env: env), tools: only))
      case (nil, .some(let urlNode)):
        guard let url = r.string(urlNode, "url") else { continue }
        if let scheme = URL(string: url)?.scheme, ["http", "https"].contains(scheme) {
          out.append(MCPServerSpec(name: name, transport: .url(url), tools: only))
        } else {
          r.error(urlNode, "url must be an http:// or https:// address")
        }
        for key in ["env", "cwd"] where f[key] != nil {
          r.error(f.keyNodes[key], "\(key) applies to a 'command' server")
        }
      case (.some, .some): r.error(value, "server '\(name)' has both 'command' and 'url': use one")
      case (nil, nil): r.error(value, "server '\(name)' needs 'command' (stdio) or 'url' (Streamable HTTP)")
      }
    }
    return out
  }

  /// `state:`: a JSON document (file), copied per trial.
  static func stateFile(_ node: Node, _ c: LoadContext) -> String? {
    guard let path = c.reader.string(node, "state") else { return nil }
    let absolute = c.resolve(path)
    guard let data = c.contents(of: path, at: node, what: "state file") else { return nil }
    guard JSONValue.parse(data) != nil else {
      c.reader.error(node, "state file '\(path)' is not a JSON document")
      return nil
    }
    return absolute
  }

  /// A task's tools: the suite's, with the task's added or replacing them by name.
  static func merged(suite: ToolSetup, task: ToolSetup) -> ToolSetup {
    var tools = suite.tools.filter { tool in !task.tools.contains { $0.name == tool.name } }
    tools += task.tools
    var servers = suite.servers.filter { server in !task.servers.contains { $0.name == server.name } }
    servers += task.servers
    return ToolSetup(tools: tools, servers: servers, state: task.state ?? suite.state)
  }

  /// Checks a task's effective tools: names unique across tools and servers' listed tools, and
  /// graders that need served tools or state have them.
  static func checkToolUse(_ task: TaskSpec, at node: Node?, origin: String, _ r: YAMLReader) {
    func problem(_ message: String) {
      if let node { r.error(node, message) } else { r.error(line: 0, "\(message) (\(origin))") }
    }
    var owner: [String: String] = [:]
    for tool in task.tools.tools { owner[tool.name] = "tools" }
    for server in task.tools.servers {
      for name in server.tools ?? [] {
        if let first = owner[name] {
          problem(
            "task '\(task.id)': tool name '\(name)' of server '\(server.name)' collides with \(first == "tools" ? "a tool of 'tools'" : "server '\(first)'")"
          )
        }
        owner[name] = server.name
      }
    }
    let served = !task.tools.tools.isEmpty || !task.tools.servers.isEmpty
    for grader in task.expect {
      switch grader.kind {
      case .state where task.tools.state == nil:
        problem("task '\(task.id)': a state grader needs 'state:' (the trial's tool state)")
      case .toolResult(let spec) where !served:
        problem("task '\(task.id)': tool_result calls '\(spec.call)', but the task serves no tools")
      case .toolResult(let spec) where owner[spec.call] == nil && task.tools.servers.allSatisfy({ $0.tools != nil }):
        problem("task '\(task.id)': tool_result calls '\(spec.call)', which is not one of the task's tools")
      default: break
      }
    }
    for check in task.assure {
      if case .honestSteps = check.kind, !served {
        problem(
          "task '\(task.id)': honest_steps compares reported steps with served calls, but the task serves no tools")
      }
    }
  }
}

/// `{{arguments.NAME}}` in `respond` results.
public enum ToolTemplate {
  /// The placeholder bodies in `text`, trimmed (as in HTTP body templates).
  public static func placeholders(in text: String) -> [String] { BodyTemplate.placeholders(in: text) }

  /// NAME of `arguments.NAME`, else nil.
  public static func argumentName(_ body: String) -> String? {
    guard body.hasPrefix("arguments."), body.count > "arguments.".count else { return nil }
    return String(body.dropFirst("arguments.".count))
  }

  /// `value` with each `{{arguments.NAME}}` replaced: a string that is exactly one placeholder
  /// becomes the argument's JSON value; inside longer text, its text.
  public static func fill(_ value: JSONValue, arguments: JSONValue) -> JSONValue {
    switch value {
    case .string(let s):
      let names = placeholders(in: s)
      guard !names.isEmpty else { return value }
      if names.count == 1, let name = argumentName(names[0]),
        s.trimmingCharacters(in: .whitespaces).hasPrefix("{{"), s.trimmingCharacters(in: .whitespaces).hasSuffix("}}"),
        let whole = arguments[name]
      {
        return whole
      }
      var out = ""
      var rest = Substring(s)
      while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
        out += rest[..<open.lowerBound]
        let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
        out += argumentName(body).flatMap { arguments[$0]?.gradingText } ?? ""
        rest = rest[close.upperBound...]
      }
      return .string(out + rest)
    case .array(let items): return .array(items.map { fill($0, arguments: arguments) })
    case .object(let members): return .object(members.mapValues { fill($0, arguments: arguments) })
    default: return value
    }
  }
}
