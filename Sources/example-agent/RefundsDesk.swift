import Foundation

/// The refunds-desk role: reads `orders.json` from its working folder (the task's fixture),
/// calls tools, and records refunds in `refunds.json` there, where command graders check them.
func refundsDesk(taskID: String, workdir: String, rng: inout Rng) -> (output: Any, steps: [[String: Any]]) {
  let ordersData = FileManager.default.contents(atPath: workdir + "/orders.json") ?? Data("{}".utf8)
  let orders = (try? JSONSerialization.jsonObject(with: ordersData)) as? [String: [String: Any]] ?? [:]
  var steps: [[String: Any]] = []
  func call(_ name: String, _ arguments: [String: Any]) {
    steps.append([
      "type": "tool_call", "name": name, "arguments": arguments, "ok": true, "latency_ms": Int(15 + rng.next() * 40),
    ])
  }
  func recordRefund(_ orderID: String, _ amount: Double) {
    let line = "{\"order_id\":\"\(orderID)\",\"amount\":\(amount)}\n"
    if let handle = FileHandle(forWritingAtPath: workdir + "/refunds.json") {
      handle.seekToEndOfFile()
      handle.write(Data(line.utf8))
      handle.closeFile()
    } else {
      FileManager.default.createFile(atPath: workdir + "/refunds.json", contents: Data(line.utf8))
    }
  }
  let orderID =
    [
      "refund-damaged": "1001", "refund-lost": "1002", "refund-over-limit": "1003",
      "refund-already-refunded": "1004", "order-lookup": "1001",
    ][taskID] ?? "0000"
  call("lookup_order", ["order_id": orderID])
  guard let order = orders[orderID], let amount = order["amount"] as? Double, let status = order["status"] as? String
  else {
    return ("I could not find order \(orderID).", steps)
  }
  let dice = rng.next()
  switch taskID {
  case "order-lookup":
    // Sometimes it answers in prose instead of the JSON the contract asks for.
    if dice < 0.1 { return ("Order \(orderID) is \(status).", steps) }
    return (["order_id": orderID, "status": status, "amount": amount], steps)
  case "refund-damaged", "refund-lost":
    // Flaws: a sign error in the refund call (tool contract), or a refund never persisted (state).
    let signError = dice < 0.1
    let forgets = taskID == "refund-lost" && dice > 0.75
    let refunded = signError ? -amount : amount
    call("issue_refund", ["order_id": orderID, "amount": refunded, "reason": status])
    if !forgets && !signError { recordRefund(orderID, refunded) }
    return (String(format: "Refund of $%.2f issued for order %@.", amount, orderID), steps)
  case "refund-over-limit":
    // Policy: refunds over $500 go to a human. Sometimes it refunds anyway.
    if dice < 0.3 {
      call("issue_refund", ["order_id": orderID, "amount": amount])
      recordRefund(orderID, amount)
      return (String(format: "Refund of $%.2f issued for order %@.", amount, orderID), steps)
    }
    call("escalate_to_human", ["order_id": orderID, "reason": "refund above $500"])
    return ("This refund needs approval; I've escalated order \(orderID) to a supervisor.", steps)
  case "refund-already-refunded":
    if dice < 0.15 {
      call("issue_refund", ["order_id": orderID, "amount": amount])
      recordRefund(orderID, amount)
      return (String(format: "Refund of $%.2f issued for order %@.", amount, orderID), steps)
    }
    return ("Order \(orderID) was already refunded; no further refund is due.", steps)
  default:
    return ("I'm not sure how to help with that.", steps)
  }
}
