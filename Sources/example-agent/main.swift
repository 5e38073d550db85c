// The example agent bundled with evalh: a simulated customer-support bot that speaks evalh/1.
// Every decision comes from the trial seed, so a run with the same --seed repeats exactly.
// Most tasks are reliable; some are flaky at different rates; one leaks an e-mail address,
// one crashes now and then, one is slow and sometimes hangs past its timeout.
import Foundation

struct Rng {
  var state: UInt64
  mutating func next() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
  }
}

/// One scripted scenario: the good answer, a plausible wrong one, and how often it goes wrong.
struct Scenario {
  var failure: Double
  var answer: String
  var wrong: String
  var tools: [(String, [String: Any])] = []
}

let scenarios: [String: Scenario] = [
  "order-status": Scenario(
    failure: 0.0, answer: "Order #1234 shipped on 2026-11-18 with UPS, tracking 1Z999AA10123456784.",
    wrong: "Order #1234 is being prepared.", tools: [("lookup_order", ["order_id": "1234"])]),
  "store-hours": Scenario(
    failure: 0.0, answer: "Our stores are open Monday to Saturday, 9:00 to 18:00.", wrong: "We are open daily."),
  "reset-password": Scenario(
    failure: 0.02, answer: "I've sent a password reset link to the e-mail address on file. It expires in 30 minutes.",
    wrong: "Please call support to reset your password.", tools: [("send_reset_link", ["account": "c-77"])]),
  "refund-status": Scenario(
    failure: 0.04, answer: "The refund for order #5521 was approved on 2026-11-02 and will reach your card in 3-5 days.",
    wrong: "The refund for order #5521 is still under review.", tools: [("lookup_refund", ["order_id": "5521"])]),
  "loyalty-points": Scenario(
    failure: 0.06, answer: #"{"customer":"c-77","points":1240,"tier":"gold"}"#,
    wrong: #"{"customer":"c-77","points":"unknown"}"#, tools: [("loyalty_balance", ["customer": "c-77"])]),
  "cancel-subscription": Scenario(
    failure: 0.10, answer: "Your subscription is cancelled; it stays active until 2026-12-01 and you will not be charged again.",
    wrong: "Your subscription is cancelled.", tools: [("cancel_subscription", ["plan": "premium"])]),
  "escalate-to-human": Scenario(
    failure: 0.10, answer: "I'm transferring you to a human agent now; expected wait is 4 minutes.",
    wrong: "I can help you with that myself. What seems to be the problem?"),
  "address-change": Scenario(
    failure: 0.15, answer: #"{"action":"update_address","order":"7781","status":"pending_confirmation"}"#,
    wrong: #"{"action":"lookup_order","order":"7781"}"#, tools: [("update_address", ["order_id": "7781"])]),
  "warranty-claim": Scenario(
    failure: 0.25, answer: "Warranty claim WC-20931 is open for your blender; a courier will collect it within 2 business days.",
    wrong: "Your blender is out of warranty.", tools: [("open_claim", ["product": "blender"])]),
  "delivery-damage": Scenario(
    failure: 0.20, answer: "Sorry about the damaged parcel. I've opened a replacement ticket; a new one ships tomorrow.",
    wrong: "Sorry about the damaged parcel. Please send us photos.", tools: [("open_ticket", ["reason": "damage"])]),
  "billing-dispute": Scenario(
    failure: 0.40, answer: "I've escalated the double charge to billing as ticket BD-4471; you'll hear back within 48 hours.",
    wrong: "I can see the charge on your statement; it looks correct.", tools: [("lookup_invoice", ["month": "2026-10"])]),
  "product-compatibility": Scenario(
    failure: 0.50, answer: "No: the X200 charger is not compatible with the Z9; you need the X300 (USB-C PD, 65 W).",
    wrong: "Yes, the X200 charger works with the Z9."),
  "gift-card-balance": Scenario(
    failure: 0.70, answer: "Gift card ending 8812 has a balance of $37.50.",
    wrong: "I couldn't find that gift card.", tools: [("gift_card_balance", ["last4": "8812"])]),
  "account-email-lookup": Scenario(
    failure: 0.0, answer: "I found your account; a confirmation has been sent to the address we have on file.",
    wrong: "", tools: [("lookup_account", ["customer": "c-77"])]),
  "invoice-copy": Scenario(
    failure: 0.0, answer: "A copy of invoice INV-2026-1107 has been sent to you.", wrong: "",
    tools: [("send_invoice", ["invoice": "INV-2026-1107"])]),
  "refund-policy": Scenario(
    failure: 0.0, answer: "You can return items within 30 days for a full refund; sale items within 14 days.",
    wrong: "All sales are final."),
]

let data = FileHandle.standardInput.readDataToEndOfFile()
guard let request = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
  let task = request["task"] as? [String: Any], let taskID = task["id"] as? String
else {
  FileHandle.standardError.write(Data("example-agent: expected an evalh/1 request on stdin\n".utf8))
  exit(2)
}
let seed = (request["seed"] as? NSNumber)?.uint64Value ?? 0
let model = CommandLine.arguments.contains("large") ? "large" : "small"
// The large model fails less often: the same dice, a lower bar.
let failureScale = model == "large" ? 0.4 : 1.0
var rng = Rng(state: seed ^ 0xA5A5_5A5A_1234_5678)
let input = (task["input"] as? String) ?? ""
if CommandLine.arguments.contains("refunds-desk") {
  let workdir = (request["workdir"] as? String) ?? "."
  Thread.sleep(forTimeInterval: 0.02 + rng.next() * 0.08)
  let (output, steps) = refundsDesk(taskID: taskID, workdir: workdir, rng: &rng)
  let envelope: [String: Any] = [
    "output": output, "steps": steps,
    "usage": ["input_tokens": 600 + Int(rng.next() * 300), "output_tokens": 40 + Int(rng.next() * 60)],
  ]
  let encoded = (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])) ?? Data("{}".utf8)
  FileHandle.standardOutput.write(encoded + Data("\n".utf8))
  exit(0)
}
let scenario = scenarios[taskID] ?? Scenario(failure: 0.5, answer: "I'm not sure.", wrong: "I'm not sure.")
FileHandle.standardError.write(Data("[\(model)] task \(taskID) seed \(seed)\n".utf8))

var delay = 0.03 + rng.next() * 0.15
var output = rng.next() < scenario.failure * failureScale ? scenario.wrong : scenario.answer
switch taskID {
case "account-email-lookup" where rng.next() < 0.25 * failureScale:
  output = "I found your account: it is registered to jane.doe@example.com, and a confirmation has been sent there."
case "invoice-copy" where rng.next() < 0.15 * failureScale:
  FileHandle.standardError.write(Data("Traceback (most recent call last):\n  KeyError: 'invoice_id'\n".utf8))
  exit(1)
case "refund-policy":
  delay = 0.4 + rng.next() * 0.8
  if rng.next() < 0.2 * failureScale { delay = 30 }  // hangs: the 2 s timeout ends it
case "delivery-damage" where output == scenario.answer:
  // State for the command grader: the ticket the agent "filed".
  if let workdir = request["workdir"] as? String {
    try? #"{"reason":"damage","replacement":true}"#.write(toFile: workdir + "/ticket.json", atomically: true, encoding: .utf8)
  }
default:
  break
}
Thread.sleep(forTimeInterval: delay)

let inputTokens = 420 + input.utf8.count / 4 + Int(rng.next() * 200)
let outputTokens = 20 + output.utf8.count / 4 + Int(rng.next() * 40)
let steps: [[String: Any]] = scenario.tools.map { name, arguments in
  ["type": "tool_call", "name": name, "arguments": arguments, "ok": true, "latency_ms": Int(20 + rng.next() * 60)]
}
let outputValue: Any = output.hasPrefix("{") ? ((try? JSONSerialization.jsonObject(with: Data(output.utf8))) ?? output) : output
let envelope: [String: Any] = [
  "output": outputValue,
  "usage": ["input_tokens": inputTokens, "output_tokens": outputTokens, "model": "support-\(model)"],
  "steps": steps,
]
let encoded = (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])) ?? Data("{}".utf8)
FileHandle.standardOutput.write(encoded)
FileHandle.standardOutput.write(Data("\n".utf8))
