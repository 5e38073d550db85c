import EvalhStore
import Foundation
import FoundationXML
import Testing

@testable import EvalhCore
@testable import EvalhReports

@Suite struct GoldenTests {
  @Test func everyRendererMatchesItsGoldenFile() throws {
    let (report, grid) = cannedReport()
    try assertGolden(TextReport.render(report), "report.txt")
    try assertGolden(TextReport.render(report, color: true), "report-color.txt")
    try assertGolden(MarkdownReport.render(report), "report.md")
    try assertGolden(JSONReport.render(report), "report.json")
    try assertGolden(CSVExport.summary(report), "summary.csv")
    try assertGolden(CSVExport.tasks(report, tags: ["refund": ["billing", "=SUM(A1)"]]), "tasks.csv")
    try assertGolden(CSVExport.passk(report), "passk.csv")
    try assertGolden(JUnitReport.render(report), "junit.xml")
    try assertGolden(HTMLReport.render(report, grid: grid), "report.html")
  }
}

@Suite struct EscapingTests {
  /// A perturbed JSON input and the task's are one line each, compact, to be read side by side.
  @Test func showPutsAJSONInputAndWhatWasReceivedOnOneLineEach() {
    var trial = TrialRecord(
      runID: "r", agent: "a", taskID: "t", trial: 1, status: .pass, latencyMs: 1, attempts: 1, seed: 1,
      startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 1))
    trial.inputJSON = #"{"text":"hello WORRLD","n":3}"#
    let shown = ShowReport.detail(trial, taskInput: #"{"text": "Hello World",\#n "n": 3}"#)
    #expect(shown.contains(#"input:     {"n":3,"text":"Hello World"}   (the task's)"#), "\(shown)")
    #expect(shown.contains(#"received:  {"n":3,"text":"hello WORRLD"}   (what the agent was sent)"#), "\(shown)")
  }

  @Test func terminalTextHasNoRawEscape() {
    let (report, _) = cannedReport()
    for text in [TextReport.render(report), TextReport.render(report, color: false)] {
      #expect(!text.contains("\u{1B}"), "an agent's escape sequence reached the terminal")
      #expect(!text.contains("\u{07}"))
      #expect(text.contains("\\e[31mred\\u{7}"))
    }
    // Colour is evalh's own, and only when asked for.
    #expect(TextReport.render(report, color: true).contains("\u{1B}[32m"))
    #expect(Escape.terminal("a\u{1B}]0;title\u{07}b\r") == "a\\e]0;title\\u{7}b\\r")
  }

  @Test func markdownCellsStayOneLineAndInert() {
    let (report, _) = cannedReport()
    let md = MarkdownReport.render(report)
    #expect(!md.contains("<script>"))
    #expect(md.contains("\\<script\\>alert(1)\\</script\\>"))
    for line in md.split(separator: "\n") where line.hasPrefix("| ") {
      // Every table row has the same number of unescaped pipes as its header.
      let pipes = line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
      #expect(pipes >= 3)
    }
    #expect(Escape.markdown("a|b\nc") == "a\\|b\\\\nc")
  }

  @Test func jsonIsValidAndCarriesTheTextVerbatim() throws {
    let (report, _) = cannedReport()
    let text = JSONReport.render(report)
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let agents = try #require(parsed["agents"] as? [[String: Any]])
    #expect(agents[1]["agent"] as? String == hostile)
  }

  @Test func csvNeutralisesFormulasAndQuotes() throws {
    #expect(Escape.csv("=1+2") == "'=1+2")
    #expect(Escape.csv("+1") == "'+1")
    #expect(Escape.csv("-x") == "'-x")
    #expect(Escape.csv("@SUM(A1)") == "'@SUM(A1)")
    #expect(Escape.csv("\tx") == "'\tx")
    #expect(Escape.csv("\rx") == "\"'\rx\"")
    #expect(Escape.csv("a,b") == "\"a,b\"")
    #expect(Escape.csv("say \"hi\"") == "\"say \"\"hi\"\"\"")
    #expect(Escape.csv("line\r\nbreak") == "\"line\r\nbreak\"")
    #expect(CSVExport.Cell.number(-0.5).rendered == "-0.5")  // numbers are numbers, never neutralised
    #expect(CSVExport.Cell.number(nil).rendered == "")  // unknown is an empty cell, never 0
    let (report, _) = cannedReport()
    let csv = CSVExport.summary(report)
    // Parsed back (RFC 4180), every row has the header's columns and the hostile label is inert.
    let records = try CSVRecord.parse(csv)
    #expect(records.first?.fields == CSVExport.summaryColumns)
    #expect(records.dropFirst().allSatisfy { $0.fields.count == CSVExport.summaryColumns.count })
    #expect(records[1].fields[2] == "'=cmd|' /C calc'!A0")
    #expect(records[2].fields[3] == "'".appending(hostile) || records[2].fields[3] == hostile)
  }

  @Test func htmlAndJUnitParseAsXMLWithTheTextEscaped() throws {
    let (report, grid) = cannedReport()
    let html = HTMLReport.render(report, grid: grid)
    let document = try XMLDocument(data: Data(html.utf8), options: [])
    #expect(
      try document.nodes(forXPath: "//*[local-name()='script']").isEmpty, "markup from an agent became an element")
    #expect(
      try document.nodes(forXPath: "//*[local-name()='link' or local-name()='img' or local-name()='iframe']").isEmpty)
    #expect(!html.contains("http://") || !html.contains("src="), "no external resource")
    let title = try document.nodes(forXPath: "//*[local-name()='h1']").first?.stringValue
    #expect(title?.contains("<script>alert(1)</script> ]]>") == true)
    let charts = try document.nodes(forXPath: "//*[local-name()='svg']")
    #expect(charts.count >= 5)
    let junit = JUnitReport.render(report)
    let xml = try XMLDocument(data: Data(junit.utf8), options: [])
    let suites = try xml.nodes(forXPath: "/testsuites/testsuite")
    #expect(suites.count == 2)
    #expect((suites[1] as? XMLElement)?.attribute(forName: "name")?.stringValue?.contains("<script>") == true)
    // ESC and BEL are not allowed in XML 1.0: removed.
    #expect(!junit.contains("\u{1B}") && !junit.contains("\u{07}"))
    let failures = try xml.nodes(forXPath: "//testcase/failure")
    #expect(
      failures.contains { ($0 as? XMLElement)?.attribute(forName: "message")?.stringValue == "5/8 trials passed" })
  }
}

/// trials.csv is written byte by byte for speed; its cells must read exactly like the other files'.
@Suite struct CSVRowTests {
  @Test func rowsRenderLikeCells() {
    let texts: [String?] = [
      nil, "", "plain", "a,b", "say \"hi\"", "line\nbreak", "=SUM(A1)", "+1", "-2", "@x", "\ttab", "\rcr", "é ✓",
    ]
    let numbers: [Double?] = [nil, 0, 1, -3, 0.1, 0.03100000000000002, 372.91449286051, 1e-7, 1e20, .nan]
    var row = CSVRow()
    var cells: [CSVExport.Cell] = []
    for t in texts {
      row.text(t)
      cells.append(.text(t))
    }
    for x in numbers {
      row.number(x)
      cells.append(.number(x))
    }
    row.integer(nil)
    row.integer(-42)
    row.bool(nil)
    row.bool(true)
    row.bool(false)
    cells += [.integer(nil), .integer(-42), .bool(nil), .bool(true), .bool(false)]
    // The same texts from stored bytes, as trials.csv reads them from SQLite.
    for t in texts {
      let bytes = t.map { Array($0.utf8) }
      if let count = bytes?.count {
        bytes!.withUnsafeBufferPointer { row.text(UnsafeBufferPointer(start: $0.baseAddress, count: count)) }
      } else {
        row.text(nil as UnsafeBufferPointer<UInt8>?)
      }
      cells.append(.text(t))
    }
    row.end()
    // "\r\n" is one Character.
    #expect(String(decoding: row.bytes, as: UTF8.self) == CSVExport.table([], [cells]).dropFirst(1).description)
    // The buffer grows: a cell longer than its capacity, and one row after another.
    var small = CSVRow(capacity: 4)
    small.text(String(repeating: "a\"", count: 50))
    small.number(0.25)
    small.end()
    small.integer(7)
    small.end()
    #expect(
      String(decoding: small.bytes, as: UTF8.self) == "\"" + String(repeating: "a\"\"", count: 50) + "\",0.25\r\n7\r\n")
  }

  /// Outputs are stored as JSON: a string cell is its decoded text, anything else its JSON, cut at 1,000 characters.
  @Test func outputsFromStoredJSON() {
    let long = String(repeating: "é", count: 1200)
    let cases: [(stored: String?, cell: String?)] = [
      (nil, nil), (#""shipped""#, "shipped"), (#""a \"b\", c""#, #"a "b", c"#), (#""line\nbreak""#, "line\nbreak"),
      (#"{"k":[1,2]}"#, #"{"k":[1,2]}"#), (#""=1+1""#, "=1+1"), ("\"" + long + "\"", String(long.prefix(1000))),
      ("\"" + String(repeating: "x", count: 1000) + "\"", String(repeating: "x", count: 1000)),
      ("\"" + String(repeating: "x", count: 1001) + "\"", String(repeating: "x", count: 1000)),
    ]
    for (stored, cell) in cases {
      var row = CSVRow(capacity: 16)
      let bytes = Array((stored ?? "").utf8)
      let count = bytes.count
      bytes.withUnsafeBufferPointer {
        row.output(stored == nil ? nil : UnsafeBufferPointer(start: $0.baseAddress, count: count))
      }
      #expect(String(decoding: row.bytes, as: UTF8.self) == CSVExport.Cell.text(cell).rendered, "\(stored ?? "nil")")
    }
  }

  /// Numbers are written as bytes without a String; they must read exactly as `Fmt.plain` writes them.
  @Test func numbersAsBytesMatchPlain() {
    var generator = SystemRandomNumberGenerator()
    var samples: [Double] = [
      0, -0.0, 1, -1, 0.1, 0.03100000000000002, 1e-4, 9.99999999999e-5, 1e-5, 0.00012345678901234, 1e12,
      999_999_999_999.5,
      1e15 - 1, 1e15, 123_456_789_012_345, 9.9999999999995, 0.5, 2.5e-3, 372.91449286051, 0.00022275, 555.343606324491,
    ]
    for _ in 0..<20_000 {
      let magnitude = pow(10, Double.random(in: -6...17, using: &generator))
      samples.append(Bool.random(using: &generator) ? magnitude : -magnitude)
      samples.append((magnitude * 1000).rounded() / 1000)
    }
    let out = UnsafeMutablePointer<UInt8>.allocate(capacity: Fmt.plainRoom)
    defer { out.deallocate() }
    var written = 0
    for x in samples {
      guard let count = Fmt.writePlain(x, to: out) else { continue }
      written += 1
      #expect(String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self) == Fmt.plain(x), "\(x)")
    }
    #expect(written > samples.count / 2)
    for n in [0, 7, -7, 10, 1_000_000, Int.max, Int.min] {
      let count = Fmt.writeInteger(n, to: out)
      #expect(String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self) == String(n))
    }
    // And through a row, the numbers written as text too.
    var row = CSVRow()
    for x in samples { row.number(x) }
    #expect(String(decoding: row.bytes, as: UTF8.self) == samples.map(Fmt.plain).joined(separator: ","))
  }
}

/// A large run stays readable at a terminal: capped lists, a sampled pass^k curve.
@Suite struct LargeRunTextTests {
  @Test func curvePointsSampleLongCurves() {
    #expect(TextReport.curvePoints(8) == Array(1...8))
    #expect(TextReport.curvePoints(12) == Array(1...12))
    #expect(TextReport.curvePoints(100) == [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 100])
    #expect(TextReport.curvePoints(64) == [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64])
  }

  @Test func longListsAreCapped() {
    // 150 flaky tasks of 20 trials: pass on even trials.
    let facts = (0..<150).flatMap { t in
      (1...20).map { n in
        TrialFacts(taskID: String(format: "task-%03d", t), trial: n, status: n % 2 == 0 ? .pass : .fail, latencyMs: 10)
      }
    }
    let metrics = AgentMetrics(agent: "a", trials: facts, planned: [:], withIntervals: true)
    let started = Date(timeIntervalSince1970: 1_795_000_000)
    let run = RunRecord(
      id: "r-big", suite: "s", suitePath: nil, suiteSHA256: "0", label: nil, seed: 1, trials: 20, status: .completed,
      startedAt: started, finishedAt: started, evalhVersion: nil, host: nil, gitCommit: nil, configJSON: "{}",
      plan: RunPlan(agents: ["a"], tasks: []))
    let text = TextReport.render(RunReport(run: run, agents: [AgentReport(metrics)]))
    // pass^k = C(10, k) / C(20, k): 45/190 = 24%, 120/1140 = 11%, 210/4845 = 4%, 252/15504 = 2%, ...
    #expect(text.contains("pass^k      1:50% 2:24% 3:11% 4:4% 5:2% 6:1% 7:0% 8:0% 16:0% 20:0%"))
    #expect(text.contains("task-019, … and 130 more"))
    #expect(text.contains("  … and 50 more tasks, better ones"))
    #expect(text.split(separator: "\n").filter { $0.hasPrefix("  task-") }.count == 100)
  }
}

/// trials.csv is written from SQLite's column bytes in the same scan that measures the run; every
/// cell must read as the reference rendering of the stored trial (`CSVExport.Cell`), agents in order.
@Suite struct TrialsCSVTests {
  /// A run of `agents` × `tasks` × 3 trials with varied cells, its plan claiming `plannedTrials` per task
  /// (a large plan makes reports read each agent in task ranges side by side).
  func storedRun(_ folder: String, agents: [String], tasks: [String], plannedTrials: Int = 3) throws -> (
    ResultStore, RunRecord
  ) {
    let store = try ResultStore(path: folder + "/db.sqlite", create: true)
    let started = Date(timeIntervalSince1970: 1_790_000_000.125)
    try store.createRun(
      RunRecord(
        id: "r-csv", suite: "s", suitePath: nil, suiteSHA256: "0", label: nil, seed: 1, trials: 3, status: .completed,
        startedAt: started, evalhVersion: nil, host: nil, gitCommit: nil, configJSON: "{}",
        plan: RunPlan(agents: agents, tasks: tasks.map { .init(id: $0, trials: plannedTrials) })),
      tasks: [])
    let outputs: [String?] = [
      #""shipped""#, #""a, \"b\"\nc""#, #"{"k":[1,2.5,null]}"#, nil, #""=1+1""#,
      "\"" + String(repeating: "é", count: 1200) + "\"",
      #""tab\there""#, "[\"" + String(repeating: "x", count: 1100) + "\"]", #""""#,
    ]
    var n = 0
    for agent in agents {
      for task in tasks {
        for trial in 1...3 {
          n += 1
          try store.insertNow(
            TrialRecord(
              runID: "r-csv", agent: agent, taskID: task, trial: trial,
              status: [.pass, .fail, .error, .timeout][n % 4],
              errorKind: n % 4 == 2 ? .agentExit : nil, efficacyPass: n % 3 == 0 ? nil : n % 2 == 0,
              efficacyScore: n % 5 == 0 ? nil : Double(n) / 7, violations: n % 3,
              latencyMs: 1000 / Double(n) + 0.03100000000000002,
              inputTokens: n % 2 == 0 ? n * 100 : nil, outputTokens: n % 3 == 0 ? nil : n,
              costUSD: n % 4 == 0 ? nil : Double(n) * 1e-5,
              attempts: 1 + n % 2, seed: Int64(n) * 1_000_003 - 500, outputJSON: outputs[n % outputs.count],
              startedAt: started + Double(n), finishedAt: started + Double(n) + 1))
        }
      }
    }
    return (store, try store.resolve("r-csv"))
  }

  /// trials.csv through the renderer of the other files' cells, from the trial records.
  func reference(_ store: ResultStore) throws -> String {
    let stored = try store.trials(runID: "r-csv")
    let rows = stored.sorted {
      ($0.agent, $0.condition, $0.taskID, $0.trial) < ($1.agent, $1.condition, $1.taskID, $1.trial)
    }.map {
      t -> [CSVExport.Cell] in
      let output = t.outputJSON.map { json in String((JSONValue.stringLiteral(json) ?? json).prefix(1000)) }
      return [
        .text(t.runID), .text(t.agent), .text(t.taskID), .integer(t.trial), .text(t.status.rawValue),
        .text(t.errorKind?.rawValue),
        .bool(t.efficacyPass), .number(t.efficacyScore), .integer(t.violations), .number(t.latencyMs),
        .integer(t.inputTokens),
        .integer(t.outputTokens), .number(t.costUSD), .integer(t.attempts), .integer(Int(t.seed)),
        .text(Timestamp.format(t.startedAt)), .text(output), .text(t.condition), .integer(t.variant),
      ]
    }
    return CSVExport.table(CSVExport.trialColumns, rows)
  }

  @Test func trialsFileMatchesTheStoredTrials() throws {
    let folder = NSTemporaryDirectory() + "evalh-trials-csv-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (store, run) = try storedRun(folder, agents: ["zeta", "alpha", "mid"], tasks: ["t,1", "=t2"])
    try CSVExport.write(run, store: store, to: folder + "/csv")
    #expect(try String(contentsOfFile: folder + "/csv/trials.csv", encoding: .utf8) == reference(store))
    #expect(try store.trials(runID: "r-csv").count == 18)
    // Only the four files (no tools, no conditions): the part files are gone.
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder + "/csv").sorted() == [
        "passk.csv", "summary.csv", "tasks.csv", "trials.csv",
      ])
  }

  /// One agent of a large plan is read in task ranges side by side (on a machine of more than one core):
  /// the file and the metrics are those of one whole read.
  @Test func anAgentReadInRangesReadsAsAWhole() throws {
    let folder = NSTemporaryDirectory() + "evalh-trials-ranges-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let tasks = ["b", "a", "é", "Z", "a b", "z", "ab", "t-10", "t-9", "ü"]
    let (store, run) = try storedRun(folder, agents: ["solo"], tasks: tasks, plannedTrials: 20_000)
    let scans = try RunReport.parts(of: run, in: store)
    #expect(scans.count == min(2, ProcessInfo.processInfo.activeProcessorCount))
    try CSVExport.write(run, store: store, to: folder + "/csv")
    #expect(try String(contentsOfFile: folder + "/csv/trials.csv", encoding: .utf8) == reference(store))
    // The merged ranges against one whole read of the agent.
    let whole = try store.trialTally(runID: "r-csv", agent: "solo", slaLimitMs: nil)
    let wholeMetrics = AgentMetrics(
      agent: "solo", tally: whole.tally, planned: run.plan.plannedByTask, violationsByCheck: whole.violationsByCheck,
      withIntervals: false)
    let report = try RunReport.load(run, from: store, withIntervals: false)
    let split = try #require(report.agents.first?.metrics)
    #expect(split.trials == 30 && split.trials == wholeMetrics.trials)
    #expect(split.tasks.map(\.taskID) == wholeMetrics.tasks.map(\.taskID))
    #expect(split.tasks.map(\.passes) == wholeMetrics.tasks.map(\.passes))
    #expect(split.tasks.map(\.firstRun) == wholeMetrics.tasks.map(\.firstRun))
    #expect(split.successRate == wholeMetrics.successRate && split.firstRunSuccess == wholeMetrics.firstRunSuccess)
    #expect(split.passHatK == wholeMetrics.passHatK && split.latencySamples == wholeMetrics.latencySamples)
    #expect(split.errors == wholeMetrics.errors && split.violations == wholeMetrics.violations)
    #expect(split.costTotalUSD == wholeMetrics.costTotalUSD)
  }

  /// Ranges cover every task id once, in SQLite's byte order, whatever the ids.
  @Test func rangesSplitAtPlannedTasks() {
    #expect(TaskRange.split(["a", "b"], into: 1) == [TaskRange()])
    #expect(TaskRange.split(["a"], into: 2) == [TaskRange()])
    #expect(
      TaskRange.split(["d", "b", "a", "c"], into: 2) == [
        TaskRange(lower: nil, upper: "c"), TaskRange(lower: "c", upper: nil),
      ])
    // "Z" < "a" < "é" in bytes (a String comparison could say otherwise for other scripts).
    #expect(
      TaskRange.split(["é", "a", "Z"], into: 3)
        == [TaskRange(lower: nil, upper: "a"), TaskRange(lower: "a", upper: "é"), TaskRange(lower: "é", upper: nil)])
  }
}
