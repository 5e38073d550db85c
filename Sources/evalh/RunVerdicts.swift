import EvalhCore
import EvalhReports
import EvalhStore
import Foundation

/// What a finished run's summary cannot say by itself: an agent that was never reached, and the
/// `--max-error-rate` gate.
enum RunVerdicts {
  /// Agents every one of whose counted trials was a transport error, or that could not be started:
  /// nothing about them was measured, so the night is not green (exit 3). One sentence each.
  static func unreachable(_ report: RunReport, store: ResultStore) -> [String] {
    report.agents.compactMap { a -> String? in
      let m = a.metrics
      guard m.trials > 0 else { return nil }
      let transport = m.errors[ErrorKind.transport.rawValue] ?? 0
      let exits = m.errors[ErrorKind.agentExit.rawValue] ?? 0
      guard transport == m.trials || exits == m.trials else { return nil }
      let first = firstError(report.run.id, agent: m.agent, condition: m.condition, store: store) ?? "no error recorded"
      if transport == m.trials {
        return
          "agent \(m.label) could not be reached: all \(m.trials) trials ended in a transport error (first: \(first))"
      }
      // Exits alone are data (a crashing agent); an agent that never started is not.
      guard first.hasPrefix("cannot start") || first.hasPrefix("evalh could not start") else { return nil }
      return "agent \(m.label) could not be started: \(first)"
    }
  }

  /// The first recorded error of an agent's first task, cut to a line.
  static func firstError(_ runID: String, agent: String, condition: String, store: ResultStore) -> String? {
    guard let run = try? store.run(id: runID), let task = run.plan.tasks.first?.id,
      let trials = try? store.trials(runID: runID, agent: agent, condition: condition, taskID: task)
    else { return nil }
    return trials.compactMap(\.error).first.map { String($0.prefix(300)).replacingOccurrences(of: "\n", with: " ") }
  }

  /// `--max-error-rate`: agents whose share of error and timeout trials (the agent's side; grader
  /// and tool errors are the suite's) is above `limit`.
  static func errorRateFailures(_ report: RunReport, limit: Double) -> [String] {
    report.agents.compactMap { a -> String? in
      let m = a.metrics
      guard m.trials > 0 else { return nil }
      let agentSide = m.errors.filter { $0.key != ErrorKind.grader.rawValue && $0.key != ErrorKind.tool.rawValue }
      let rate = Double(agentSide.values.reduce(0, +)) / Double(m.trials)
      guard rate > limit else { return nil }
      return String(
        format: "agent %@: %.1f%% of trials were errors or timeouts, above --max-error-rate %.1f%%", m.label,
        rate * 100, limit * 100)
    }
  }
}
