import EvalhStore
import Foundation

extension ToolUseSummary {
  /// One line for people: calls per trial, the agent's contract violations, phantom calls, repeated
  /// writes, and the suite's own tool failures when there were any (text and markdown reports).
  public var sentence: String {
    var out =
      "\(String(format: "%.1f", callsPerTrial ?? 0)) calls/trial, \(plural(contractViolations, "contract violation"))"
    if contractViolations > 0 { out += " (\(invalidArguments) invalid arguments, \(unknownTool) unknown tool)" }
    out += ", \(plural(phantomCalls, "phantom call")), \(plural(repeatedWrites, "repeated write"))"
    if handlerFailures + invalidResults > 0 {
      out += "; suite's tools: \(handlerFailures) handler failures, \(invalidResults) results off their schema"
    }
    return out
  }

  /// Counts for the HTML report's failure chart, zeros left out.
  var chartRows: [(label: String, count: Int)] {
    [
      ("tools: invalid arguments", invalidArguments), ("tools: unknown tool", unknownTool),
      ("tools: phantom calls", phantomCalls), ("tools: repeated writes", repeatedWrites),
    ].filter { $0.1 > 0 }
  }
}
