import Foundation
import Testing

@testable import EvalhCore

/// The hand-written parser agrees with Foundation's decoder, and refuses what RFC 8259 refuses.
@Suite struct JSONParserTests {
  static func foundation(_ text: String) -> JSONValue? {
    try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
  }

  @Test func agreesWithFoundationOnEveryFixtureAndSample() throws {
    var documents = [
      #"{"output":"Order 1234 approved","usage":{"input_tokens":812,"cost_usd":0.00041},"steps":[{"ok":true,"x":null}],"error":null}"#,
      " [1, -2.5e3, 0.125, 1E-7, 123456789012345678, -0, true, false, null, \"\", {}] ",
      #""\u00e9\ud83d\ude00\n\t\\\"/""#,
      "\"plain\"", "0", "-1.5",
    ]
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    for case let file as URL in FileManager.default.enumerator(at: fixtures, includingPropertiesForKeys: nil)!
    where file.pathExtension == "json" {
      documents.append(try String(contentsOf: file, encoding: .utf8))
    }
    #expect(documents.count > 10)
    for text in documents {
      let ours = JSONValue.parse(text)
      #expect(ours != nil, "\(text.prefix(80))")
      #expect(ours == Self.foundation(text), "\(text.prefix(80))")
    }
  }

  @Test func duplicateKeysKeepTheLastValueAsJavaScriptAndPythonDo() {
    #expect(JSONValue.parse(#"{"a":1,"a":2}"#) == .object(["a": .number(2)]))
  }

  @Test func refusesInvalidJSON() {
    let invalid = [
      "", " ", "{", "[1,]", "{\"a\":1,}", "{a:1}", "'x'", "01", "1.", ".5", "+1", "1e", "--1", "tru", "nul", "[1 2]",
      "\"unterminated", "\"bad \\x escape\"", "\"raw \u{01} control\"", "{\"a\" 1}", "[1]]", "1 2", "NaN", "Infinity",
      "1e999", "\"\\u12\"",
    ]
    for text in invalid { #expect(JSONValue.parse(text) == nil, "\(text)") }
  }

  @Test func deepNestingIsRefusedNotACrash() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(JSONValue.parse(deep) == nil)
    let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    #expect(JSONValue.parse(fine) != nil)
  }

  @Test func loneSurrogatesReadAsReplacement() {
    #expect(JSONValue.parse(#""a\ud800b""#) == .string("a\u{FFFD}b"))
  }
}
