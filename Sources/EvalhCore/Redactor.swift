/// Replaces every secret value (from `${VAR}`) with `[redacted:VAR]`, before anything is stored or printed.
public struct Redactor: Sendable {
  /// (value, replacement), longest value first so a secret containing another is replaced whole.
  private let rules: [(value: String, replacement: String)]

  /// Redacts the values of `secrets` (by variable name) wherever they appear.
  public init(secrets: [String: String]) {
    rules = secrets.filter { !$0.value.isEmpty }.map { ($0.value, "[redacted:\($0.key)]") }
      .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.value < $1.value }
  }

  /// Whether there is anything to redact.
  public var isEmpty: Bool { rules.isEmpty }

  /// `text` with every secret value replaced.
  public func redact(_ text: String) -> String {
    guard !rules.isEmpty else { return text }
    var out = text
    for rule in rules where out.contains(rule.value) {
      out = out.replacingOccurrences(of: rule.value, with: rule.replacement)
    }
    return out
  }

  /// `text`, cut from something longer, with every secret value replaced, and the part of a secret
  /// the cut left at an edge too: a secret split by the 4 MiB stdout cut (`cutAfter`) or by the
  /// stderr tail (`cutBefore`) must not be stored half.
  public func redact(_ text: String, cutBefore: Bool, cutAfter: Bool) -> String {
    var out = redact(text)
    guard cutBefore || cutAfter else { return out }
    for rule in rules {
      let secret = Array(rule.value.utf8)
      let bytes = Array(out.utf8)
      if cutAfter,
        let k = (1..<secret.count).reversed().first(where: {
          bytes.count >= $0 && bytes.suffix($0).elementsEqual(secret.prefix($0))
        })
      {
        out = String(decoding: bytes.dropLast(k), as: UTF8.self) + rule.replacement
      }
      let again = Array(out.utf8)
      if cutBefore,
        let k = (1..<secret.count).reversed().first(where: {
          again.count >= $0 && again.prefix($0).elementsEqual(secret.suffix($0))
        })
      {
        out = rule.replacement + String(decoding: again.dropFirst(k), as: UTF8.self)
      }
    }
    return out
  }

  /// Every string (and object key) of `value` redacted: a secret inside JSON is caught whatever its escaping.
  public func redact(_ value: JSONValue) -> JSONValue {
    guard !rules.isEmpty else { return value }
    switch value {
    case .string(let s): return .string(redact(s))
    case .array(let a): return .array(a.map(redact))
    case .object(let o):
      var out: [String: JSONValue] = [:]
      for (k, v) in o { out[redact(k)] = redact(v) }
      return .object(out)
    default: return value
    }
  }

  /// A task as it may be stored: input and metadata redacted.
  public func redact(_ task: TaskSpec) -> TaskSpec {
    var t = task
    t.input = redact(t.input)
    t.metadata = t.metadata.mapValues(redact)
    return t
  }
}
