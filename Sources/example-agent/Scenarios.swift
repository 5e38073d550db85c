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

// Constant after start-up; `Any` in the tool arguments keeps the compiler from proving it.
nonisolated(unsafe) let scenarios: [String: Scenario] = [
  "order-status": Scenario(
    failure: 0.0, answer: "Order #1234 shipped on 2026-11-18 with UPS, tracking 1Z999AA10123456784.",
    wrong: "Order #1234 is being prepared.", tools: [("lookup_order", ["order_id": "1234"])]),
  "store-hours": Scenario(
    failure: 0.0, answer: "Our stores are open Monday to Saturday, 9:00 to 18:00.", wrong: "We are open daily."),
  "reset-password": Scenario(
    failure: 0.02, answer: "I've sent a password reset link to the e-mail address on file. It expires in 30 minutes.",
    wrong: "Please call support to reset your password.", tools: [("send_reset_link", ["account": "c-77"])]),
  "refund-status": Scenario(
    failure: 0.04,
    answer: "The refund for order #5521 was approved on 2026-11-02 and will reach your card in 3-5 days.",
    wrong: "The refund for order #5521 is still under review.", tools: [("lookup_refund", ["order_id": "5521"])]),
  "loyalty-points": Scenario(
    failure: 0.06, answer: #"{"customer":"c-77","points":1240,"tier":"gold"}"#,
    wrong: #"{"customer":"c-77","points":"unknown"}"#, tools: [("loyalty_balance", ["customer": "c-77"])]),
  "cancel-subscription": Scenario(
    failure: 0.10,
    answer: "Your subscription is cancelled; it stays active until 2026-12-01 and you will not be charged again.",
    wrong: "Your subscription is cancelled.", tools: [("cancel_subscription", ["plan": "premium"])]),
  "escalate-to-human": Scenario(
    failure: 0.10, answer: "I'm transferring you to a human agent now; expected wait is 4 minutes.",
    wrong: "I can help you with that myself. What seems to be the problem?"),
  "address-change": Scenario(
    failure: 0.15, answer: #"{"action":"update_address","order":"7781","status":"pending_confirmation"}"#,
    wrong: #"{"action":"lookup_order","order":"7781"}"#, tools: [("update_address", ["order_id": "7781"])]),
  "warranty-claim": Scenario(
    failure: 0.25,
    answer: "Warranty claim WC-20931 is open for your blender; a courier will collect it within 2 business days.",
    wrong: "Your blender is out of warranty.", tools: [("open_claim", ["product": "blender"])]),
  "delivery-damage": Scenario(
    failure: 0.20,
    answer: "Sorry about the damaged parcel. I've opened a replacement ticket; a new one ships tomorrow.",
    wrong: "Sorry about the damaged parcel. Please send us photos.", tools: [("open_ticket", ["reason": "damage"])]),
  "billing-dispute": Scenario(
    failure: 0.40,
    answer: "I've escalated the double charge to billing as ticket BD-4471; you'll hear back within 48 hours.",
    wrong: "I can see the charge on your statement; it looks correct.",
    tools: [("lookup_invoice", ["month": "2026-10"])]),
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
