import Foundation
import Testing

/// evalh's JUnit as CI systems read it: held to the Jenkins xunit plugin's published schema by
/// xmllint (and to windyroad's Ant schema where one is provided), and read back by junitparser,
/// the parser CI plugins build on.
@Suite struct JUnitConsumerTests {
  /// The schemas `make pyenv` lays down (the Jenkins xunit plugin's and Jenkins' junit-4), and
  /// windyroad's Ant `JUnit.xsd` where one is provided: in `EVALH_JUNIT_XSD_DIR`, or in the shared
  /// folder beside the repository.
  static let schemas: [String] = {
    var found = [packageRoot + "/.build/py/xsd/junit-10.xsd", packageRoot + "/.build/py/xsd/junit-4.xsd"]
    let dirs = [ProcessInfo.processInfo.environment["EVALH_JUNIT_XSD_DIR"], packageRoot + "/../shared/xsd"]
    if let windyroad = dirs.compactMap({ $0.map { $0 + "/JUnit.xsd" } }).first(where: {
      FileManager.default.fileExists(atPath: $0)
    }) {
      found.append(windyroad)
    }
    return found
  }()

  /// Runs xmllint over `file` against every schema; the failures' text, empty when valid.
  func schemaProblems(_ file: String) async -> String {
    var problems = ""
    for schema in Self.schemas {
      let result = await runTool(["xmllint", "--noout", "--schema", schema, file])
      if result.code != 0 { problems += "\(schema): \(result.stderr)\n" }
    }
    return problems
  }

  /// What junitparser reads: per suite its counts and cases (classname, name, outcome).
  func junitparserReads(_ file: String) async throws -> [[String: Any]] {
    let script = """
      import json, sys
      from junitparser import JUnitXml, Failure, Error, Skipped
      suites = []
      for suite in JUnitXml.fromfile(sys.argv[1]):
          cases = []
          for case in suite:
              kinds = [type(r).__name__.lower() for r in case.result]
              cases.append({"classname": case.classname, "name": case.name, "outcome": kinds[0] if kinds else "passed"})
          suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                         "errors": suite.errors, "skipped": suite.skipped, "cases": cases,
                         "properties": {p.name: p.value for p in suite.properties()}})
      print(json.dumps(suites))
      """
    let result = await runTool([pythonWithMCP, "-c", script, file])
    #expect(result.code == 0, "\(result.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
  }

  /// Each suite's `tests` is its number of cases, the other counts match the outcomes, and
  /// (classname, name) is unique across the file.
  func expectConsistent(_ suites: [[String: Any]]) {
    var seen = Set<String>()
    for suite in suites {
      let cases = suite["cases"] as? [[String: Any]] ?? []
      #expect(suite["tests"] as? Int == cases.count, "\(suite["name"] ?? "")")
      for (count, outcome) in [("failures", "failure"), ("errors", "error"), ("skipped", "skipped")] {
        #expect(suite[count] as? Int == cases.filter { $0["outcome"] as? String == outcome }.count)
      }
      for c in cases {
        let key = "\(c["classname"] ?? "")\u{0}\(c["name"] ?? "")"
        #expect(!seen.contains(key), "(classname, name) repeated: \(key)")
        seen.insert(key)
      }
    }
  }

  @Test func reportAndCompareJUnitValidateAndReadBack() async throws {
    let box = Sandbox()
    // Two agents with the same task ids; `wrong` answers wrongly on t2, `crashy` exits 1 on t3.
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      if [ "$MODE" = crashy ] && [ "$EVALH_TASK_ID" = t3 ]; then exit 1; fi
      if [ "$MODE" = wrong ] && [ "$EVALH_TASK_ID" = t2 ] && [ -z "$FIXED" ]; then echo '{"output":"no"}'; exit 0; fi
      echo '{"output":"ok"}'
      """, executable: true)
    var yaml = """
      name: ci <suite> & "quotes"
      trials: 3
      agents:
        wrong: { subprocess: { command: [./agent.sh], env: { MODE: wrong } } }
        crashy: { subprocess: { command: [./agent.sh], env: { MODE: crashy } } }
      tasks:

      """
    for i in 1...4 { yaml += "  - { id: t\(i), input: x, expect: [{ equals: ok }] }\n" }
    box.write("suite.yaml", yaml)
    #expect(try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-1", "--no-progress"]).code == 0)
    let report = box.path + "/report.xml"
    #expect(
      try await box.evalh(["report", "r-1", "--format", "junit", "--db", box.db, "--output", report]).code == 0)
    let reportProblems = await schemaProblems(report)
    #expect(reportProblems.isEmpty, "\(reportProblems)")
    let suites = try await junitparserReads(report)
    expectConsistent(suites)
    #expect(suites.count == 2)
    let outcomes = Dictionary(
      uniqueKeysWithValues: suites.flatMap { ($0["cases"] as? [[String: Any]]) ?? [] }.map {
        ("\($0["classname"] ?? "") \($0["name"] ?? "")", $0["outcome"] as? String ?? "")
      })
    let prefix = #"ci <suite> & "quotes""#
    #expect(outcomes["\(prefix).wrong t2"] == "failure")
    #expect(outcomes["\(prefix).crashy t3"] == "error")
    #expect(outcomes["\(prefix).wrong t3"] == "passed" && outcomes["\(prefix).crashy t2"] == "passed")
    // Properties are numbers a plugin can plot.
    let properties = try #require(suites.first?["properties"] as? [String: String])
    #expect(Double(properties["success_rate"] ?? "") != nil && properties["seed"] != nil)

    // compare: the candidate fixed t2 and lost the crashy agent.
    var fixed = yaml.replacingOccurrences(of: "env: { MODE: wrong }", with: "env: { MODE: wrong, FIXED: '1' }")
    fixed = fixed.replacingOccurrences(
      of: "  crashy: { subprocess: { command: [./agent.sh], env: { MODE: crashy } } }\n", with: "")
    box.write("suite.yaml", fixed)
    _ = try await box.evalh(["run", "suite.yaml", "--db", box.db, "--run-id", "r-2", "--no-progress"])
    let compared = box.path + "/compare.xml"
    let comparison = try await box.evalh([
      "compare", "r-1", "r-2", "--format", "junit", "--db", box.db, "--output", compared, "--allow-suite-change",
    ])
    #expect(comparison.code == 1, "\(comparison.stderr)")  // the missing agent fails the gate
    let compareProblems = await schemaProblems(compared)
    #expect(compareProblems.isEmpty, "\(compareProblems)")
    let compareSuites = try await junitparserReads(compared)
    expectConsistent(compareSuites)
    let missing = compareSuites.first { $0["name"] as? String == "crashy" }
    #expect((missing?["failures"] as? Int) == 1)
  }

  @Test func aRunWithConditionsValidatesWithACasePerAgentConditionAndTask() async throws {
    // The golden JUnit of the reports' table-driven run under three conditions.
    let golden = packageRoot + "/Tests/EvalhReportsTests/Golden/conditions-junit.xml"
    let problems = await schemaProblems(golden)
    #expect(problems.isEmpty, "\(problems)")
    let suites = try await junitparserReads(golden)
    expectConsistent(suites)
    #expect(suites.compactMap { $0["name"] as? String } == ["bot @ clean", "bot @ flaky", "bot @ typos"])
    #expect(suites.flatMap { ($0["cases"] as? [[String: Any]]) ?? [] }.count == 6)
  }

  @Test func theSchemaCheckCanFail() async throws {
    // The check above is only worth something if xmllint refuses what the schema forbids.
    let box = Sandbox()
    box.write("bad.xml", "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>\n")
    #expect(!(await schemaProblems(box.path + "/bad.xml")).isEmpty)
  }
}

/// Runs a tool to completion on a thread of its own (stderr through a file, so neither pipe can fill
/// while the other is read).
func runTool(_ argv: [String]) async -> Output {
  await offPool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    let out = Pipe()
    let errFile = NSTemporaryDirectory() + "evalh-tool-stderr-" + UUID().uuidString
    defer { unlink(errFile) }
    FileManager.default.createFile(atPath: errFile, contents: nil)
    guard let err = FileHandle(forWritingAtPath: errFile) else {
      return Output(stdout: "", stderr: "no file", code: 127)
    }
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return Output(stdout: "", stderr: "\(error)", code: 127) }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try? err.close()
    let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
    return Output(stdout: String(decoding: stdout, as: UTF8.self), stderr: stderr, code: process.terminationStatus)
  }
}
