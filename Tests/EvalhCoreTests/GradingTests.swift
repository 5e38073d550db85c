import Testing

@testable import EvalhCore

@Suite struct GradingTests {
  func grade(_ kind: GraderKind, _ output: JSONValue) -> Grade? {
    Grading.grade(Grader(name: nil, kind: kind), GradingInput(output: output)).grade
  }

  @Test func textGraders() throws {
    #expect(grade(.equals(.string("yes")), .string("  yes\n"))?.passed == true)
    #expect(grade(.equals(.string("yes")), .string("yes!"))?.passed == false)
    #expect(grade(.equals(.object(["a": .number(1)])), .object(["a": .number(1)]))?.passed == true)
    #expect(grade(.contains(["ref", "und"]), .string("refund"))?.passed == true)
    let missing = try #require(grade(.contains(["ref", "zzz"]), .string("refund")))
    #expect(!missing.passed && missing.detail == "output does not contain 'zzz'")
    #expect(grade(.containsAny(["zzz", "fun"]), .string("refund"))?.passed == true)
    #expect(grade(.containsAny(["zzz"]), .string("refund"))?.passed == false)
    #expect(grade(.regex(try Pattern("(?i)ORDER\\s+#?1234")), .string("order #1234"))?.passed == true)
    // Non-string outputs are graded as compact JSON.
    #expect(grade(.contains(["\"a\":1"]), .object(["a": .number(1)]))?.passed == true)
  }

  @Test func jsonGrader() throws {
    func json(_ path: String, _ c: JSONCheck.Condition, tolerance: Double? = nil) throws -> JSONCheck {
      JSONCheck(path: try JSONPath(path), condition: c, tolerance: tolerance)
    }
    let output = JSONValue.string(#"{"status":"approved","amount":10.02,"items":[{"sku":"a"},{"sku":"b"}]}"#)
    #expect(grade(.json(try json("$.status", .equals(.string("approved")))), output)?.passed == true)
    #expect(grade(.json(try json("$.amount", .equals(.number(10)), tolerance: 0.05)), output)?.passed == true)
    #expect(grade(.json(try json("$.amount", .equals(.number(10)))), output)?.passed == false)
    #expect(grade(.json(try json("$.items[*].sku", .equals(.string("b")))), output)?.passed == true)
    #expect(grade(.json(try json("$.items[-1].sku", .contains("b"))), output)?.passed == true)
    #expect(grade(.json(try json("$..sku", .matches(try Pattern("^[ab]$")))), output)?.passed == true)
    #expect(grade(.json(try json("$.amount", .gte(10))), output)?.passed == true)
    #expect(grade(.json(try json("$.amount", .lte(10))), output)?.passed == false)
    #expect(grade(.json(try json("$.missing", .exists(true))), output)?.passed == false)
    #expect(grade(.json(try json("$.missing", .exists(false))), output)?.passed == true)
    let notJSON = try #require(grade(.json(try json("$.a", .exists(true))), .string("plain text")))
    #expect(!notJSON.passed && notJSON.detail == "output is not JSON")
  }

  /// Every PII kind's pattern compiled: a kind without one would find nothing and pass every output.
  @Test func everyPIIPatternCompiles() {
    for kind in PIIKind.allCases { #expect(PIIKind.patterns[kind] != nil, "\(kind)") }
  }

  @Test func assuranceChecks() throws {
    let leak = Check(name: "no-email", kind: .notRegex(try Pattern("[a-z]+@[a-z]+\\.com")))
    let g = try #require(Grading.check(leak, GradingInput(output: .string("mail bob@example.com"))).grade)
    #expect(!g.passed && g.kind == .assure && g.grader == "no-email")
    #expect(Grading.check(leak, GradingInput(output: .string("no mail"))).grade?.passed == true)
    let words = Check(name: nil, kind: .notContains(["internal", "secret"]))
    #expect(
      Grading.check(words, GradingInput(output: .string("top secret"))).grade?.detail == "output contains 'secret'")
  }

  @Test func jsonPathSubset() throws {
    let doc = JSONValue.parse(#"{"a":{"b":[10,20,30]},"c":{"b":1},"odd key":true}"#)!
    #expect(try JSONPath("$.a.b[0]").select(in: doc) == [.number(10)])
    #expect(try JSONPath("$.a.b[-1]").select(in: doc) == [.number(30)])
    #expect(try JSONPath("$['odd key']").select(in: doc) == [.bool(true)])
    #expect(try JSONPath("$.a.b[*]").select(in: doc).count == 3)
    #expect(try JSONPath("$..b").select(in: doc).count == 2)
    #expect(try JSONPath("$").select(in: doc) == [doc])
    #expect(try JSONPath("$.a.b[7]").select(in: doc).isEmpty)
    #expect(throws: JSONPathError.self) { try JSONPath("a.b") }
    #expect(throws: JSONPathError.self) { try JSONPath("$.a[") }
    #expect(throws: JSONPathError.self) { try JSONPath("$.a[x]") }
  }

  @Test func jsonValueRoundTripsAndEscapes() throws {
    let v = JSONValue.parse(#"{"b":[1,2.5,true,null],"a":"x\u0001\"y"}"#)
    #expect(v?.compactText == #"{"a":"x\u0001\"y","b":[1,2.5,true,null]}"#)
    #expect(JSONValue.parse("not json") == nil)
    #expect(JSONValue.parse("3") == .number(3))
    #expect(JSONValue.parse("true") == .bool(true))
  }
}
