import Foundation

/// Model `desk-tools` of `example-agent serve`: a chat-completions model that calls tools, for
/// evalh's tool loop with no model server. It reads the conversation so far and either asks for
/// the next tool call or answers; the seed decides its one slip (a refund amount sent as text).
func toolModelMessage(_ messages: [[String: Any]], rng: inout Rng) -> [String: Any] {
  let user = messages.first { $0["role"] as? String == "user" }?["content"] as? String ?? ""
  let orderID = user.range(of: "A[0-9]{3}", options: .regularExpression).map { String(user[$0]) } ?? "A000"
  // What the tools said so far, by the tool asked for.
  var asked: [String] = []
  for message in messages where message["role"] as? String == "assistant" {
    for call in message["tool_calls"] as? [[String: Any]] ?? [] {
      asked.append((call["function"] as? [String: Any])?["name"] as? String ?? "")
    }
  }
  let results = messages.filter { $0["role"] as? String == "tool" }.map { text(of: $0["content"]) }
  let answers = zip(asked, results).map { (tool: $0, content: $1) }
  func last(_ tool: String) -> [String: Any]? {
    answers.last { $0.tool == tool }.flatMap { JSONSerialization.object(Array($0.content.utf8)) }
  }
  func call(_ name: String, _ arguments: [String: Any]) -> [String: Any] {
    [
      "role": "assistant", "content": NSNull(),
      "tool_calls": [
        [
          "id": "call_\(asked.count + 1)", "type": "function",
          "function": ["name": name, "arguments": JSONSerialization.text(arguments)],
        ]
      ],
    ]
  }
  func answer(_ text: String) -> [String: Any] { ["role": "assistant", "content": text] }

  guard let order = last("lookup_order") else { return call("lookup_order", ["order_id": orderID]) }
  let total = order["total"] as? Double ?? 0
  let lower = user.lowercased()
  guard lower.contains("refund") || lower.contains("money back") else {
    return answer(JSONSerialization.text(["order_id": orderID, "status": order["status"] ?? "unknown"]))
  }
  if (order["days_since_delivery"] as? Double ?? 0) > 30 {
    guard let policy = last("refund_policy") else {
      return call("refund_policy", ["order_id": orderID, "days_since_delivery": order["days_since_delivery"] ?? 0])
    }
    if policy["eligible"] as? Bool != true {
      return answer("Order \(orderID) is past the 30-day refund window, so I cannot refund it.")
    }
  }
  // A refund went through when its result is the refund, not an error message.
  let refunded = answers.contains { $0.tool == "issue_refund" && $0.content.contains("refund_id") }
  if refunded { return answer(JSONSerialization.text(["order_id": orderID, "refunded": total])) }
  let firstTry = !asked.contains("issue_refund")
  if firstTry, rng.next() < 0.3 {
    return call("issue_refund", ["order_id": orderID, "amount": String(total)])  // the slip: text, not a number
  }
  return call("issue_refund", ["order_id": orderID, "amount": total])
}

/// A message's content as text: a string, or the text parts of a list of parts (LangChain sends those).
func text(of content: Any?) -> String {
  if let s = content as? String { return s }
  let parts = content as? [[String: Any]] ?? []
  return parts.compactMap { $0["text"] as? String }.joined()
}
