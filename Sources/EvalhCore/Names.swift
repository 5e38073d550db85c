import Foundation

/// What may name an agent, a task or a run: each becomes part of a path (a trial's working folder
/// is `ROOT/agent/task/trial`) and of terminal output, so none may climb out of its folder, hide in
/// it or rewrite the terminal.
public enum Names {
  /// Why `name` cannot name an agent or a run; nil when it can. `what` says which ("agent name").
  public static func problem(_ name: String, _ what: String) -> String? {
    if name.isEmpty { return "\(what) must not be empty" }
    if name == "." || name == ".." { return "\(what) '\(name)' is not a name ('.' and '..' are folders)" }
    if name.contains("/") { return "\(what) '\(VisibleText.of(name))' must not contain '/'" }
    if name.unicodeScalars.contains(where: VisibleText.isHidden) {
      return "\(what) '\(VisibleText.of(name))' must not contain control or bidirectional characters"
    }
    if name.utf8.count > 200 { return "\(what) is longer than 200 bytes" }
    return nil
  }

  /// Why `name` cannot be a tool's name: MCP clients and OpenAI function calling both take
  /// `[A-Za-z0-9_-]{1,64}` (dots too for MCP; kept out so one name works everywhere).
  public static func toolNameProblem(_ name: String) -> String? {
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    guard !name.isEmpty, name.utf8.count <= 64, name.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
      return "tool name '\(VisibleText.of(name))' must match [A-Za-z0-9_-]{1,64} (what MCP and OpenAI clients accept)"
    }
    return nil
  }

  /// Why `id` cannot be a task id (`[A-Za-z0-9._-]+`, not `.` or `..`); nil when it can.
  public static func taskIDProblem(_ id: String) -> String? {
    if id.isEmpty || !id.unicodeScalars.allSatisfy({ CharacterSet.taskID.contains($0) }) {
      return "task id '\(VisibleText.of(id))' must match [A-Za-z0-9._-]+"
    }
    if id == "." || id == ".." { return "task id '\(id)' is not a name ('.' and '..' are folders)" }
    return nil
  }

  /// Why `id` cannot be given as `--run-id`; nil when it can. The forms a run reference takes
  /// (`latest`, `latest~N`, `label:NAME`) would name another run.
  public static func runIDProblem(_ id: String) -> String? {
    if let problem = problem(id, "run id") { return problem }
    if id == "latest" || id.hasPrefix("latest~") || id.hasPrefix("label:") {
      return "run id '\(id)' reads as a run reference (latest, latest~N, label:NAME); choose another"
    }
    return nil
  }

  /// `name` as one path component: itself when it is a valid name, else `_` and a hash of it (a run
  /// id or agent read from a database may be anything; it must still not climb out of its folder).
  public static func pathComponent(_ name: String) -> String {
    if problem(name, "name") == nil { return name }
    return "_" + String(FNV1a(name.utf8).value, radix: 16)
  }
}
