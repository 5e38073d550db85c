// The example agent bundled with evalh: a simulated customer-support bot that speaks evalh/1.
// Every decision comes from the trial seed, so a run with the same --seed repeats exactly.
// Most tasks are reliable; some are flaky at different rates; one leaks an e-mail address,
// one crashes now and then, one is slow and sometimes hangs past its timeout.
import Foundation

if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
  print(
    """
    example-agent: the bundled, deterministic agent evalh's examples run.
      example-agent [--role refunds-desk|order-desk [careful|blind]|desk-tools] [large]   an evalh/1 agent (request on stdin)
      example-agent serve [--port N]   the same bot behind HTTP: POST /v1/chat/completions, POST /evalh
    """)
  exit(0)
}
if CommandLine.arguments.dropFirst().first == "serve" {
  Task {
    do {
      try await serve(arguments: CommandLine.arguments)
    } catch {
      FileHandle.standardError.write(Data("example-agent: cannot serve: \(error)\n".utf8))
      exit(1)
    }
  }
  dispatchMain()
}

if CommandLine.arguments.contains("desk-tools") { deskTools() }

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
if CommandLine.arguments.contains("order-desk") {
  // `careful` backs off and checks before repeating a write; `blind` slips as rarely but retries
  // every failure at once; the default slips often and gives up on the first failure.
  let blind = CommandLine.arguments.contains("blind")
  let careful = CommandLine.arguments.contains("careful") || blind
  let recovery: Recovery = blind ? .retriesBlindly : careful ? .backsOff : .givesUp
  let taskID = taskID
  let seed = seed
  Task {
    var rng = Rng(state: seed ^ 0x0DE5_C0DE_5EED_0001)
    var envelope: [String: Any]
    do {
      envelope = try await orderDesk(input: input, careful: careful, recovery: recovery, rng: &rng)
    } catch {
      envelope = ["output": NSNull(), "error": "order-desk: \(error)"]
    }
    envelope["usage"] = ["input_tokens": 800 + Int(rng.next() * 400), "output_tokens": 60 + Int(rng.next() * 80)]
    FileHandle.standardOutput.write(Data((JSONSerialization.text(envelope) + "\n").utf8))
    exit(0)
  }
  dispatchMain()
}
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
    try? #"{"reason":"damage","replacement":true}"#.write(
      toFile: workdir + "/ticket.json", atomically: true, encoding: .utf8)
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
let outputValue: Any =
  output.hasPrefix("{") ? ((try? JSONSerialization.jsonObject(with: Data(output.utf8))) ?? output) : output
let envelope: [String: Any] = [
  "output": outputValue,
  "usage": ["input_tokens": inputTokens, "output_tokens": outputTokens, "model": "support-\(model)"],
  "steps": steps,
]
let encoded = (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])) ?? Data("{}".utf8)
FileHandle.standardOutput.write(encoded)
FileHandle.standardOutput.write(Data("\n".utf8))
