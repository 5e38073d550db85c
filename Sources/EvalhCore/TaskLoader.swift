import Foundation
import Yams

/// `defaults:`: merged into every task, lists appended and scalars defaulted.
struct TaskDefaults {
  var tags: [String] = []
  var metadata: [String: JSONValue] = [:]
  var trials: Int?
  var timeout: Double?
  var fixture: String?
  var expect: [Grader] = []
  var assure: [Check] = []

  func apply(to task: TaskSpec) -> TaskSpec {
    var t = task
    t.tags += tags.filter { !t.tags.contains($0) }
    t.metadata.merge(metadata) { own, _ in own }
    t.trials = t.trials ?? trials
    t.timeout = t.timeout ?? timeout
    t.fixture = t.fixture ?? fixture
    t.expect += expect
    t.assure += assure
    return t
  }
}

extension SuiteLoader {
  static let taskKeys = [
    "id", "input", "tags", "metadata", "trials", "timeout", "fixture", "expect", "assure", "tools", "mcp_servers",
    "state", "variants",
  ]
  /// Task keys `defaults:` does not take: the suite's own `tools:`, `mcp_servers:` and `state:` are the defaults.
  static let taskOnlyKeys: Set<String> = ["id", "input", "tools", "mcp_servers", "state", "variants"]

  static func taskDefaults(_ node: Node, _ c: LoadContext) -> TaskDefaults? {
    let r = c.reader
    let allowed = taskKeys.filter { !taskOnlyKeys.contains($0) }
    guard let f = r.mapping(node, "defaults", allowed: allowed) else { return nil }
    var d = TaskDefaults()
    d.tags = f["tags"].flatMap { r.stringList($0, "tags") } ?? []
    if let m = f["metadata"] {
      if case .object(let o)? = r.json(m) { d.metadata = o } else { r.error(m, "metadata must be a mapping") }
    }
    d.trials = f["trials"].flatMap { r.int($0, "trials") }
    d.timeout = f["timeout"].flatMap { r.duration($0, "timeout") }
    d.fixture = f["fixture"].flatMap { fixture($0, c) }
    d.expect = f["expect"].map { graders($0, c) } ?? []
    d.assure = f["assure"].map { checks($0, c) } ?? []
    return d
  }

  static func task(_ node: Node, _ c: LoadContext) -> TaskSpec? {
    let r = c.reader
    guard let f = r.mapping(node, "a task", allowed: taskKeys) else { return nil }
    guard let idNode = f["id"] else {
      r.error(node, "a task needs an 'id'")
      return nil
    }
    guard let id = r.string(idNode, "id") else { return nil }
    if let problem = Names.taskIDProblem(id) { r.error(idNode, problem) }
    guard let inputNode = f["input"] else {
      r.error(node, "task '\(id)' needs an 'input'")
      return nil
    }
    var task = TaskSpec(id: id, input: r.json(inputNode) ?? .null)
    task.tags = f["tags"].flatMap { r.stringList($0, "tags") } ?? []
    if let m = f["metadata"] {
      if case .object(let o)? = r.json(m) { task.metadata = o } else { r.error(m, "metadata must be a mapping") }
    }
    task.trials = f["trials"].flatMap { r.int($0, "trials") }
    task.timeout = f["timeout"].flatMap { r.duration($0, "timeout") }
    task.fixture = f["fixture"].flatMap { fixture($0, c) }
    if let v = f["variants"] {
      if case .sequence(let items) = v, !items.isEmpty {
        task.variants = items.map { r.json($0) ?? .null }
      } else {
        r.error(v, "variants must be a non-empty list of inputs (paraphrases of 'input')")
      }
    }
    task.expect = f["expect"].map { graders($0, c) } ?? []
    task.assure = f["assure"].map { checks($0, c) } ?? []
    task.tools = ToolSetup(
      tools: f["tools"].map { tools($0, c) } ?? [], servers: f["mcp_servers"].map { servers($0, c) } ?? [],
      state: f["state"].flatMap { stateFile($0, c) })
    return task
  }

  static func fixture(_ node: Node, _ c: LoadContext) -> String? {
    guard let path = c.reader.string(node, "fixture") else { return nil }
    let absolute = c.resolve(path)
    guard c.isFolder(absolute) else {
      c.reader.error(node, "fixture '\(path)' is not a folder")
      return nil
    }
    let unsupported = Fixture.unsupportedEntries(in: absolute)
    guard unsupported.isEmpty else {
      c.reader.error(
        node,
        "fixture '\(path)' holds what cannot be copied (only files, folders and links can): "
          + unsupported.map { "'\(path)/\($0)'" }.joined(separator: ", "))
      return nil
    }
    return absolute
  }

  static func graders(_ node: Node, _ c: LoadContext) -> [Grader] {
    guard case .sequence(let seq) = node else {
      c.reader.error(node, "expect must be a list of graders" + listHint(node))
      return []
    }
    return seq.compactMap { grader($0, c) }
  }

  static func checks(_ node: Node, _ c: LoadContext) -> [Check] {
    guard case .sequence(let seq) = node else {
      c.reader.error(node, "assure must be a list of checks" + listHint(node))
      return []
    }
    return seq.compactMap { check($0, c) }
  }

  /// For a single entry written without its list (`expect: { equals: ok }`), how to write it.
  static func listHint(_ node: Node) -> String {
    guard case .mapping(let map) = node, map.count == 1 else { return "" }
    return ": write a single one as a list of one, `[{ \(map.keys.first?.string ?? "…"): … }]` or a `- ` line"
  }
}
