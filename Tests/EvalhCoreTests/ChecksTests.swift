import Foundation
import Testing

@testable import EvalhCore

func steps(_ json: String) -> [JSONValue] { JSONValue.parse(json)?.arrayValue ?? [] }

let sampleSteps = steps(
  #"[{"type":"tool_call","name":"lookup_order","arguments":{"order_id":"1234","verbose":true}},{"type":"message","text":"hi"},{"type":"tool_call","name":"issue_refund","arguments":{"amount":-5}},{"type":"tool_call","name":"send_email","arguments":{}}]"#
)

@Suite struct TrajectoryGraderTests {
  func grade(_ kind: GraderKind, steps: [JSONValue] = sampleSteps) -> Grade {
    Grading.grade(Grader(kind: kind), GradingInput(output: .string("ok"), steps: steps)).grade!
  }

  @Test func toolCalled() {
    #expect(grade(.toolCalled(name: "lookup_order", arguments: .object(["order_id": .string("1234")]))).passed)
    // YAML `1234` and JSON "1234" name the same argument.
    #expect(grade(.toolCalled(name: "lookup_order", arguments: .object(["order_id": .number(1234)]))).passed)
    #expect(grade(.toolCalled(name: "send_email", arguments: nil)).passed)
    let wrongArgs = grade(.toolCalled(name: "lookup_order", arguments: .object(["order_id": .string("9")])))
    #expect(!wrongArgs.passed)
    #expect(
      wrongArgs.detail
        == #"'lookup_order' was called, but never with arguments containing {"order_id":"9"} (got {"order_id":"1234","verbose":true})"#
    )
    let missing = grade(.toolCalled(name: "cancel", arguments: nil))
    #expect(missing.detail == "no call to tool 'cancel' (tools called: lookup_order, issue_refund, send_email)")
  }

  @Test func toolSequence() {
    #expect(grade(.toolSequence(["lookup_order", "send_email"])).passed)
    let wrong = grade(.toolSequence(["send_email", "lookup_order"]))
    #expect(!wrong.passed)
    #expect(
      wrong.detail
        == "tool calls lookup_order → issue_refund → send_email lack 'lookup_order' after 'send_email' (wanted send_email → lookup_order)"
    )
    #expect(
      grade(.toolSequence(["x"]), steps: []).detail?.hasPrefix("tool calls (none) lack 'x' after the start") == true)
  }

  @Test func jsonSchemaGrader() throws {
    let schema = try JSONSchema(
      JSONValue.parse(
        #"{"type":"object","required":["status"],"properties":{"status":{"enum":["approved","denied"]}}}"#)!)
    let ok = Grading.grade(Grader(kind: .jsonSchema(schema)), GradingInput(output: .string(#"{"status":"approved"}"#)))
      .grade!
    #expect(ok.passed)
    let bad = Grading.grade(
      Grader(kind: .jsonSchema(schema)), GradingInput(output: .object(["status": .string("maybe")]))
    ).grade!
    #expect(bad.detail == #"$.status: "maybe" is not one of ["approved","denied"]"#)
    let notJSON = Grading.grade(Grader(kind: .jsonSchema(schema)), GradingInput(output: .string("plain"))).grade!
    #expect(notJSON.detail == "output is not JSON")
  }
}

@Suite struct AssuranceCheckTests {
  func check(_ kind: CheckKind, _ input: GradingInput) -> Grade? { Grading.check(Check(kind: kind), input).grade }
  func text(_ s: String) -> GradingInput { GradingInput(output: .string(s)) }

  @Test func noPIIByKind() {
    let all = CheckKind.noPII(PIIKind.allCases)
    #expect(check(all, text("Your order ships Monday; call us any time."))?.passed == true)
    #expect(
      check(all, text("write to jane.doe@example.com"))?.detail
        == "output contains PII: email (1 match: j***@example.com)")
    #expect(check(all, text("SSN 123-45-6789 on file"))?.detail == "output contains PII: us_ssn (1 match: ***-**-6789)")
    #expect(
      check(all, text("card 4111 1111 1111 1111 charged"))?.detail
        == "output contains PII: credit_card (1 match: **** **** **** 1111)")
    #expect(check(all, text("call (555) 123-4567"))?.detail == "output contains PII: phone (1 match: (***) ***-4567)")
    #expect(check(all, text("from 192.168.10.42"))?.detail == "output contains PII: ipv4 (1 match: ***.***.10.42)")
    // Only the kinds asked for.
    #expect(check(.noPII([.email]), text("SSN 123-45-6789"))?.passed == true)
  }

  @Test func piiDetectorsAvoidFalsePositives() {
    // A 16-digit number failing the Luhn check is not a card; SSNs with area 000/666/9xx are never issued.
    #expect(PIIKind.creditCard.matches(in: "order 4111111111111112").isEmpty)
    #expect(PIIKind.creditCard.matches(in: "card 5500-0000-0000-0004") == ["5500-0000-0000-0004"])
    #expect(PIIKind.usSSN.matches(in: "000-12-3456 666-12-3456 900-12-3456 123-00-4567").isEmpty)
    #expect(PIIKind.ipv4.matches(in: "version 1.2.3 and 300.1.1.1").isEmpty)
    #expect(PIIKind.phone.matches(in: "dates 2026-11-02 and SSN-like 123-45-6789").isEmpty)
    #expect(PIIKind.phone.matches(in: "+44 20 7946 0958") == ["+44 20 7946 0958"])
    #expect(PIIKind.email.matches(in: "not an email: a@b") == [])
    #expect(PIIKind.luhn("79927398713") == false)  // too short to be a card
    #expect(PIIKind.luhn("4012888888881881"))
  }

  @Test func toolPolicies() throws {
    let input = GradingInput(output: .string("ok"), steps: sampleSteps)
    #expect(
      check(.tools(allow: nil, deny: ["issue_refund"], maxCalls: nil), input)?.detail
        == "called denied tool 'issue_refund'")
    #expect(
      check(.tools(allow: ["lookup_order"], deny: [], maxCalls: 2), input)?.detail
        == "called tool not allowed 'issue_refund', 'send_email'; 3 tool calls, more than 2")
    #expect(
      check(.tools(allow: ["lookup_order", "issue_refund", "send_email"], deny: [], maxCalls: 3), input)?.passed == true
    )
    let schema = try JSONSchema(
      JSONValue.parse(
        #"{"type":"object","required":["amount"],"properties":{"amount":{"type":"number","exclusiveMinimum":0}}}"#)!)
    let contract = check(.toolSchemas([("issue_refund", schema)]), input)
    #expect(contract?.detail == "call 2 of 'issue_refund': arguments.amount -5 is not greater than 0")
    #expect(check(.toolSchemas([("unused_tool", schema)]), input)?.passed == true)
  }

  @Test func budgets() {
    let input = GradingInput(
      output: .string("ok"), steps: sampleSteps, latencyMs: 2500, costUSD: 0.02, inputTokens: 900, outputTokens: 200)
    #expect(check(.maxSteps(3), input)?.detail == "4 steps, more than 3")
    #expect(check(.maxSteps(4), input)?.passed == true)
    #expect(check(.maxCost(0.01), input)?.detail == "cost $0.02 is more than $0.01")
    #expect(check(.maxLatency(2), input)?.detail == "took 2.5 s, longer than 2 s")
    #expect(check(.maxTokens(1000), input)?.detail == "1100 tokens (900 in + 200 out), more than 1000")
    // Unknown cost or tokens: the check is not evaluated (nil), never a silent pass or fail.
    let unknown = GradingInput(output: .string("ok"))
    #expect(check(.maxCost(0.01), unknown) == nil)
    #expect(check(.maxTokens(10), unknown) == nil)
  }

  @Test func outputContract() throws {
    let schema = try JSONSchema(JSONValue.parse(#"{"type":"string","maxLength":5}"#)!)
    #expect(
      check(.jsonSchema(schema), GradingInput(output: .string("\"toolong\"")))?.detail
        == "$: string is longer than 5 characters")
  }

  @Test func redaction() {
    let r = Redactor(secrets: ["KEY": "sk-123", "LONG": "sk-123456", "EMPTY": ""])
    #expect(r.redact("a sk-123456 b sk-123 c") == "a [redacted:LONG] b [redacted:KEY] c")
    #expect(
      r.redact(JSONValue.parse(#"{"sk-123":["x sk-123"]}"#)!) == JSONValue.parse(
        #"{"[redacted:KEY]":["x [redacted:KEY]"]}"#)!)
    #expect(Redactor(secrets: [:]).isEmpty)
  }
}
