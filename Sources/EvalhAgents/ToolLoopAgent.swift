import EvalhCore
import Foundation

/// The tool loop of tools.md for an `http.openai` agent: evalh is the agent. Each turn sends the
/// conversation with the trial's tools; each `tool_calls` entry the model returns runs through the
/// trial's call path (recorded like any call) and goes back as a `tool` message; the first answer
/// without tool calls is the output. Usage adds up over the turns; the calls are the trajectory.
extension HTTPAgent {
  func runToolLoop(
    _ request: AgentRequest, tools: ServedTools, loop: ToolLoop, deadline: ContinuousClock.Instant,
    interruption: Interruption?, attempts: inout Int
  ) async -> Finish {
    let first = makeRequest(request)
    guard let bodyBytes = first.body,
      case .object(var body)? = JSONValue.parse(String(decoding: bodyBytes, as: UTF8.self))
    else { return .done(Answer(outcome: .contractError("the openai request body is not a JSON object"))) }
    var messages = body["messages"]?.arrayValue ?? []
    body["tools"] = tools.list
    var usage = Usage()
    var steps: [JSONValue] = []
    var totalAttempts = 0
    for _ in 1...loop.maxTurns {
      body["messages"] = .array(messages)
      var outgoing = first
      outgoing.body = Array(JSONValue.object(body).compactText.utf8)
      var turnAttempts = 0
      let finished = await exchange(
        outgoing, deadline: deadline, interruption: interruption, attempts: &turnAttempts,
        parse: { _ in Answer(outcome: .answered) })
      totalAttempts += turnAttempts
      attempts = totalAttempts
      guard case .done(let answer) = finished else { return finished }
      guard case .answered = answer.outcome else { return finished }
      guard let response = JSONValue.parse(String(decoding: answer.raw, as: UTF8.self)),
        let message = response["choices"]?.arrayValue?.first?["message"]
      else {
        return .done(Answer(outcome: .contractError("the response has no choices[0].message")))
      }
      usage.add(response["usage"])
      let calls = message["tool_calls"]?.arrayValue ?? []
      if calls.isEmpty {
        let output = message["content"] ?? JSONValue.null
        return .done(Answer(outcome: .answered, output: output, usage: usage.orNil, steps: JSONValue.array(steps)))
      }
      messages.append(message)
      for call in calls {
        let name = call["function"]?["name"]?.stringValue ?? ""
        let raw: JSONValue? = call["function"]?["arguments"]
        let parsed: JSONValue? = raw?.stringValue.flatMap { JSONValue.parse($0) }
        let arguments: JSONValue = parsed ?? raw ?? JSONValue.object([:])
        steps.append(.object(["type": .string("tool_call"), "name": .string(name), "arguments": arguments]))
        let (result, isError) = await tools.call(name, arguments)
        var content = result.stringValue ?? result.compactText
        if isError { content = "error: " + content }
        messages.append(
          .object(["role": .string("tool"), "tool_call_id": call["id"] ?? .string(""), "content": .string(content)]))
      }
    }
    var failed = Answer(
      outcome: .contractError("no answer without tool calls within \(loop.maxTurns) turns (tool_loop.max_turns)"))
    failed.usage = usage.orNil
    failed.steps = JSONValue.array(steps)
    return .done(failed)
  }
}

extension Usage {
  /// Adds a chat-completions `usage` object's token counts.
  mutating func add(_ usage: JSONValue?) {
    func count(_ key: String) -> Int? { usage?[key]?.numberValue.flatMap { Int(exactly: $0) } }
    if let n = count("prompt_tokens") { inputTokens = (inputTokens ?? 0) + n }
    if let n = count("completion_tokens") { outputTokens = (outputTokens ?? 0) + n }
  }

  /// nil when nothing was reported.
  var orNil: Usage? { self == Usage() ? nil : self }
}
