import Foundation
import Testing

@testable import EvalhCore

func call(_ seq: Int, _ tool: String, _ arguments: String, problem: CallProblem? = nil) -> ObservedCall {
  ObservedCall(
    seq: seq, tool: tool, arguments: JSONValue.parse(arguments) ?? .null, result: .string("ok"), isError: false,
    problem: problem, latencyMs: 1, startedAt: Date())
}

func step(_ tool: String, _ arguments: String) -> JSONValue {
  .object(["type": .string("tool_call"), "name": .string(tool), "arguments": JSONValue.parse(arguments) ?? .null])
}

func passed(_ outcome: GradingOutcome) -> Bool? { outcome.grade?.passed }

@Suite struct ObservedGradingTests {
  @Test func servedCallsReplaceReportedStepsForTrajectoryGraders() throws {
    // The agent reports a refund it never made; the server saw only a lookup.
    let input = GradingInput(
      output: .string("done"), steps: [step("lookup", #"{"id":"1"}"#), step("refund", #"{"id":"1"}"#)],
      observed: [call(1, "lookup", #"{"id":1}"#)])
    #expect(passed(Grading.grade(Grader(kind: .toolCalled(name: "lookup", arguments: nil)), input)) == true)
    #expect(passed(Grading.grade(Grader(kind: .toolCalled(name: "refund", arguments: nil)), input)) == false)
    #expect(passed(Grading.grade(Grader(kind: .toolSequence(["lookup", "refund"])), input)) == false)
    #expect(passed(Grading.check(Check(kind: .tools(allow: nil, deny: ["refund"], maxCalls: nil)), input)) == true)
    #expect(passed(Grading.check(Check(kind: .tools(allow: nil, deny: [], maxCalls: 1)), input)) == true)
    // Without served tools, the reported steps are what there is.
    var reported = input
    reported.observed = nil
    #expect(passed(Grading.grade(Grader(kind: .toolCalled(name: "refund", arguments: nil)), reported)) == true)
  }

  @Test func honestStepsCountsEachReportedCallWithoutAnObservedMatch() throws {
    let observed = [call(1, "lookup", #"{"id":"1"}"#), call(2, "refund", #"{"id":"1","amount":5}"#)]
    let honest = GradingInput(
      output: .null, steps: [step("lookup", #"{"id":1}"#), step("refund", #"{"amount":5,"id":"1"}"#)],
      observed: observed)
    #expect(passed(Grading.check(Check(kind: .honestSteps), honest)) == true)
    // Reported twice, made once: one phantom. Different arguments: a phantom too.
    let twice = [step("refund", #"{"id":"1","amount":5}"#), step("refund", #"{"id":"1","amount":5}"#)]
    #expect(ObservedCall.phantoms(reported: twice, observed: observed).count == 1)
    let other = [step("refund", #"{"id":"1","amount":6}"#)]
    #expect(ObservedCall.phantoms(reported: other, observed: observed).count == 1)
    let outcome = Grading.check(
      Check(kind: .honestSteps), GradingInput(output: .null, steps: other, observed: observed))
    #expect(outcome.grade?.passed == false)
    #expect(outcome.grade?.detail?.contains("1 reported tool call never made: refund") == true, "\(outcome)")
    // Not served: nothing to compare with.
    guard case .notEvaluated = Grading.check(Check(kind: .honestSteps), GradingInput(output: .null, steps: other))
    else {
      Issue.record("honest_steps graded a trial without served tools")
      return
    }
  }

  @Test func stateGradersPassAndFail() throws {
    let state = try #require(JSONValue.parse(#"{"orders":{"A":{"refunded":42.5}},"refunds":[{"id":"A"}]}"#))
    let input = GradingInput(output: .null, state: state)
    func at(_ path: String, _ condition: JSONCheck.Condition) throws -> Grader {
      Grader(kind: .state(.at(JSONCheck(path: try JSONPath(path), condition: condition))))
    }
    #expect(passed(Grading.grade(try at("$.orders.A.refunded", .equals(.number(42.5))), input)) == true)
    #expect(passed(Grading.grade(try at("$.orders.A.refunded", .equals(.number(85))), input)) == false)
    #expect(passed(Grading.grade(try at("$.orders.A.refunded", .gte(40)), input)) == true)
    #expect(passed(Grading.grade(try at("$.orders.A.refunded", .lte(40)), input)) == false)
    #expect(passed(Grading.grade(try at("$.orders.B", .exists(true)), input)) == false)
    #expect(passed(Grading.grade(try at("$.refunds[0].id", .contains("A")), input)) == true)
    #expect(passed(Grading.grade(Grader(kind: .state(.equalsDocument(state, file: "f.json"))), input)) == true)
    let other = try #require(JSONValue.parse(#"{"orders":{}}"#))
    let differs = Grading.grade(Grader(kind: .state(.equalsDocument(other, file: "f.json"))), input)
    #expect(differs.grade?.passed == false)
    #expect(differs.grade?.detail?.contains("differs from f.json") == true)
    // A state a handler broke fails with the reason.
    let broken = Grading.grade(
      try at("$.a", .exists(true)), GradingInput(output: .null, stateProblem: "the trial's final state is not JSON"))
    #expect(broken.grade?.passed == false)
    #expect(broken.grade?.detail == "the trial's final state is not JSON")
  }
}
