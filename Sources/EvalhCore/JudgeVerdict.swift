import Foundation

/// A judge agent's answer: a number in [0, 1], or `{"score": x, "reason": "..."}`, as JSON or as
/// text holding that JSON (what a model usually returns, fenced in ``` or not).
public enum JudgeVerdict {
  /// The score and reason, or nil when the output holds neither a number nor a `score`.
  public static func parse(_ output: JSONValue) -> (score: Double, reason: String?)? {
    var value = output
    if case .string(let text) = output {
      var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
      if body.hasPrefix("```") {
        body = body.drop { $0 != "\n" }.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasSuffix("```") { body = String(body.dropLast(3)) }
      }
      guard let parsed = JSONValue.parse(body) else { return nil }
      value = parsed
    }
    if let score = value.numberValue { return (score, nil) }
    guard let score = value["score"]?.numberValue else { return nil }
    return (score, value["reason"]?.gradingText)
  }
}
