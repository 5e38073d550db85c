import Foundation
import MCP
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// How an order-desk model meets a failed tool call (a 503, a 429, a timeout, a dropped connection).
enum Recovery {
  /// Apologises to the customer and stops: the task is not done.
  case givesUp
  /// Waits (the Retry-After, or a doubling backoff) and tries again; before repeating a write whose
  /// outcome it never saw, it asks `refunds_for` whether the write happened.
  case backsOff
  /// Tries again at once, up to three times, writes included: a lost response means a second refund.
  case retriesBlindly
}

/// A failed call the model would not (or could no longer) recover from.
struct GaveUp: Error {
  let tool: String
}

/// The order-desk role: reaches the tools evalh serves over MCP (`EVALH_MCP_URL`, the Swift SDK's
/// client) and handles refunds. The seed decides its slips, as a hasty agent makes them: a refund
/// sent with the amount as text (rejected by the tool's schema, then retried), a refund sent
/// twice, a notification it says it sent but never did, a call to a tool that does not exist,
/// and a refund the policy forbids. `recovery` decides what it does when a tool fails.
func orderDesk(input: String, careful: Bool, recovery: Recovery, rng: inout Rng) async throws -> [String: Any] {
  guard let address = ProcessInfo.processInfo.environment["EVALH_MCP_URL"], let url = URL(string: address) else {
    return ["error": "EVALH_MCP_URL is not set: this role needs the tools evalh serves"]
  }
  let client = Client(name: "example-agent", version: "1")
  _ = try await client.connect(transport: HTTPClientTransport(endpoint: url, streaming: false))
  defer { Task { await client.disconnect() } }
  let available = Set(try await client.listTools().tools.map(\.name))
  var steps: [[String: Any]] = []
  let slip = careful ? 0.3 : 1.0

  /// Calls a tool once and reports it as a step; returns the result's JSON (or text) and whether it
  /// failed. A JSON-RPC error or a dropped connection throws.
  func once(_ name: String, _ arguments: [String: Value]) async throws -> (Any, Bool) {
    steps.append(["type": "tool_call", "name": name, "arguments": arguments.mapValues(plain)])
    // A production agent bounds each call: a dropped connection is not always reported to the client.
    let (content, isError) = try await withDeadline(seconds: 3) {
      try await client.callTool(name: name, arguments: arguments)
    }
    var text = ""
    for case .text(let t, _, _) in content { text += t }
    let value = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    return (value, isError ?? false)
  }

  /// Whether a refund of `order` is on record (what a careful model checks before repeating one).
  func refunded(_ order: String) async -> Bool {
    guard let (value, isError) = try? await once("refunds_for", ["order_id": .string(order)]), !isError else {
      return false
    }
    return ((value as? [String: Any])?["count"] as? Int ?? 0) > 0
  }

  /// A call as the model's recovery makes it: an error result of the tool's own (no such order, a
  /// schema refusal) is returned; an outage, a rate limit, a timeout or a lost connection is retried
  /// or given up on.
  func call(_ name: String, _ arguments: [String: Value]) async throws -> (Any, Bool) {
    var attempt = 0
    while true {
      attempt += 1
      var retryAfter: Double?
      var outcomeUnknown = false
      do {
        let (value, isError) = try await once(name, arguments)
        let text = value as? String ?? ""
        guard isError, text.hasPrefix("503") || text.hasPrefix("429") else { return (value, isError) }
        if let range = text.range(of: "retry after ") {
          retryAfter = parseSeconds(String(text[range.upperBound...]))
        }
      } catch {
        // No answer: a timeout or a dropped connection. A write may or may not have happened.
        outcomeUnknown = true
      }
      switch recovery {
      case .givesUp:
        throw GaveUp(tool: name)
      case .retriesBlindly:
        if attempt >= 4 { throw GaveUp(tool: name) }
      case .backsOff:
        if attempt >= 5 { throw GaveUp(tool: name) }
        try await Task.sleep(for: .seconds(retryAfter ?? 0.05 * Double(1 << attempt)))
        if outcomeUnknown, name == "issue_refund", case .string(let order)? = arguments["order_id"],
          await refunded(order)
        {
          return (["order_id": order, "refunded": true], false)
        }
      }
    }
  }

  do {
    // What the customer asks, read from the message: a misspelt keyword stops a literal reader.
    guard let (request, orderID) = read(input, fuzzy: careful) else {
      return ["output": "Sorry, I did not understand. Which order, and what should I do with it?", "steps": steps]
    }
    let (order, _) = try await call("lookup_order", ["order_id": .string(orderID)])
    let total = ((order as? [String: Any])?["total"] as? Double) ?? 0
    let status = ((order as? [String: Any])?["status"] as? String) ?? "unknown"
    switch request {
    case "order-status":
      if rng.next() < 0.2 * slip, !available.contains("track_package") {
        // Not one of the tools: MCP answers a JSON-RPC error, and the agent carries on without it.
        _ = try? await once("track_package", ["order_id": .string(orderID)])
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
  } catch let gaveUp as GaveUp {
    return [
      "output": "Sorry, our order system is not answering (\(gaveUp.tool) failed). Please try again later.",
      "steps": steps,
    ]
  }
}

/// The request a message makes (`order-status`, `refund-damaged`, `refund-too-late`) and its order
/// id; nil when the message cannot be read. A fuzzy reader takes a keyword one typo away.
func read(_ message: String, fuzzy: Bool) -> (String, String)? {
  let words = message.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
  func mentions(_ keyword: String) -> Bool {
    words.contains { $0 == keyword || (fuzzy && editDistance($0, keyword) <= 1) }
  }
  guard let id = words.first(where: { $0.count == 4 && $0.first == "a" && $0.dropFirst().allSatisfy(\.isNumber) })
  else { return nil }
  let order = id.uppercased()
  if mentions("where") { return ("order-status", order) }
  if mentions("damaged") { return ("refund-damaged", order) }
  if mentions("money") { return ("refund-too-late", order) }
  return nil
}

/// Levenshtein distance.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  var row = Array(0...b.count)
  for i in 1...max(1, a.count) where !a.isEmpty {
    var previous = row[0]
    row[0] = i
    for j in 1...max(1, b.count) where !b.isEmpty {
      let saved = row[j]
      row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
      previous = saved
    }
  }
  return row[b.count]
}

/// No answer in time from a tool call.
struct CallTimedOut: Error {}

/// `operation`'s value, or `CallTimedOut` after `seconds`, whichever comes first; the operation is
/// left behind (a client waiting on a lost connection does not heed cancellation).
func withDeadline<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T
{
  try await withCheckedThrowingContinuation { continuation in
    let first = FirstOf(continuation)
    Task {
      do { first.finish(.success(try await operation())) } catch { first.finish(.failure(error)) }
    }
    Task {
      try? await Task.sleep(for: .seconds(seconds))
      first.finish(.failure(CallTimedOut()))
    }
  }
}

/// A continuation resumed by whichever result comes first.
final class FirstOf<T: Sendable>: Sendable {
  private let waiting: Mutex<CheckedContinuation<T, any Error>?>
  init(_ continuation: CheckedContinuation<T, any Error>) { waiting = Mutex(continuation) }
  func finish(_ result: Result<T, any Error>) {
    waiting.withLock { waiting in
      waiting?.resume(with: result)
      waiting = nil
    }
  }
}

/// `250ms`, `2s` as seconds.
func parseSeconds(_ text: String) -> Double? {
  let t = text.trimmingCharacters(in: .whitespaces)
  func number(_ s: Substring) -> Double? { Double(s.trimmingCharacters(in: .whitespaces)) }
  if t.hasSuffix("ms") { return number(t.dropLast(2)).map { $0 / 1000 } }
  if t.hasSuffix("s") { return number(t.dropLast()) }
  return Double(t)
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
