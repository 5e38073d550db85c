import Foundation
import MCP

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The order-desk role: reaches the tools evalh serves over MCP (`EVALH_MCP_URL`, the Swift SDK's
/// client) and handles refunds. The seed decides its slips, as a hasty agent makes them: a refund
/// sent with the amount as text (rejected by the tool's schema, then retried), a refund sent
/// twice, a notification it says it sent but never did, a call to a tool that does not exist,
/// and a refund the policy forbids.
func orderDesk(taskID: String, careful: Bool, rng: inout Rng) async throws -> [String: Any] {
  guard let address = ProcessInfo.processInfo.environment["EVALH_MCP_URL"], let url = URL(string: address) else {
    return ["error": "EVALH_MCP_URL is not set: this role needs the tools evalh serves"]
  }
  let client = Client(name: "example-agent", version: "1")
  _ = try await client.connect(transport: HTTPClientTransport(endpoint: url, streaming: false))
  defer { Task { await client.disconnect() } }
  let available = Set(try await client.listTools().tools.map(\.name))
  var steps: [[String: Any]] = []
  let slip = careful ? 0.3 : 1.0

  /// Calls a tool and reports it as a step; returns the result's JSON (or text) and whether it failed.
  func call(_ name: String, _ arguments: [String: Value]) async throws -> (Any, Bool) {
    let (content, isError) = try await client.callTool(name: name, arguments: arguments)
    var text = ""
    for case .text(let t, _, _) in content { text += t }
    let value = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    steps.append(["type": "tool_call", "name": name, "arguments": arguments.mapValues(plain)])
    return (value, isError ?? false)
  }

  let orderID = ["refund-damaged": "A100", "order-status": "A200", "refund-too-late": "A300"][taskID] ?? "A000"
  let (order, _) = try await call("lookup_order", ["order_id": .string(orderID)])
  let total = ((order as? [String: Any])?["total"] as? Double) ?? 0
  let status = ((order as? [String: Any])?["status"] as? String) ?? "unknown"
  switch taskID {
  case "order-status":
    if rng.next() < 0.2 * slip, !available.contains("track_package") {
      // Not one of the tools: MCP answers a JSON-RPC error, and the agent carries on without it.
      _ = try? await call("track_package", ["order_id": .string(orderID)])
      steps.append(["type": "tool_call", "name": "track_package", "arguments": ["order_id": orderID]])
    }
    return ["output": ["order_id": orderID, "status": status], "steps": steps]
  case "refund-too-late":
    let (policy, _) = try await call("refund_policy", ["order_id": .string(orderID), "days_since_delivery": 60])
    let allowed = ((policy as? [String: Any])?["eligible"] as? Bool) ?? false
    if allowed || rng.next() < 0.2 * slip {
      _ = try await call("issue_refund", ["order_id": .string(orderID), "amount": .double(total)])
      return ["output": "I refunded order \(orderID).", "steps": steps]
    }
    return ["output": "Order \(orderID) is past the 30-day refund window, so I cannot refund it.", "steps": steps]
  default:
    if rng.next() < 0.25 * slip {
      // The amount as text: the schema says number, the call is refused, the agent retries.
      _ = try await call("issue_refund", ["order_id": .string(orderID), "amount": .string(String(total))])
    }
    _ = try await call("issue_refund", ["order_id": .string(orderID), "amount": .double(total)])
    if rng.next() < 0.15 * slip {
      // No answer seen in time, so it refunds again: a write done twice.
      _ = try await call("issue_refund", ["order_id": .string(orderID), "amount": .double(total)])
    }
    if rng.next() < 0.2 * slip {
      // It says it told the customer; it never called the tool.
      steps.append([
        "type": "tool_call", "name": "notify_customer",
        "arguments": ["order_id": orderID, "message": "Your refund is on its way."],
      ])
    }
    return ["output": ["order_id": orderID, "refunded": total], "steps": steps]
  }
}

/// A JSON value of the SDK as Foundation's, for the reported steps.
func plain(_ value: Value) -> Any {
  switch value {
  case .null: NSNull()
  case .bool(let b): b
  case .int(let i): i
  case .double(let d): d
  case .string(let s): s
  case .data(_, let d): d.base64EncodedString()
  case .array(let items): items.map(plain)
  case .object(let members): members.mapValues(plain)
  }
}

/// `--role desk-tools`: the suite's `run` handler for the order desk. Reads one call on stdin,
/// reads and rewrites the trial's state file, prints `{"result": ...}` or `{"error": ...}`.
func deskTools() -> Never {
  let input = FileHandle.standardInput.readDataToEndOfFile()
  guard let call = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any],
    let tool = call["tool"] as? String, let arguments = call["arguments"] as? [String: Any],
    let statePath = call["state"] as? String,
    var state = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))))
      as? [String: Any]
  else {
    print(#"{"error": "expected a call with a state file"}"#)
    exit(0)
  }
  var orders = state["orders"] as? [String: [String: Any]] ?? [:]
  var refunds = state["refunds"] as? [[String: Any]] ?? []
  let orderID = arguments["order_id"] as? String ?? ""
  let reply: [String: Any]
  switch tool {
  case "issue_refund":
    guard var order = orders[orderID] else {
      print(JSONSerialization.text(["error": "no order \(orderID)"]))
      exit(0)
    }
    let amount = arguments["amount"] as? Double ?? 0
    order["refunded"] = (order["refunded"] as? Double ?? 0) + amount
    orders[orderID] = order
    refunds.append(["order_id": orderID, "amount": amount])
    state["orders"] = orders
    state["refunds"] = refunds
    let data = (try? JSONSerialization.data(withJSONObject: state, options: [.sortedKeys])) ?? Data()
    try? data.write(to: URL(fileURLWithPath: statePath), options: .atomic)
    reply = ["result": ["refund_id": "R\(refunds.count)", "order_id": orderID, "amount": amount]]
  case "refunds_for":
    let mine = refunds.filter { $0["order_id"] as? String == orderID }
    reply = ["result": ["order_id": orderID, "count": mine.count, "refunds": mine]]
  default:
    reply = ["error": "desk-tools does not handle \(tool)"]
  }
  print(JSONSerialization.text(reply))
  exit(0)
}
