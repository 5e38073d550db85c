import Foundation
import Testing

/// `export --xlsx`: read back with openpyxl and converted by LibreOffice headless, as the people it
/// is sent to would open it.
@Suite struct WorkbookTests {
  /// A suite whose agent answers things a spreadsheet would mangle: a formula, leading zeros.
  func suite(_ box: Sandbox) -> String {
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      if [ "$EVALH_TASK_ID" = zeros ]; then out=00123; else out='=1+2'; fi
      printf '{"output":"%s","usage":{"input_tokens":1000,"output_tokens":200}}\\n' "$out"
      """, executable: true)
    box.write(
      "suite.yaml",
      """
      name: book
      trials: 3
      agent:
        subprocess: { command: [./agent.sh] }
        pricing: { input_per_million: 3, output_per_million: 15 }
      tasks:
        - { id: zeros, input: x, expect: [{ equals: "00123" }] }
        - { id: formula, input: x, expect: [{ equals: nope }] }
      """)
    return box.path + "/suite.yaml"
  }

  @Test func openpyxlReadsRealNumbersDatesAndTextWithFrozenHeaders() async throws {
    let box = Sandbox()
    let run = try await box.evalh([
      "run", suite(box), "--db", box.db, "--seed", "4", "--run-id", "r-book", "--label", "=cmd", "--no-progress",
    ])
    #expect(run.code == 0, "\(run.stderr)")
    let file = box.path + "/out/run.xlsx"
    try FileManager.default.createDirectory(atPath: box.path + "/out", withIntermediateDirectories: true)
    let out = try await box.evalh(["export", "r-book", "--db", box.db, "--xlsx", file])
    #expect(out.code == 0, "\(out.stderr)")
    let read = await runTool([pythonWithMCP, packageRoot + "/Tests/Clients/read_workbook.py", file])
    #expect(read.code == 0, "\(read.stderr)")
    let book = try parseJSON(read.stdout)
    #expect(book["sheets"] as? [String] == ["Summary", "Tasks", "Pass^k", "Trials"])
    for name in ["Summary", "Tasks", "Pass^k", "Trials"] {
      let sheet = try #require(book[name] as? [String: Any])
      #expect(sheet["freeze"] as? String == "A2", "\(name)")
      #expect(sheet["bold"] as? Bool == true && sheet["formulas"] as? Int == 0, "\(name)")
    }
    let summary = try #require(book["Summary"] as? [String: Any])
    let header = try #require(summary["header"] as? [String])
    let row = try #require((summary["rows"] as? [[[Any]]])?.first)
    let formats = try #require((summary["formats"] as? [[String]])?.first)
    func cell(_ name: String, after: Int = 0) -> (type: String, value: Any, format: String) {
      let i = header.indices.filter { header[$0] == name }[after]
      return (row[i][0] as? String ?? "", row[i][1], formats[i])
    }
    // Success is 3 of 6 trials: a real number shown as a percentage, its interval beside it.
    #expect(cell("success rate").type == "float" && cell("success rate").value as? Double == 0.5)
    #expect(cell("success rate").format == "0.0%" && cell("low", after: 1).format == "0.0%")
    #expect((cell("low", after: 1).value as? Double ?? 1) < 0.5 && (cell("high", after: 1).value as? Double ?? 0) > 0.5)
    // 6 trials × (1000 × $3 + 200 × $15) per million = $0.036, in dollars.
    #expect(abs((cell("cost total").value as? Double ?? 0) - 0.036) < 1e-12)
    #expect(cell("cost total").format.contains("$") && cell("trials of unknown cost").value as? Int == 0)
    #expect(cell("started").type == "datetime" && (cell("started").value as? String ?? "").hasPrefix("20"))
    #expect(cell("label").type == "str" && cell("label").value as? String == "=cmd")
    #expect(cell("seed").type == "str" && cell("seed").value as? String == "4")
    #expect(cell("run").value as? String == "r-book")
    let trials = try #require((book["Trials"] as? [String: Any])?["rows"] as? [[[Any]]])
    #expect(trials.count == 6)
    let trialHeader = try #require((book["Trials"] as? [String: Any])?["header"] as? [String])
    let output = try #require(trialHeader.firstIndex(of: "output"))
    let outputs = Set(trials.map { $0[output][1] as? String ?? "" })
    // Kept as text: no formula runs, no leading zero is lost.
    #expect(outputs == ["00123", "=1+2"])
    #expect(trials.allSatisfy { $0[output][0] as? String == "str" })
  }

  /// `--xlsx` naming a folder, the results database or another file refuses and loses nothing; an
  /// earlier workbook is replaced whole.
  @Test func onlyAnEarlierWorkbookIsReplaced() async throws {
    let box = Sandbox()
    _ = try await box.evalh(["run", suite(box), "--db", box.db, "--run-id", "r-keep", "--no-progress"])
    try FileManager.default.createSymbolicLink(atPath: box.path + "/link.xlsx", withDestinationPath: box.db)
    for (target, why) in [
      (box.path, "not a file (a folder?)"), (box.db, "a SQLite database"), (box.path + "/suite.yaml", "not a ZIP"),
      (box.path + "/link.xlsx", "a SQLite database"),
    ] {
      let out = try await box.evalh(["export", "r-keep", "--db", box.db, "--xlsx", target])
      #expect(out.code == 2 && out.stderr.contains(why), "\(target): \(out.stderr)")
    }
    #expect(FileManager.default.fileExists(atPath: box.path + "/agent.sh"))
    // The database is still a database: the exports below read the run from it.
    #expect(try Data(contentsOf: URL(fileURLWithPath: box.db)).starts(with: Data("SQLite format 3".utf8)))
    #expect(try String(contentsOfFile: box.path + "/suite.yaml", encoding: .utf8).hasPrefix("name: book"))
    let file = box.path + "/run.xlsx"
    #expect(try await box.evalh(["export", "r-keep", "--db", box.db, "--xlsx", file]).code == 0)
    #expect(try await box.evalh(["export", "r-keep", "--db", box.db, "--xlsx", file]).code == 0)
    let files = try FileManager.default.contentsOfDirectory(atPath: box.path)
    #expect(!files.contains { $0.hasSuffix(".tmp") }, "\(files)")
  }

  @Test func libreOfficeOpensAndConvertsIt() async throws {
    let box = Sandbox()
    _ = try await box.evalh(["run", suite(box), "--db", box.db, "--run-id", "r-lo", "--no-progress"])
    let file = box.path + "/run.xlsx"
    #expect(try await box.evalh(["export", "r-lo", "--db", box.db, "--xlsx", file]).code == 0)
    // Its own profile folder, so a test beside it (or a user's office) does not hold a lock on it.
    let converted = await runTool([
      "soffice", "-env:UserInstallation=file://\(box.path)/lo-profile", "--headless", "--convert-to", "csv",
      "--outdir", box.path + "/lo", file,
    ])
    #expect(converted.code == 0, "\(converted.stderr)")
    let csv = try String(contentsOfFile: box.path + "/lo/run.csv", encoding: .utf8)
    #expect(csv.hasPrefix("agent,condition,tasks,trials,first run success"), "\(csv.prefix(200))")
    #expect(csv.contains("default,clean,2,6,"), "\(csv)")
  }
}
