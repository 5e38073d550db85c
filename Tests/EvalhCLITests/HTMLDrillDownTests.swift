import Foundation
import FoundationXML
import Testing

/// The HTML report lets a reader click from a failing task to why its trials failed, offline and
/// escaped, and stays bounded however many tasks fail.
@Suite struct HTMLDrillDownTests {
  @Test func failingTasksOpenOntoTheirTrialsAndTheListIsBounded() async throws {
    let box = Sandbox()
    box.write(
      "agent.sh",
      """
      #!/bin/sh
      cat > /dev/null
      if [ "$EVALH_TASK_ID" = t-ok ]; then echo '{"output":"fine"}'; exit 0; fi
      echo '{"output":"<script>alert(1)</script> nope"}'
      echo 'a warning on stderr' >&2
      """, executable: true)
    var yaml = "name: drill\ntrials: 2\nconcurrency: 8\nagent: { subprocess: { command: [./agent.sh] } }\ntasks:\n"
    yaml += "  - { id: t-ok, input: x, expect: [{ contains: fine }] }\n"
    for i in 1...(TrialDetailsLimit.value + 30) {
      yaml += "  - { id: t-\(i), input: x, expect: [{ contains: fine }], assure: [{ not_contains: nope }] }\n"
    }
    box.write("suite.yaml", yaml)
    #expect(try await box.evalh(["run", "suite.yaml", "--db", box.db, "--no-progress"]).code == 0)
    let page = box.path + "/report.html"
    #expect(try await box.evalh(["report", "--format", "html", "--db", box.db, "--output", page]).code == 0)
    let html = try String(contentsOfFile: page, encoding: .utf8)
    let xml = try XMLDocument(data: Data(html.utf8), options: [])
    let details = try xml.nodes(forXPath: "//*[local-name()='details'][@class='task']")
    #expect(details.count == TrialDetailsLimit.value)
    #expect(html.contains("30 more failing or flaky tasks are left out"))
    #expect(!html.contains("<details class=\"task\"><summary><b>t-ok</b>"))  // a passing task has none
    // One task opened: both trials, the grader's verdict with its reason, the check, output, stderr.
    let first = try #require(details.first?.xmlString)
    #expect(first.contains("trial 1") && first.contains("trial 2"))
    #expect(first.contains("✗ expect contains") && first.contains("✗ assure not_contains"))
    #expect(first.contains("&lt;script&gt;alert(1)&lt;/script&gt; nope") && first.contains("a warning on stderr"))
    #expect(!html.contains("<script"))  // no script at all: the details open without one
  }
}

/// The drill-down's task limit, as docs/reading-the-report.md states it.
enum TrialDetailsLimit {
  static let value = 200
}
