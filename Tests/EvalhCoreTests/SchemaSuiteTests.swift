import Foundation
import Testing

@testable import EvalhCore

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

@Suite struct SchemaSuiteTests {
  /// Every case of the vendored JSON-Schema-Test-Suite files whose schema uses only supported keywords.
  @Test func officialTestSuiteSubset() throws {
    let folder = fixtures + "/JSON-Schema-Test-Suite"
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
    #expect(files.count >= 11)
    var passed = 0
    var failed: [String] = []
    var skipped = 0
    for file in files {
      let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(file)"))
      let groups = try #require(JSONValue.parse(data)?.arrayValue)
      for group in groups {
        let schemaValue = try #require(group["schema"])
        let cases = group["tests"]?.arrayValue ?? []
        guard JSONSchema.unsupportedKeywords(in: schemaValue).isEmpty else {
          skipped += cases.count
          continue
        }
        let schema = try JSONSchema(schemaValue)
        for test in cases {
          let expected = test["valid"] == .bool(true)
          if schema.isValid(test["data"] ?? .null) == expected {
            passed += 1
          } else {
            failed.append(
              "\(file): \(group["description"]?.stringValue ?? "") / \(test["description"]?.stringValue ?? "")")
          }
        }
      }
    }
    print(
      "JSON-Schema-Test-Suite (draft 2020-12 subset): \(passed)/\(passed + failed.count) cases passed, \(skipped) skipped (unsupported keywords)"
    )
    #expect(failed.isEmpty, "\(failed)")
    #expect(passed >= 200)
  }

  @Test func refsIntoTheSameDocumentAndUnsupportedKeywords() throws {
    let schema = try JSONSchema(
      JSONValue.parse(
        ##"{"$defs":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d+$"},"line":{"type":"object","required":["sku","qty"],"properties":{"sku":{"$ref":"#/$defs/sku"},"qty":{"type":"integer","minimum":1}},"additionalProperties":false}},"type":"object","properties":{"lines":{"type":"array","items":{"$ref":"#/$defs/line"},"minItems":1}},"required":["lines"]}"##
      )!)
    #expect(schema.isValid(JSONValue.parse(#"{"lines":[{"sku":"ABC-1","qty":2}]}"#)!))
    let errors = schema.validate(JSONValue.parse(#"{"lines":[{"sku":"abc","qty":0,"x":1}]}"#)!).map(\.description)
    #expect(
      errors == [
        "$.lines[0].qty: 0 is less than the minimum 1",
        "$.lines[0].sku: \"abc\" does not match /^[A-Z]{3}-\\d+$/",
        "$.lines[0]: property 'x' is not allowed",
      ])
    #expect(schema.validate(.object([:])).map(\.description) == ["$: missing required property 'lines'"])
    let unsupported = JSONSchema.unsupportedKeywords(
      in: JSONValue.parse(
        #"{"properties":{"a":{"patternProperties":{}}},"if":{},"$ref":"https://x/y.json","title":"ok","format":"email"}"#
      )!)
    #expect(
      unsupported == [
        "/: $ref 'https://x/y.json' (only references inside the document are supported)", "/: if",
        "/properties/a: patternProperties",
      ])
    #expect(throws: JSONSchemaError.self) { try JSONSchema(.object(["pattern": .string("(")])) }
    // A $ref cycle that never consumes the instance is reported, not a stack overflow.
    let loop = try JSONSchema(JSONValue.parse(##"{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}"##)!)
    #expect(loop.validate(.number(1)).first?.message.contains("nest too deeply") == true)
  }
}
