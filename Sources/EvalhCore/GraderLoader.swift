import Foundation
import Yams

extension SuiteLoader {
  static let graderKeywords = GraderKind.Keyword.allCases.map(\.rawValue)
  static let checkKeywords = CheckKind.Keyword.allCases.map(\.rawValue)
  // The keys of each grader's and check's own mapping (the suite schema is made from these too).
  static let toolCalledKeys = ["name", "arguments"]
  static let toolsPolicyKeys = ["allow", "deny", "max_calls"]
  static let stateFileKeys = ["equals_file"]
  static let jsonConditions = ["equals", "contains", "matches", "exists", "gte", "lte"]
  static let jsonCheckKeys = ["path"] + jsonConditions + ["tolerance"]
  static let toolResultKeys = ["call", "arguments"] + jsonCheckKeys
  static let judgeKeys = ["agent", "rubric", "threshold", "timeout"]
  static let commandKeys = ["run", "timeout"]

  /// Splits a one-key entry (plus an optional `name:`) into its keyword and value.
  static func entry(_ node: Node, _ what: String, keywords: [String], _ r: YAMLReader)
    -> (keyword: String, value: Node, name: String?)?
  {
    let before = r.diagnostics.count
    guard let f = r.mapping(node, what, allowed: keywords + ["name"]) else { return nil }
    let present = f.order.filter { $0 != "name" }
    guard present.count == 1, let keyword = present.first else {
      if present.isEmpty, r.diagnostics.count == before {
        r.error(node, "\(what) needs one of: \(keywords.joined(separator: ", "))")
      } else if present.count > 1 {
        r.error(node, "\(what) must have exactly one key, found \(present.joined(separator: ", "))")
      }
      return nil
    }
    guard var value = f.values[keyword] else { return nil }
    var name = f["name"].flatMap { r.string($0, "name") }
    // The map form may carry `name:` inside: `contains: {value: x, name: y}`.
    // (Not for `tool_called`, whose `name` is the tool's, nor `equals`, whose mapping is the expected value.)
    if case .mapping(var inner) = value, let nameNode = inner["name"], keyword != "tool_called",
      keyword != "equals" || inner["value"] != nil
    {
      name = r.string(nameNode, "name")
      inner["name"] = nil
      if let v = inner["value"], inner.count == 1 { value = v } else { value = .mapping(inner) }
    }
    return (keyword, value, name)
  }

  static func grader(_ node: Node, _ c: LoadContext) -> Grader? {
    let r = c.reader
    guard let (word, value, name) = entry(node, "a grader", keywords: graderKeywords, r),
      let keyword = GraderKind.Keyword(rawValue: word)
    else { return nil }
    let kind: GraderKind?
    switch keyword {
    case .equals: kind = r.json(value).map { .equals($0) }
    case .contains: kind = r.strings(value, "contains").map { .contains($0) }
    case .containsAny: kind = r.strings(value, "contains_any").map { .containsAny($0) }
    case .regex: kind = r.pattern(value, "regex").map { .regex($0) }
    case .json: kind = jsonCheck(value, r).map { .json($0) }
    case .jsonSchema: kind = schema(value, c).map { .jsonSchema($0) }
    case .toolCalled:
      guard let f = r.mapping(value, "tool_called", allowed: toolCalledKeys) else { return nil }
      guard let toolName = f["name"].flatMap({ r.string($0, "tool_called.name") }) else {
        r.error(value, "tool_called needs the tool's 'name'")
        return nil
      }
      // `name:` here is the tool's; a grader name goes beside the keyword.
      return Grader(name: nil, kind: .toolCalled(name: toolName, arguments: f["arguments"].flatMap { r.json($0) }))
    case .toolSequence:
      kind = r.stringList(value, "tool_sequence").flatMap { names in
        if names.isEmpty { r.error(value, "tool_sequence must name at least one tool") }
        return names.isEmpty ? nil : .toolSequence(names)
      }
    case .judge: kind = judge(value, c).map { .judge($0) }
    case .command: kind = command(value, c).map { .command($0) }
    case .state: kind = stateCheck(value, c).map { .state($0) }
    case .toolResult: kind = toolResult(value, r).map { .toolResult($0) }
    }
    return kind.map { Grader(name: name, kind: $0) }
  }

  static func check(_ node: Node, _ c: LoadContext) -> Check? {
    let r = c.reader
    guard let (word, value, name) = entry(node, "an assurance check", keywords: checkKeywords, r),
      let keyword = CheckKind.Keyword(rawValue: word)
    else { return nil }
    let kind: CheckKind?
    switch keyword {
    case .notContains: kind = r.strings(value, "not_contains").map { .notContains($0) }
    case .notRegex: kind = r.pattern(value, "not_regex").map { .notRegex($0) }
    case .noPII:
      guard let names = r.strings(value, "no_pii") else { return nil }
      var kinds: [PIIKind] = []
      for n in names {
        if let k = PIIKind(rawValue: n) {
          kinds.append(k)
        } else {
          var message = "unknown PII kind '\(n)' (kinds: \(PIIKind.allCases.map(\.rawValue).joined(separator: ", ")))"
          if let hint = suggestion(for: n, among: PIIKind.allCases.map(\.rawValue)) {
            message += "; did you mean '\(hint)'?"
          }
          r.error(value, message)
        }
      }
      kind = .noPII(kinds)
    case .jsonSchema: kind = schema(value, c).map { .jsonSchema($0) }
    case .tools:
      guard let f = r.mapping(value, "tools", allowed: toolsPolicyKeys) else { return nil }
      if f.order.isEmpty { r.error(value, "tools needs allow, deny or max_calls") }
      kind = .tools(
        allow: f["allow"].flatMap { r.stringList($0, "allow") },
        deny: f["deny"].flatMap { r.stringList($0, "deny") } ?? [],
        maxCalls: f["max_calls"].flatMap { r.int($0, "max_calls", min: 0) })
    case .toolSchemas:
      guard let f = r.mapping(value, "tool_schemas", allowed: []) else { return nil }
      kind = .toolSchemas(f.order.compactMap { tool in f.values[tool].flatMap { schema($0, c) }.map { (tool, $0) } })
    case .maxSteps: kind = r.int(value, "max_steps", min: 0).map { .maxSteps($0) }
    case .maxCost: kind = r.number(value, "max_cost").map { .maxCost($0) }
    case .maxLatency: kind = r.duration(value, "max_latency").map { .maxLatency($0) }
    case .maxTokens: kind = r.int(value, "max_tokens", min: 0).map { .maxTokens($0) }
    case .command: kind = command(value, c).map { .command($0) }
    case .honestSteps:
      guard let on = r.bool(value, "honest_steps") else { return nil }
      if !on { r.error(value, "honest_steps: false checks nothing; remove it") }
      kind = on ? .honestSteps : nil
    }
    return kind.map { Check(name: name, kind: $0) }
  }

  /// A schema: a file (JSON or YAML, relative to the suite) or an inline mapping; unsupported
  /// keywords and bad patterns are errors here, so nothing is silently ignored.
  static func schema(_ node: Node, _ c: LoadContext) -> JSONSchema? {
    let r = c.reader
    let document: JSONValue
    var source = "inline schema"
    switch node {
    case .mapping,
      .scalar where node.bool != nil:
      guard let value = r.json(node) else { return nil }
      document = value
    case .scalar:
      guard let path = r.string(node, "schema file") else { return nil }
      source = "schema '\(path)'"
      guard let data = c.contents(of: path, at: node, what: "schema file") else { return nil }
      let text = String(decoding: data, as: UTF8.self)
      if let parsed = JSONValue.parse(text) {
        document = parsed
      } else if let yaml = try? Yams.compose(yaml: text),
        let parsed = YAMLReader(file: path, documentLength: text.utf8.count, environment: [:]).json(yaml, raw: true)
      {
        document = parsed
      } else {
        r.error(node, "schema file '\(path)' is neither JSON nor YAML")
        return nil
      }
    default:
      r.error(node, "a schema is a file path or an inline mapping")
      return nil
    }
    for unsupported in JSONSchema.unsupportedKeywords(in: document) {
      r.error(node, "\(source) uses an unsupported keyword at \(unsupported)")
    }
    let problems = JSONSchema.problems(in: document)
    for problem in problems { r.error(node, "\(source) is not a valid schema: \(problem)") }
    guard problems.isEmpty else { return nil }
    do {
      return try JSONSchema(document)
    } catch {
      r.error(node, "\(source): \(error.message)")
      return nil
    }
  }

  /// `state: {path, condition}` or `state: {equals_file: FILE}`.
  static func stateCheck(_ node: Node, _ c: LoadContext) -> StateCheck? {
    let r = c.reader
    guard case .mapping(let m) = node, m["equals_file"] != nil else {
      return jsonCheck(node, r, what: "state").map { .at($0) }
    }
    guard let f = r.mapping(node, "state", allowed: stateFileKeys), let fileNode = f["equals_file"],
      let path = r.string(fileNode, "equals_file")
    else { return nil }
    guard let data = c.contents(of: path, at: fileNode, what: "equals_file") else { return nil }
    guard let document = JSONValue.parse(data) else {
      r.error(fileNode, "equals_file '\(path)' is not a JSON document")
      return nil
    }
    return .equalsDocument(document, file: path)
  }

  /// `tool_result: {call, arguments, path, condition}`.
  static func toolResult(_ node: Node, _ r: YAMLReader) -> ToolResultCheck? {
    guard case .mapping(var m) = node else {
      r.error(node, "tool_result must be a mapping: {call, arguments, path, equals / ...}")
      return nil
    }
    guard let callNode = m["call"], let call = r.string(callNode, "tool_result.call") else {
      r.error(node, "tool_result needs 'call' (the tool evalh calls)")
      return nil
    }
    var arguments = JSONValue.object([:])
    if let a = m["arguments"] {
      arguments = r.json(a) ?? .object([:])
      if arguments.objectValue == nil { r.error(a, "tool_result.arguments must be a mapping") }
    }
    m["call"] = nil
    m["arguments"] = nil
    return jsonCheck(.mapping(m), r, what: "tool_result", at: node).map {
      ToolResultCheck(call: call, arguments: arguments, check: $0)
    }
  }

  static func jsonCheck(_ node: Node, _ r: YAMLReader, what: String = "json", at place: Node? = nil) -> JSONCheck? {
    let conditions = jsonConditions
    guard let f = r.mapping(node, what, allowed: jsonCheckKeys) else { return nil }
    guard let pathNode = f["path"], let text = r.string(pathNode, "path") else {
      r.error(place ?? node, "\(what) needs a 'path'")
      return nil
    }
    let path: JSONPath
    do {
      path = try JSONPath(text)
    } catch {
      r.error(pathNode, error.description)
      return nil
    }
    let present = conditions.filter { f[$0] != nil }
    guard present.count == 1, let key = present.first, let v = f[key] else {
      r.error(place ?? node, "\(what) needs exactly one of: \(conditions.joined(separator: ", "))")
      return nil
    }
    let condition: JSONCheck.Condition?
    switch key {
    case "equals": condition = r.json(v).map { .equals($0) }
    case "contains": condition = r.string(v, "contains").map { .contains($0) }
    case "matches": condition = r.pattern(v, "matches").map { .matches($0) }
    case "exists": condition = r.bool(v, "exists").map { .exists($0) }
    case "gte": condition = r.number(v, "gte").map { .gte($0) }
    default: condition = r.number(v, "lte").map { .lte($0) }
    }
    let tolerance = f["tolerance"].flatMap { r.number($0, "tolerance") }
    return condition.map { JSONCheck(path: path, condition: $0, tolerance: tolerance) }
  }

  /// `judge: {agent, rubric, threshold, timeout}`; the agent must be one of the suite's.
  static func judge(_ node: Node, _ c: LoadContext) -> JudgeSpec? {
    let r = c.reader
    guard let f = r.mapping(node, "judge", allowed: judgeKeys) else { return nil }
    guard let agentNode = f["agent"], let agent = r.string(agentNode, "judge.agent"),
      let rubricNode = f["rubric"], let rubric = r.string(rubricNode, "judge.rubric")
    else {
      r.error(node, "judge needs 'agent' (an agent of the suite) and 'rubric'")
      return nil
    }
    if let known = c.agentNames, !known.contains(agent) {
      var message = "judge agent '\(agent)' is not an agent of the suite (agents: \(known.joined(separator: ", ")))"
      if let hint = suggestion(for: agent, among: known) { message += "; did you mean '\(hint)'?" }
      r.error(agentNode, message)
    }
    var spec = JudgeSpec(
      agent: agent, rubric: rubric, timeout: f["timeout"].flatMap { r.duration($0, "judge.timeout") })
    if let t = f["threshold"], let x = r.number(t, "judge.threshold") {
      if x < 0 || x > 1 { r.error(t, "judge.threshold must be between 0 and 1") }
      spec.threshold = x
    }
    return spec
  }

  static func command(_ node: Node, _ c: LoadContext) -> CommandSpec? {
    let r = c.reader
    var spec: CommandSpec?
    if case .mapping = node {
      guard let f = r.mapping(node, "command", allowed: commandKeys) else { return nil }
      guard let run = f["run"], let argv = r.stringList(run, "run"), !argv.isEmpty else {
        r.error(node, "command needs 'run: [program, args...]'")
        return nil
      }
      spec = CommandSpec(
        argv: argv, timeout: f["timeout"].flatMap { r.duration($0, "timeout") } ?? CommandSpec.defaultTimeout)
    } else if let argv = r.stringList(node, "command"), !argv.isEmpty {
      spec = CommandSpec(argv: argv)
    }
    if let spec { c.checkProgram(spec.argv, cwd: c.folder, node: node, what: "grader command") }
    return spec
  }
}
