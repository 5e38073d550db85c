import Crypto
import Foundation
import Yams

/// Loads a suite file into a `Suite`, reporting every problem at once.
public enum SuiteLoader {
  static let topKeys = [
    "version", "name", "description", "trials", "concurrency", "timeout", "slo", "clear", "agents", "agent",
    "defaults", "tasks", "tasks_file", "tools", "mcp_servers", "state",
    "conditions",
  ]
  static let agentKeys = ["subprocess", "http", "pricing"]
  static let httpKeys = [
    "url", "method", "headers", "body", "response", "retries", "max_connections", "max_output", "openai", "tool_loop",
  ]
  static let subprocessKeys = ["command", "cwd", "env", "format", "max_output"]
  static let openAIKeys = ["base_url", "model", "api_key", "temperature", "max_tokens"]
  static let responseKeys = ["output", "input_tokens", "output_tokens", "cost_usd", "steps"]
  static let toolLoopKeys = ["max_turns"]
  static let pricingKeys = ["input_per_million", "output_per_million"]
  static let sloKeys = ["latency", "cost"]
  static let clearKeys = ["weights"]

  /// Reads and validates the suite at `path` (as the user wrote it; used in messages).
  public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
    throws(SuiteErrors) -> Suite
  {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw SuiteErrors(diagnostics: [
        SuiteDiagnostic(file: path, line: 0, column: 0, message: "cannot read the suite file")
      ])
    }
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    return try parse(
      String(decoding: data, as: UTF8.self).withoutByteOrderMark, file: path, absolutePath: absolute,
      environment: environment)
  }

  /// Parses suite text; `file` names it in messages, `absolutePath` anchors relative paths.
  public static func parse(
    _ text: String, file: String, absolutePath: String,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(SuiteErrors) -> Suite {
    let reader = YAMLReader(file: file, documentLength: text.utf8.count, environment: environment)
    let root: Node
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw SuiteErrors(diagnostics: [SuiteDiagnostic(file: file, line: 1, column: 1, message: "the suite is empty")])
      }
      root = node
    } catch let errors as SuiteErrors {
      throw errors
    } catch {
      throw SuiteErrors(diagnostics: [yamlDiagnostic(error, text: text, file: file)])
    }
    let context = LoadContext(
      reader: reader, folder: (absolutePath as NSString).deletingLastPathComponent, fileName: file,
      environment: environment)
    let suite = build(root, context, absolutePath: absolutePath)
    if let suite, reader.diagnostics.isEmpty { return suite }
    // Messages quote values from the suite; secrets among them are not printed.
    let redactor = Redactor(secrets: reader.secrets)
    throw SuiteErrors(
      diagnostics: reader.diagnostics.map { d in
        var d = d
        d.message = redactor.redact(d.message)
        return d
      })
  }

  static func yamlDiagnostic(_ error: any Error, text: String, file: String) -> SuiteDiagnostic {
    switch error as? YamlError {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { "\($0.text) " } ?? ""
      return SuiteDiagnostic(
        file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(detail)\(problem)")
    case .reader(let problem, let offset, let value, _):
      // The byte offset as line and column; the character shown, never echoed raw (ESC, BEL).
      let bytes = Array(text.utf8.prefix(offset ?? 0))
      let line = bytes.filter { $0 == 0x0A }.count + 1
      let column = bytes.count - (bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
      let shown = Unicode.Scalar(UInt32(bitPattern: value)).map { VisibleText.of(String(Character($0))) } ?? "\(value)"
      return SuiteDiagnostic(
        file: file, line: line, column: column, message: "invalid YAML: \(problem) (character \(shown))")
    case .duplicatedKeysInMapping(let duplicates, let context):
      // Yams points at the mapping; find the duplicate key's own line.
      let key = duplicates.first ?? "?"
      let (first, second) = duplicateLines(of: key, in: text, mapping: context.mark)
      return SuiteDiagnostic(
        file: file, line: second?.line ?? context.mark.line, column: second?.column ?? context.mark.column,
        message: "duplicate key '\(key)'" + (first.map { " (first at line \($0))" } ?? ""))
    default:
      return SuiteDiagnostic(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
    }
  }

  /// The first two lines of a block mapping (starting at `mapping`) that hold `key` at its indentation.
  static func duplicateLines(of key: String, in text: String, mapping: Mark) -> (Int?, (line: Int, column: Int)?) {
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    let column = mapping.column
    var found: [Int] = []
    for index in (mapping.line - 1)..<lines.count {
      let line = Array(lines[index])
      let body = line.count >= column ? String(line[(column - 1)...]) : ""
      let indent = line.prefix { $0 == " " || $0 == "-" }.count
      if index > mapping.line - 1, !body.isEmpty, indent < column - 1,
        !line.allSatisfy({ $0 == " " }), line.first(where: { $0 != " " }) != "#"
      {
        break  // the mapping ended
      }
      for spelling in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(spelling) {
        let after = body.dropFirst(spelling.count).drop { $0 == " " }
        if after.first == ":" { found.append(index + 1) }
      }
      if found.count == 2 { break }
    }
    return (found.first, found.count == 2 ? (found[1], column) : nil)
  }

  static func build(_ root: Node, _ c: LoadContext, absolutePath: String) -> Suite? {
    let r = c.reader
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
    if let slo = top["slo"] { checkServiceLevels(slo, r) }
    if let clear = top["clear"] { checkClearWeights(clear, r) }

    var agents: [AgentConfig] = []
    switch (top["agents"], top["agent"]) {
    case (.some(let node), .some):
      r.error(node, "use either 'agents' or 'agent', not both")
    case (.some(let node), nil):
      if let map = r.mapping(node, "agents", allowed: []) {
        if map.order.isEmpty { r.error(node, "agents must name at least one agent") }
        for key in map.order {
          if let problem = Names.problem(key, "agent name") { r.error(map.keyNodes[key] ?? node, problem) }
          if let node = map.values[key], let a = agent(node, name: key, c) { agents.append(a) }
        }
      }
    case (nil, .some(let node)):
      if let a = agent(node, name: "default", c) { agents.append(a) }
    case (nil, nil):
      r.error(root, "missing required key 'agents' (or 'agent')")
    }

    // Judge graders name agents: tasks are read knowing them.
    var c = c
    c.agentNames = agents.map(\.name)
    let defaults = top["defaults"].flatMap { taskDefaults($0, c) } ?? TaskDefaults()
    let suiteTools = ToolSetup(
      tools: top["tools"].map { tools($0, c) } ?? [], servers: top["mcp_servers"].map { servers($0, c) } ?? [],
      state: top["state"].flatMap { stateFile($0, c) })
    var tasks: [(spec: TaskSpec, node: Node?, origin: String)] = []
    if let node = top["tasks"] {
      if case .sequence(let seq) = node {
        for item in seq {
          if let t = task(item, c) { tasks.append((t, item, "line \(item.mark?.line ?? 0)")) }
        }
        if seq.isEmpty, top["tasks_file"] == nil { r.error(node, "tasks must hold at least one task") }
      } else {
        r.error(node, "tasks must be a list")
      }
    }
    var fileTasks: [JSONValue] = []
    if let node = top["tasks_file"], let paths = r.strings(node, "tasks_file") {
      for path in paths {
        for loaded in tasksFile(path, at: node, c) {
          tasks.append((loaded.spec, nil, loaded.origin))
          fileTasks.append(loaded.raw)
        }
      }
    }
    if top["tasks"] == nil, top["tasks_file"] == nil { r.error(root, "missing required key 'tasks' (or 'tasks_file')") }

    var seen: [String: String] = [:]
    var unique: [TaskSpec] = []
    for (spec, node, origin) in tasks {
      if let first = seen[spec.id] {
        if let node {
          r.error(node, "duplicate task id '\(spec.id)' (first at \(first))")
        } else {
          r.error(line: 0, "duplicate task id '\(spec.id)' at \(origin) (first at \(first))")
        }
        continue
      }
      seen[spec.id] = origin
      var task = defaults.apply(to: spec)
      task.tools = merged(suite: suiteTools, task: spec.tools)
      checkToolUse(task, at: node, origin: origin, r)
      unique.append(task)
    }

    if !agents.isEmpty, case let judges = Set(unique.flatMap(\.expect).compactMap(judgeAgent)),
      agents.allSatisfy({ judges.contains($0.name) })
    {
      r.error(top.keyNodes["agents"] ?? root, "every agent is a judge: the suite has no agent to evaluate")
    }

    guard var config = r.json(root, raw: true) else { return nil }
    if !fileTasks.isEmpty, case .object(var members) = config {
      // The resolved suite holds the tasks read from files too, so a changed file changes the hash.
      members["tasks"] = .array((members["tasks"]?.arrayValue ?? []) + fileTasks)
      config = .object(members)
    }
    var suite = Suite(
      name: name, description: description, trials: trials, concurrency: concurrency, timeout: timeout,
      agents: agents, tasks: unique, path: absolutePath, config: config)
    suite.secrets = r.secrets
    suite.tools = suiteTools
    if let node = top["conditions"] { suite.conditions = conditions(node, c) }
    return suite
  }

  static func judgeAgent(_ grader: Grader) -> String? {
    if case .judge(let spec) = grader.kind { spec.agent } else { nil }
  }

  /// Checks `slo:`; the values are read from the stored suite (`MetricTargets(config:)`), like reports do.
  static func checkServiceLevels(_ node: Node, _ r: YAMLReader) {
    guard let f = r.mapping(node, "slo", allowed: sloKeys) else { return }
    _ = f["latency"].flatMap { r.duration($0, "slo.latency") }
    _ = f["cost"].flatMap { r.number($0, "slo.cost") }
  }

  /// Checks `clear.weights:` (numbers, none negative).
  static func checkClearWeights(_ node: Node, _ r: YAMLReader) {
    guard let f = r.mapping(node, "clear", allowed: clearKeys), let w = f["weights"],
      let wf = r.mapping(w, "clear.weights", allowed: ClearWeights.keys)
    else { return }
    for key in ClearWeights.keys {
      if let n = wf[key], let x = r.number(n, "clear.weights.\(key)"), x < 0 {
        r.error(n, "clear.weights.\(key) must not be negative")
      }
    }
  }

  static func agent(_ node: Node, name: String, _ c: LoadContext) -> AgentConfig? {
    let r = c.reader
    guard let fields = r.mapping(node, "agent '\(name)'", allowed: agentKeys) else { return nil }
    var pricing: Pricing?
    if let p = fields["pricing"],
      let pf = r.mapping(p, "pricing", allowed: pricingKeys)
    {
      let input = pf["input_per_million"].flatMap { r.number($0, "input_per_million") } ?? 0
      let output = pf["output_per_million"].flatMap { r.number($0, "output_per_million") } ?? 0
      pricing = Pricing(inputPerMillion: input, outputPerMillion: output)
    }
    if fields["subprocess"] != nil, fields["http"] != nil {
      r.error(node, "agent '\(name)' has two adapters: use 'subprocess' or 'http'")
      return nil
    }
    if let http = fields["http"] {
      return httpConfig(http, r).map { AgentConfig(name: name, adapter: .http($0), pricing: pricing) }
    }
    guard let sub = fields["subprocess"] else {
      r.error(node, "agent '\(name)' needs an adapter: 'subprocess' or 'http'")
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
    var cwd = c.folder
    if let node = sf["cwd"], let s = r.string(node, "cwd") {
      cwd = c.resolve(s)
      if !c.isFolder(cwd) { r.error(node, "cwd '\(s)' is not a folder") }
    }
    var env: [String: String] = [:]
    if let e = sf["env"], let ef = r.mapping(e, "env", allowed: []) {
      for key in ef.order { env[key] = ef.values[key].flatMap { r.string($0, "env \(key)") } }
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
    c.checkProgram(command, cwd: cwd, node: commandNode, what: "agent executable")
    let config = SubprocessConfig(command: command, cwd: cwd, env: env, format: format, maxOutput: maxOutput)
    return AgentConfig(name: name, adapter: .subprocess(config), pricing: pricing)
  }
}

/// What every part of loading shares: the reader, the suite's folder, the environment.
struct LoadContext {
  let reader: YAMLReader
  let folder: String
  let fileName: String
  let environment: [String: String]
  /// The suite's agents, once read (judge graders must name one).
  var agentNames: [String]? = nil

  /// A path from the suite, made absolute against the suite's folder.
  func resolve(_ path: String) -> String {
    path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
  }

  /// The bytes of a file the suite names (`what` says which: "tasks_file", "state file"), or nil
  /// with an error at `node` that says why: missing, a folder, not a regular file (a pipe or a
  /// device would block or never end), or unreadable.
  func contents(of path: String, at node: Node, what: String) -> Data? {
    let absolute = resolve(path)
    var info = stat()
    guard stat(absolute, &info) == 0 else {
      reader.error(node, "\(what) '\(path)' not found")
      return nil
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR:
      reader.error(node, "\(what) '\(path)' is a folder, not a file")
      return nil
    default:
      reader.error(node, "\(what) '\(path)' is not a regular file")
      return nil
    }
    guard let data = FileManager.default.contents(atPath: absolute) else {
      reader.error(node, "\(what) '\(path)' cannot be read")
      return nil
    }
    return data
  }

  func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }

  /// Reports a program that cannot be started: a path that is not executable, or a name not on PATH;
  /// for an interpreter (`python3 script.py`), also a script that does not exist.
  func checkProgram(_ argv: [String], cwd: String, node: Node, what: String) {
    let fm = FileManager.default
    guard let program = argv.first else { return }
    if program.contains("/") {
      let path = program.hasPrefix("/") ? program : (cwd as NSString).appendingPathComponent(program)
      if !fm.isExecutableFile(atPath: path) { reader.error(node, "\(what) '\(program)' not found or not executable") }
    } else {
      let dirs = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
      if !dirs.contains(where: { fm.isExecutableFile(atPath: "\($0)/\(program)") }) {
        reader.error(node, "\(what) '\(program)' not found on PATH")
      }
    }
    let interpreters: Set<String> = [
      "python", "python3", "node", "ruby", "perl", "bash", "sh", "zsh", "deno", "bun", "php",
    ]
    if interpreters.contains((program as NSString).lastPathComponent), argv.count > 1 {
      let script = argv[1]
      if !script.hasPrefix("-"), script.contains("/") || script.contains("."), !script.contains(" ") {
        let path = script.hasPrefix("/") ? script : (cwd as NSString).appendingPathComponent(script)
        if !fm.fileExists(atPath: path) { reader.error(node, "script '\(script)' not found (looked in \(cwd))") }
      }
    }
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
