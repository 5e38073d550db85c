import Foundation
import Yams

/// `conditions:` of a suite: each condition's `faults:` and `perturb:`, checked with file:line:column.
extension SuiteLoader {
  static let conditionKeys = ["faults", "perturb"]
  static let faultKeys = ["kind", "tools", "rate", "on_call", "after", "delay", "retry_after"]
  static let perturbKeys = ["typos", "case", "whitespace", "filler"]
  /// Each kind's own parameter, and the kind it belongs to.
  static let faultParameters: [String: FaultKind] = ["after": .timeout, "delay": .latency, "retry_after": .rateLimit]

  static func conditions(_ node: Node, _ c: LoadContext) -> [Condition] {
    let r = c.reader
    guard let map = r.mapping(node, "conditions", allowed: []) else { return [.clean] }
    if map.order.isEmpty { r.error(node, "conditions must name at least one condition") }
    var out: [Condition] = []
    for name in map.order {
      // Names appear in `METRIC@CONDITION` and in paths: the characters of a task id.
      if name.isEmpty || !name.unicodeScalars.allSatisfy({ CharacterSet.taskID.contains($0) }) || name == "."
        || name == ".."
      {
        r.error(map.keyNodes[name] ?? node, "condition name '\(VisibleText.of(name))' must match [A-Za-z0-9._-]+")
      }
      guard let value = map.values[name] else { continue }
      out.append(condition(value, name: name, r))
    }
    return out.isEmpty ? [.clean] : out
  }

  static func condition(_ node: Node, name: String, _ r: YAMLReader) -> Condition {
    // `clean: {}` and a bare `clean:` are both a condition with nothing injected.
    if node.null != nil { return Condition(name: name) }
    guard let f = r.mapping(node, "condition '\(name)'", allowed: conditionKeys) else { return Condition(name: name) }
    var rules: [FaultRule] = []
    if let faults = f["faults"] {
      if case .sequence(let items) = faults {
        rules = items.compactMap { fault($0, r) }
      } else {
        r.error(faults, "faults must be a list of fault entries")
      }
    }
    let perturb = f["perturb"].map { perturbation($0, r) } ?? Perturbation()
    return Condition(name: name, faults: rules, perturb: perturb)
  }

  static func fault(_ node: Node, _ r: YAMLReader) -> FaultRule? {
    guard let f = r.mapping(node, "a fault", allowed: faultKeys) else { return nil }
    guard let kindNode = f["kind"] else {
      r.error(node, "a fault needs a 'kind' (\(FaultKind.allCases.map(\.rawValue).joined(separator: ", ")))")
      return nil
    }
    guard let text = r.string(kindNode, "kind") else { return nil }
    guard let kind = FaultKind(rawValue: text) else {
      var message =
        "unknown fault kind '\(text)' (kinds: \(FaultKind.allCases.map(\.rawValue).joined(separator: ", ")))"
      if let hint = suggestion(for: text, among: FaultKind.allCases.map(\.rawValue)) {
        message += "; did you mean '\(hint)'?"
      }
      r.error(kindNode, message)
      return nil
    }
    let tools = f["tools"].flatMap { r.strings($0, "tools") } ?? []
    var when: FaultRule.When?
    switch (f["rate"], f["on_call"]) {
    case (.some(let node), .some):
      r.error(node, "a fault fires by 'rate' or by 'on_call', not both")
    case (.some(let node), nil):
      if let p = r.number(node, "rate") {
        if p < 0 || p > 1 { r.error(node, "rate must be a probability from 0 to 1") } else { when = .rate(p) }
      }
    case (nil, .some(let node)):
      if let n = r.int(node, "on_call") { when = .onCall(n) }
    case (nil, nil):
      r.error(node, "a fault needs 'rate' (a probability per call) or 'on_call' (the call it fires on)")
    }
    var seconds: [String: Double] = [:]
    for (key, owner) in faultParameters {
      guard let value = f[key] else { continue }
      if owner != kind {
        r.error(f.keyNodes[key] ?? value, "'\(key)' belongs to kind '\(owner.rawValue)', not '\(kind.rawValue)'")
      }
      seconds[key] = r.duration(value, key)
    }
    guard let when else { return nil }
    return FaultRule(
      kind: kind, tools: tools, when: when, after: seconds["after"], delay: seconds["delay"],
      retryAfter: seconds["retry_after"])
  }

  static func perturbation(_ node: Node, _ r: YAMLReader) -> Perturbation {
    guard let f = r.mapping(node, "perturb", allowed: perturbKeys) else { return Perturbation() }
    var p = Perturbation()
    if let n = f["typos"], let rate = r.number(n, "typos") {
      if rate < 0 || rate > 1 { r.error(n, "typos must be a rate per letter from 0 to 1") } else { p.typos = rate }
    }
    p.changeCase = f["case"].flatMap { r.bool($0, "case") } ?? false
    p.whitespace = f["whitespace"].flatMap { r.bool($0, "whitespace") } ?? false
    p.filler = f["filler"].flatMap { r.bool($0, "filler") } ?? false
    return p
  }
}
