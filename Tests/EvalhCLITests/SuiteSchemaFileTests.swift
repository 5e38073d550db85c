import Foundation
import Testing

/// The committed schema is `evalh schema`'s, and the example suites and the docs' suite YAML
/// validate against it with a validator no one here wrote (Python's jsonschema).
@Suite struct SuiteSchemaFileTests {
  @Test func theCommittedSchemaIsWhatEvalhPrints() async throws {
    let printed = try await Sandbox().evalh(["schema"])
    #expect(printed.code == 0)
    let committed = try String(contentsOfFile: packageRoot + "/schema/suite.schema.json", encoding: .utf8)
    #expect(printed.stdout == committed, "schema/suite.schema.json is stale: evalh schema > schema/suite.schema.json")
  }

  @Test func exampleSuitesAndTheDocsValidate() async throws {
    let suites = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/suites")
      .filter { $0.hasSuffix(".yaml") }.sorted().map { packageRoot + "/suites/" + $0 }
    let docs = ["README.md", "docs/suite-format.md", "docs/tools.md", "docs/http-agents.md", "docs/ci.md"]
      .map { packageRoot + "/" + $0 }
    let checked = await runTool(
      [pythonWithMCP, packageRoot + "/Tests/Clients/check_suite_schema.py", packageRoot + "/schema/suite.schema.json"]
        + suites + docs)
    #expect(checked.code == 0, "\(checked.stdout)\(checked.stderr)")
    let count = Int(checked.stdout.split(separator: "\n").last?.split(separator: " ").last ?? "") ?? 0
    #expect(count >= suites.count + 10, "\(checked.stdout)")
    // Every example suite names the schema for editors.
    for suite in suites {
      let text = try String(contentsOfFile: suite, encoding: .utf8)
      #expect(text.hasPrefix("# yaml-language-server: $schema=../schema/suite.schema.json\n"), "\(suite)")
    }
  }

  @Test func aMisspelledKeyFailsTheSchema() async throws {
    let box = Sandbox()
    box.write("bad.yaml", "name: s\ntrails: 8\ntasks: [{ id: a, input: x, expect: [{ contians: y }] }]\n")
    let checked = await runTool([
      pythonWithMCP, packageRoot + "/Tests/Clients/check_suite_schema.py", packageRoot + "/schema/suite.schema.json",
      box.path + "/bad.yaml",
    ])
    #expect(checked.code == 1)
    #expect(checked.stdout.contains("'trails' was unexpected") && checked.stdout.contains("'contians' was unexpected"))
  }
}
