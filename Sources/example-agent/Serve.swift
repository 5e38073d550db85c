import Foundation
import LoopbackHTTP
import NIOCore

/// `example-agent serve [--port N]`: the support bot behind HTTP, for trying the HTTP adapter
/// without a model server.
///
/// - `POST /v1/chat/completions`: an OpenAI-compatible stand-in. Models `support-small` and
///   `support-large` answer like the subprocess bot (same scenarios, the request's `seed` picks
///   the dice) and report the tools they "called" as `tool_calls`; model `judge` scores an
///   evalh judge request: the share of the rubric's "quoted terms" the output mentions; model
///   `desk-tools` calls the order desk's tools turn by turn (evalh's tool loop).
/// - `POST /evalh`: the evalh/1 protocol, answered at once (the benchmarks' instant agent).
func serve(arguments: [String]) async throws -> Never {
  let port = arguments.firstIndex(of: "--port").flatMap { Int(arguments[$0 + 1]) } ?? 8080
  let server = try await LoopbackServer(port: port, keepRequests: false) { request in
    guard request.method == "POST", let body = JSONSerialization.object(request.body) else {
      return .json(#"{"error":{"message":"POST a JSON body"}}"#, status: 400)
    }
    if request.uri.hasSuffix("/chat/completions") { return chatCompletion(body) }
    if request.uri.hasPrefix("/evalh") { return .json(instantEnvelope(body)) }
    return .json(#"{"error":{"message":"no such route"}}"#, status: 404)
  }
  FileHandle.standardOutput.write(
    Data("example-agent: serving on \(server.baseURL) (POST /v1/chat/completions, POST /evalh)\n".utf8))
  while true { try await Task.sleep(for: .seconds(3600)) }
}

extension JSONSerialization {
  static func object(_ bytes: [UInt8]) -> [String: Any]? {
    (try? jsonObject(with: Data(bytes))) as? [String: Any]
  }
  static func text(_ object: Any) -> String {
    String(decoding: (try? data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
  }
}

/// Which scenario a free-text question is about.
let keywords: [(String, String)] = [
  ("password", "reset-password"), ("refund", "refund-status"), ("loyalty", "loyalty-points"),
  ("points", "loyalty-points"), ("cancel", "cancel-subscription"), ("human", "escalate-to-human"),
  ("address", "address-change"), ("warranty", "warranty-claim"), ("damaged", "delivery-damage"),
  ("charged twice", "billing-dispute"), ("charger", "product-compatibility"), ("gift card", "gift-card-balance"),
  ("invoice", "invoice-copy"), ("return", "refund-policy"), ("open", "store-hours"), ("order", "order-status"),
]

func chatCompletion(_ body: [String: Any]) -> LoopbackServer.Reply {
  let model = body["model"] as? String ?? "support-small"
  let messages = body["messages"] as? [[String: Any]] ?? []
  let content = messages.last?["content"] as? String ?? ""
  var rng = Rng(state: ((body["seed"] as? NSNumber)?.uint64Value ?? 0) ^ 0xA5A5_5A5A_1234_5678)
  var message: [String: Any] = ["role": "assistant"]
  if model.hasPrefix("judge") {
    message["content"] = JSONSerialization.text(judge(content))
  } else if model == "desk-tools" {
    message = toolModelMessage(messages, rng: &rng)
  } else {
    let lower = content.lowercased()
    let id = keywords.first { lower.contains($0.0) }?.1
    let scenario =
      id.flatMap { scenarios[$0] } ?? Scenario(failure: 0, answer: "I'm not sure I can help with that.", wrong: "")
    let scale = model.hasSuffix("large") ? 0.4 : 1.0
    message["content"] = rng.next() < scenario.failure * scale ? scenario.wrong : scenario.answer
    if !scenario.tools.isEmpty {
      message["tool_calls"] = scenario.tools.enumerated().map { i, tool in
        [
          "id": "call_\(i + 1)", "type": "function",
          "function": ["name": tool.0, "arguments": JSONSerialization.text(tool.1)],
        ]
      }
    }
  }
  let answer = message["content"] as? String ?? ""
  let completion: [String: Any] = [
    "id": "chatcmpl-example", "object": "chat.completion", "model": model,
    "choices": [["index": 0, "message": message, "finish_reason": "stop"]],
    "usage": [
      "prompt_tokens": 12 + content.utf8.count / 4, "completion_tokens": 4 + answer.utf8.count / 4,
      "total_tokens": 16 + (content.utf8.count + answer.utf8.count) / 4,
    ],
  ]
  // A model takes a moment: 5 to 30 ms, from the seed.
  return .delayed(.milliseconds(Int64(5 + rng.next() * 25)), .json(JSONSerialization.text(completion)))
}

/// Scores `{rubric, task_input, output}`: the share of the rubric's "quoted terms" found in the output.
func judge(_ content: String) -> [String: Any] {
  guard let request = JSONSerialization.object(Array(content.utf8)), let rubric = request["rubric"] as? String else {
    return ["score": 0, "reason": "no judge request in the message"]
  }
  let output = (request["output"] as? String) ?? JSONSerialization.text(request["output"] ?? NSNull())
  let terms = rubric.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
    .filter { $0.offset % 2 == 1 }.map { String($0.element) }
  guard !terms.isEmpty else { return ["score": 1, "reason": "the rubric names no quoted terms"] }
  let found = terms.filter { output.range(of: $0, options: .caseInsensitive) != nil }
  let missing = terms.filter { !found.contains($0) }
  let score = Double(found.count) / Double(terms.count)
  return [
    "score": score, "reason": missing.isEmpty ? "mentions every term" : "misses \(missing.joined(separator: ", "))",
  ]
}

/// The evalh/1 envelope for a request, with no delay: the support bot's reliable answer.
func instantEnvelope(_ request: [String: Any]) -> String {
  let task = request["task"] as? [String: Any]
  let id = task?["id"] as? String ?? ""
  let answer = scenarios[id]?.answer ?? "ok"
  return JSONSerialization.text(["output": answer, "usage": ["input_tokens": 40, "output_tokens": 12]])
}
