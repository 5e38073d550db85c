import Testing

@testable import EvalhCore

/// The suite schema and the loader cannot drift: each mapping's keys are the loader's own table.
@Suite struct SuiteSchemaTests {
  @Test func everyKeyTheLoaderTakesIsInTheSchemaAndTheReverse() {
    for (name, keys, values) in SuiteSchema.mappings {
      #expect(Set(keys) == Set(values.keys), "\(name): loader \(keys.sorted()) vs schema \(values.keys.sorted())")
      #expect(keys.count == Set(keys).count, "\(name): a key listed twice")
    }
  }

  @Test func everyReferenceResolves() {
    let document = SuiteSchema.document
    let defs = Set(document["$defs"]?.objectValue?.keys ?? [:].keys)
    var refs: [String] = []
    func walk(_ value: JSONValue) {
      switch value {
      case .object(let fields):
        if case .string(let ref)? = fields["$ref"] { refs.append(String(ref.dropFirst("#/$defs/".count))) }
        fields.values.forEach(walk)
      case .array(let items): items.forEach(walk)
      default: break
      }
    }
    walk(document)
    #expect(!refs.isEmpty)
    for ref in refs { #expect(defs.contains(ref), "#/$defs/\(ref) is not defined") }
  }
}
