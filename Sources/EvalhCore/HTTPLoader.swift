import Foundation
import Yams

extension SuiteLoader {
  /// The `http:` adapter, or its `openai:` preset (a chat-completions endpoint in three lines).
  static func httpConfig(_ node: Node, _ r: YAMLReader) -> HTTPConfig? {
    guard let f = r.mapping(node, "http", allowed: httpKeys) else { return nil }
    var config: HTTPConfig
    if let preset = f["openai"] {
      guard let p = r.mapping(preset, "openai", allowed: openAIKeys)
      else { return nil }
      guard let base = p["base_url"].flatMap({ r.string($0, "base_url") }),
        let model = p["model"].flatMap({ r.string($0, "model") })
      else {
        r.error(preset, "openai needs 'base_url' and 'model'")
        return nil
      }
      var body: [String: JSONValue] = [
        "model": .string(model),
        "messages": .array([.object(["role": .string("user"), "content": .string("{{input_text}}")])]),
        // Each trial its own seed, as agent-protocol.md promises; servers that sample honour it.
        "seed": .string("{{seed}}"),
      ]
      if let t = p["temperature"].flatMap({ r.number($0, "temperature") }) { body["temperature"] = .number(t) }
      if let m = p["max_tokens"].flatMap({ r.int($0, "max_tokens") }) { body["max_tokens"] = .number(Double(m)) }
      var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
      if let key = p["api_key"].flatMap({ r.string($0, "api_key") }), !key.isEmpty {
        headers.append(("Authorization", "Bearer \(key)"))
      }
      let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
      config = HTTPConfig(
        url: trimmed + "/chat/completions", headers: headers, body: .object(body),
        response: ResponseMapping.openAIChat,
        openAIToolCalls: true)
      for key in ["url", "body", "response"] where f[key] != nil {
        r.error(f.keyNodes[key], "'\(key)' cannot be combined with the openai preset")
      }
    } else {
      guard let urlNode = f["url"], let url = r.string(urlNode, "url") else {
        r.error(node, "http needs a 'url' (or the 'openai' preset)")
        return nil
      }
      config = HTTPConfig(url: url)
      if let m = f["method"], let method = r.string(m, "method") {
        let upper = method.uppercased()
        if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(upper) {
          config.method = upper
        } else {
          r.error(m, "method must be GET, POST, PUT, PATCH or DELETE")
        }
      }
      if let bodyNode = f["body"], let body = r.json(bodyNode, raw: false) {
        config.body = body
        for name in BodyTemplate.unknownPlaceholders(in: body) {
          var message =
            "unknown placeholder '{{\(name)}}' (known: \(BodyTemplate.names.map { "{{\($0)}}" }.joined(separator: ", ")), {{task.metadata.KEY}})"
          if let hint = suggestion(for: name, among: BodyTemplate.names) { message += "; did you mean '{{\(hint)}}'?" }
          r.error(bodyNode, message)
        }
      }
      if let resp = f["response"],
        let rf = r.mapping(resp, "response", allowed: responseKeys)
      {
        func path(_ key: String) -> JSONPath? {
          guard let n = rf[key], let text = r.string(n, key) else { return nil }
          do { return try JSONPath(text) } catch {
            r.error(n, error.description)
            return nil
          }
        }
        if let output = path("output") {
          config.response = ResponseMapping(
            output: output, inputTokens: path("input_tokens"), outputTokens: path("output_tokens"),
            costUSD: path("cost_usd"),
            steps: path("steps"))
        } else if rf["output"] == nil {
          r.error(resp, "response needs an 'output' JSONPath")
        }
      }
    }
    if let h = f["headers"], let hf = r.mapping(h, "headers", allowed: []) {
      for key in hf.order {
        guard let node = hf.values[key], let value = r.string(node, "header \(key)") else { continue }
        config.headers.removeAll { $0.name.lowercased() == key.lowercased() }
        config.headers.append((key, value))
      }
    }
    if let loop = f["tool_loop"], let lf = r.mapping(loop, "tool_loop", allowed: toolLoopKeys) {
      if f["openai"] == nil {
        r.error(loop, "tool_loop works with the openai preset (it speaks chat completions with tools)")
      }
      config.toolLoop = ToolLoop(maxTurns: lf["max_turns"].flatMap { r.int($0, "max_turns") } ?? 10)
    }
    config.retries = f["retries"].flatMap { r.int($0, "retries", min: 0) } ?? config.retries
    config.maxConnections = f["max_connections"].flatMap { r.int($0, "max_connections") } ?? config.maxConnections
    config.maxOutput = f["max_output"].flatMap { r.int($0, "max_output") } ?? config.maxOutput
    if let u = URL(string: config.url), let scheme = u.scheme, ["http", "https"].contains(scheme.lowercased()),
      u.host != nil
    {
      return config
    }
    r.error(f["url"] ?? f["openai"] ?? node, "'\(config.url)' is not an http(s) URL")
    return nil
  }
}
