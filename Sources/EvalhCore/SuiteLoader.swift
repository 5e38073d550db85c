import Crypto
import Foundation
import Yams

/// Loads a suite file into a `Suite`, reporting every problem at once.
public enum SuiteLoader {
  static let topKeys = ["version", "name", "description", "trials", "concurrency", "timeout", "agents", "agent", "tasks"]
  static let agentKeys = ["subprocess", "pricing"]
  static let subprocessKeys = ["command", "cwd", "env", "format", "max_output"]
  static let taskKeys = ["id", "input", "tags", "metadata", "trials", "timeout", "expect", "assure"]
  static let graderKeywords = ["equals", "contains", "contains_any", "regex", "json", "command"]
  static let checkKeywords = ["not_contains", "not_regex", "command"]

  /// Reads and validates the suite at `path` (as the user wrote it; used in messages).
  public static func load(path: String) throws(SuiteErrors) -> Suite {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw SuiteErrors(diagnostics: [SuiteDiagnostic(file: path, line: 0, column: 0, message: "cannot read the suite file")])
    }
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    return try parse(String(decoding: data, as: UTF8.self), file: path, absolutePath: absolute)
  }

  /// Parses suite text; `file` names it in messages, `absolutePath` anchors relative paths.
  public static func parse(_ text: String, file: String, absolutePath: String) throws(SuiteErrors) -> Suite {
    let reader = YAMLReader(file: file, documentLength: text.utf8.count)
    let root: Node
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw SuiteErrors(diagnostics: [SuiteDiagnostic(file: file, line: 1, column: 1, message: "the suite is empty")])
      }
      root = node
    } catch let errors as SuiteErrors {
      throw errors
    } catch {
      throw SuiteErrors(diagnostics: [yamlDiagnostic(error, file: file)])
    }
    let folder = (absolutePath as NSString).deletingLastPathComponent
    let suite = build(root, reader: reader, absolutePath: absolutePath, folder: folder)
    if let suite, reader.diagnostics.isEmpty { return suite }
    throw SuiteErrors(diagnostics: reader.diagnostics)
  }

  static func yamlDiagnostic(_ error: any Error, file: String) -> SuiteDiagnostic {
    switch error as? YamlError {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { "\($0.text) " } ?? ""
      return SuiteDiagnostic(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(detail)\(problem)")
    default:
      return SuiteDiagnostic(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
    }
  }

  static func build(_ root: Node, reader r: YAMLReader, absolutePath: String, folder: String) -> Suite? {
    guard let top = r.mapping(root, "the suite", allowed: topKeys) else { return nil }
    if let v = top["version"], let n = r.int(v, "version"), n != 1 {
      r.error(v, "unsupported suite version \(n) (this evalh reads version 1)")
    }
    var name = ""
    if let v = top["name"] {
      name = r.string(v, "name") ?? ""
      if name.isEmpty { r.error(v, "name must not be empty") }
    } else {
      r.error(root, "missing required key 'name'")
    }
    let description = top["description"].flatMap { r.string($0, "description") }
    let trials = top["trials"].flatMap { r.int($0, "trials") }
    let concurrency = top["concurrency"].flatMap { r.int($0, "concurrency") }
    let timeout = top["timeout"].flatMap { r.duration($0, "timeout") } ?? Suite.defaultTimeout

    var agents: [AgentConfig] = []
    switch (top["agents"], top["agent"]) {
    case (.some(let node), .some):
      r.error(node, "use either 'agents' or 'agent', not both")
    case (.some(let node), nil):
      if let map = r.mapping(node, "agents", allowed: []) {
        if map.order.isEmpty { r.error(node, "agents must name at least one agent") }
        for key in map.order {
          if let a = agent(map.values[key]!, name: key, reader: r, folder: folder) { agents.append(a) }
        }
      }
    case (nil, .some(let node)):
      if let a = agent(node, name: "default", reader: r, folder: folder) { agents.append(a) }
    case (nil, nil):
      r.error(root, "missing required key 'agents' (or 'agent')")
    }

    var tasks: [TaskSpec] = []
    if let node = top["tasks"] {
      if case .sequence(let seq) = node {
        var seen: [String: Node] = [:]
        for item in seq {
          guard let t = task(item, reader: r) else { continue }
          if let first = seen[t.id] {
            r.error(item, "duplicate task id '\(t.id)' (first at line \(first.mark?.line ?? 0))")
            continue
          }
          seen[t.id] = item
          tasks.append(t)
        }
        if seq.isEmpty { r.error(node, "tasks must hold at least one task") }
      } else {
        r.error(node, "tasks must be a list")
      }
    } else {
      r.error(root, "missing required key 'tasks'")
    }

    guard let config = r.json(root) else { return nil }
    return Suite(
      name: name, description: description, trials: trials, concurrency: concurrency, timeout: timeout,
      agents: agents, tasks: tasks, path: absolutePath, config: config)
  }

  static func agent(_ node: Node, name: String, reader r: YAMLReader, folder: String) -> AgentConfig? {
    guard let fields = r.mapping(node, "agent '\(name)'", allowed: agentKeys) else { return nil }
    var pricing: Pricing?
    if let p = fields["pricing"], let pf = r.mapping(p, "pricing", allowed: ["input_per_million", "output_per_million"]) {
      let input = pf["input_per_million"].flatMap { r.number($0, "input_per_million") } ?? 0
      let output = pf["output_per_million"].flatMap { r.number($0, "output_per_million") } ?? 0
      pricing = Pricing(inputPerMillion: input, outputPerMillion: output)
    }
    guard let sub = fields["subprocess"] else {
      r.error(node, "agent '\(name)' needs an adapter: 'subprocess'")
      return nil
    }
    guard let sf = r.mapping(sub, "subprocess", allowed: subprocessKeys) else { return nil }
    guard let commandNode = sf["command"] else {
      r.error(sub, "subprocess needs 'command'")
      return nil
    }
    guard let command = r.strings(commandNode, "command"), let program = command.first, !program.isEmpty else {
      r.error(commandNode, "command must name a program")
      return nil
    }
    var cwd = folder
    if let c = sf["cwd"], let s = r.string(c, "cwd") {
      cwd = s.hasPrefix("/") ? s : URL(fileURLWithPath: folder).appendingPathComponent(s).standardizedFileURL.path
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: cwd, isDirectory: &isDirectory) || !isDirectory.boolValue {
        r.error(c, "cwd '\(s)' is not a folder")
      }
    }
    var env: [String: String] = [:]
    if let e = sf["env"], let ef = r.mapping(e, "env", allowed: []) {
      for key in ef.order { env[key] = r.string(ef.values[key]!, "env \(key)") }
    }
    var format = OutputFormat.envelope
    if let f = sf["format"], let s = r.string(f, "format") {
      if let parsed = OutputFormat(rawValue: s) {
        format = parsed
      } else {
        r.error(f, "format must be 'envelope' or 'text'")
      }
    }
    let maxOutput = sf["max_output"].flatMap { r.int($0, "max_output") } ?? SubprocessConfig.defaultMaxOutput
    checkExecutable(program, cwd: cwd, node: commandNode, reader: r)
    let config = SubprocessConfig(command: command, cwd: cwd, env: env, format: format, maxOutput: maxOutput)
    return AgentConfig(name: name, adapter: .subprocess(config), pricing: pricing)
  }

  /// Reports a program that cannot be started: a path that is not executable, or a name not on PATH.
  static func checkExecutable(_ program: String, cwd: String, node: Node, reader r: YAMLReader) {
    let fm = FileManager.default
    if program.contains("/") {
      let path = program.hasPrefix("/") ? program : (cwd as NSString).appendingPathComponent(program)
      if !fm.isExecutableFile(atPath: path) { r.error(node, "agent executable '\(program)' not found or not executable") }
      return
    }
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    if !dirs.contains(where: { fm.isExecutableFile(atPath: "\($0)/\(program)") }) {
      r.error(node, "agent executable '\(program)' not found on PATH")
    }
  }

  static func task(_ node: Node, reader r: YAMLReader) -> TaskSpec? {
    guard let f = r.mapping(node, "a task", allowed: taskKeys) else { return nil }
    guard let idNode = f["id"] else {
      r.error(node, "a task needs an 'id'")
      return nil
    }
    guard let id = r.string(idNode, "id") else { return nil }
    if id.isEmpty || !id.unicodeScalars.allSatisfy({ CharacterSet.taskID.contains($0) }) {
      r.error(idNode, "task id '\(id)' must match [A-Za-z0-9._-]+")
    }
    guard let inputNode = f["input"] else {
      r.error(node, "task '\(id)' needs an 'input'")
      return nil
    }
    let input = r.json(inputNode) ?? .null
    let tags = f["tags"].flatMap { r.stringList($0, "tags") } ?? []
    var metadata: [String: JSONValue] = [:]
    if let m = f["metadata"] {
      if case .object(let o)? = r.json(m) { metadata = o } else { r.error(m, "metadata must be a mapping") }
    }
    let trials = f["trials"].flatMap { r.int($0, "trials") }
    let timeout = f["timeout"].flatMap { r.duration($0, "timeout") }
    var expect: [Grader] = []
    if let e = f["expect"] {
      if case .sequence(let seq) = e {
        expect = seq.compactMap { grader($0, reader: r) }
      } else {
        r.error(e, "expect must be a list of graders")
      }
    }
    var assure: [Check] = []
    if let a = f["assure"] {
      if case .sequence(let seq) = a {
        assure = seq.compactMap { check($0, reader: r) }
      } else {
        r.error(a, "assure must be a list of checks")
      }
    }
    return TaskSpec(
      id: id, input: input, tags: tags, metadata: metadata, trials: trials, timeout: timeout,
      expect: expect, assure: assure)
  }

  /// Splits a one-key entry (plus an optional `name:`) into its keyword and value.
  static func entry(_ node: Node, _ what: String, keywords: [String], reader r: YAMLReader)
    -> (keyword: String, value: Node, name: String?)?
  {
    guard let f = r.mapping(node, what, allowed: keywords + ["name"]) else { return nil }
    let present = f.order.filter { $0 != "name" }
    guard present.count == 1, let keyword = present.first else {
      if present.isEmpty, r.diagnostics.last?.line != node.mark?.line {
        r.error(node, "\(what) needs one of: \(keywords.joined(separator: ", "))")
      } else if present.count > 1 {
        r.error(node, "\(what) must have exactly one key, found \(present.joined(separator: ", "))")
      }
      return nil
    }
    var value = f.values[keyword]!
    var name = f["name"].flatMap { r.string($0, "name") }
    // The map form may carry `name:` inside: `contains: {value: x, name: y}`.
    if case .mapping(var inner) = value, let nameNode = inner["name"], keyword != "equals" || inner["value"] != nil {
      name = r.string(nameNode, "name")
      inner["name"] = nil
      if let v = inner["value"], inner.count == 1 { value = v } else { value = .mapping(inner) }
    }
    return (keyword, value, name)
  }

  static func grader(_ node: Node, reader r: YAMLReader) -> Grader? {
    guard let (keyword, value, name) = entry(node, "a grader", keywords: graderKeywords, reader: r) else { return nil }
    let kind: GraderKind?
    switch keyword {
    case "equals": kind = r.json(value).map { .equals($0) }
    case "contains": kind = r.strings(value, "contains").map { .contains($0) }
    case "contains_any": kind = r.strings(value, "contains_any").map { .containsAny($0) }
    case "regex": kind = r.pattern(value, "regex").map { .regex($0) }
    case "json": kind = jsonCheck(value, reader: r).map { .json($0) }
    default: kind = command(value, reader: r).map { .command($0) }
    }
    return kind.map { Grader(name: name, kind: $0) }
  }

  static func check(_ node: Node, reader r: YAMLReader) -> Check? {
    guard let (keyword, value, name) = entry(node, "an assurance check", keywords: checkKeywords, reader: r) else {
      return nil
    }
    let kind: CheckKind?
    switch keyword {
    case "not_contains": kind = r.strings(value, "not_contains").map { .notContains($0) }
    case "not_regex": kind = r.pattern(value, "not_regex").map { .notRegex($0) }
    default: kind = command(value, reader: r).map { .command($0) }
    }
    return kind.map { Check(name: name, kind: $0) }
  }

  static func jsonCheck(_ node: Node, reader r: YAMLReader) -> JSONCheck? {
    let conditions = ["equals", "contains", "matches", "exists", "gte", "lte"]
    guard let f = r.mapping(node, "json", allowed: ["path"] + conditions + ["tolerance"]) else { return nil }
    guard let pathNode = f["path"], let text = r.string(pathNode, "path") else {
      r.error(node, "json needs a 'path'")
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
      r.error(node, "json needs exactly one of: \(conditions.joined(separator: ", "))")
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

  static func command(_ node: Node, reader r: YAMLReader) -> CommandSpec? {
    if case .mapping = node {
      guard let f = r.mapping(node, "command", allowed: ["run", "timeout"]) else { return nil }
      guard let run = f["run"], let argv = r.stringList(run, "run"), !argv.isEmpty else {
        r.error(node, "command needs 'run: [program, args...]'")
        return nil
      }
      let timeout = f["timeout"].flatMap { r.duration($0, "timeout") } ?? CommandSpec.defaultTimeout
      return CommandSpec(argv: argv, timeout: timeout)
    }
    guard let argv = r.stringList(node, "command"), !argv.isEmpty else { return nil }
    return CommandSpec(argv: argv, timeout: CommandSpec.defaultTimeout)
  }
}

extension CharacterSet {
  static let taskID = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
}

extension Suite {
  /// SHA-256 of the resolved suite's canonical JSON: `--resume` refuses a suite whose hash changed.
  public var sha256: String {
    SHA256.hash(data: Data(config.compactText.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
