import Foundation
import FoundationXML
import Testing

@Suite struct ReportCommandTests {
  @Test func everyFormatFromTheBinary() async throws {
    let box = Sandbox()
    _ = try await box.evalh([
      "run", box.tinySuite(trials: 4), "--db", box.db, "--run-id", "r-f", "--seed", "2", "--no-progress",
    ])
    let md = try await box.evalh(["report", "r-f", "--format", "markdown", "--db", box.db])
    #expect(md.code == 0 && md.stdout.hasPrefix("## evalh · tiny"))
    let junit = try await box.evalh(["report", "--format", "junit", "--db", box.db])
    #expect(junit.code == 0)
    _ = try XMLDocument(data: Data(junit.stdout.utf8), options: [])
    let file = box.path + "/report.html"
    let html = try await box.evalh(["report", "latest", "--format", "html", "--output", file, "--db", box.db])
    #expect(html.code == 0 && html.stdout.isEmpty)
    let document = try XMLDocument(contentsOf: URL(fileURLWithPath: file), options: [])
    let headings = try document.nodes(forXPath: "//*[local-name()='h2']").compactMap(\.stringValue)
    for title in [
      "Reliability curve", "First run vs sustained", "Cost and success", "Latency", "Failures",
      "Trials of agent default",
    ] {
      #expect(headings.contains(title), "\(title)")
    }
    #expect(try document.nodes(forXPath: "//*[local-name()='svg']").count >= 3)
    let bad = try await box.evalh(["report", "--format", "pdf", "--db", box.db])
    #expect(bad.code == 2)
  }

  @Test func jsonHasTheShapeOfReportsMd() async throws {
    let box = Sandbox()
    let out = try await box.evalh(["run", box.tinySuite(trials: 3), "--db", box.db, "--json", "--no-progress"])
    let json = try parseJSON(out.stdout)
    let agent = try #require((json["agents"] as? [[String: Any]])?.first)
    for key in ["agent", "task_count", "trials", "n_min", "metrics", "intervals", "flaky_tasks", "tasks"] {
      #expect(agent[key] != nil, "agents[].\(key)")
    }
    let metrics = try #require(agent["metrics"] as? [String: Any])
    for key in [
      "success_rate", "first_run_success", "sustained_success", "reliability_cliff", "consistency", "pass_hat_k",
      "pass_at_k",
      "efficacy_rate", "efficacy_score", "assurance_rate", "policy_adherence", "violations", "cost_total_usd",
      "cost_per_trial_usd", "cost_per_success_usd", "cost_unknown_trials", "cna", "latency_ms", "sla_compliance",
      "clear_score", "clear", "errors",
    ] {
      #expect(metrics[key] != nil, "metrics.\(key)")
    }
    #expect(
      Set((metrics["latency_ms"] as? [String: Any])?.keys ?? [:].keys) == ["p50", "p90", "p95", "p99", "max", "mean"])
    #expect(
      Set((metrics["errors"] as? [String: Any])?.keys ?? [:].keys) == [
        "timeout", "agent_exit", "agent_declared", "contract", "transport", "grader", "tool",
      ])
    // Unknown is null, never 0: no pricing and no cost reported here.
    #expect(metrics["cost_total_usd"] is NSNull && metrics["sla_compliance"] is NSNull)
    let intervals = try #require(agent["intervals"] as? [String: Any])
    #expect((intervals["success_rate"] as? [Double])?.count == 2)
    let task = try #require((agent["tasks"] as? [[String: Any]])?.first)
    for key in [
      "task_id", "trials", "passes", "first_run", "success_rate", "pass_hat_k", "interval", "latency_p95_ms",
      "cost_per_trial_usd", "violations", "errors",
    ] {
      #expect(task[key] != nil, "tasks[].\(key)")
    }
  }

  @Test func exportWritesTheFourFilesWithExactColumns() async throws {
    let box = Sandbox()
    _ = try await box.evalh(["run", box.tinySuite(trials: 3), "--db", box.db, "--no-progress"])
    let folder = box.path + "/out/csv"
    let out = try await box.evalh(["export", "latest", "--csv", folder, "--db", box.db])
    #expect(out.code == 0, "\(out.stderr)")
    let expected: [String: String] = [
      "summary.csv":
        "run_id,suite,label,agent,started_at,finished_at,tasks,trials_per_task,trials,first_run_success,success_rate,sustained_success,reliability_cliff,consistency,efficacy_rate,assurance_rate,policy_adherence,violations,cost_total_usd,cost_per_trial_usd,cost_per_success_usd,cna,latency_p50_ms,latency_p95_ms,latency_p99_ms,sla_compliance,clear_score,errors,timeouts,seed,first_run_success_low,first_run_success_high,success_rate_low,success_rate_high,sustained_success_low,sustained_success_high,cost_unknown_trials,condition",
      "tasks.csv":
        "run_id,agent,task_id,tags,trials,passes,first_run,success_rate,pass_hat_n,ci_low,ci_high,latency_p50_ms,latency_p95_ms,cost_per_trial_usd,violations,errors,condition",
      "trials.csv":
        "run_id,agent,task_id,trial,status,error_kind,efficacy_pass,efficacy_score,violations,latency_ms,input_tokens,output_tokens,cost_usd,attempts,seed,started_at,output,condition,variant",
      "passk.csv": "run_id,agent,k,pass_hat_k,pass_at_k,condition",
    ]
    for (file, header) in expected {
      let text = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
      let lines = text.components(separatedBy: "\r\n")
      #expect(lines.first == header, "\(file)")
      let columns = header.split(separator: ",").count
      for line in lines.dropFirst() where !line.isEmpty {
        #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == columns, "\(file): \(line)")
      }
    }
    // The summary's intervals are filled, not left empty.
    let summary = try String(contentsOfFile: "\(folder)/summary.csv", encoding: .utf8).components(separatedBy: "\r\n")
    let columns = summary[0].split(separator: ",").map(String.init)
    let row = summary[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    for name in ["success_rate_low", "success_rate_high", "sustained_success_low"] {
      let i = try #require(columns.firstIndex(of: name))
      #expect(Double(row[i]) != nil, "\(name) is empty")
    }
    let trials = try String(contentsOfFile: "\(folder)/trials.csv", encoding: .utf8).components(separatedBy: "\r\n")
    #expect(trials.filter { !$0.isEmpty }.count == 1 + 9)
    #expect(
      try String(contentsOfFile: "\(folder)/passk.csv", encoding: .utf8).components(separatedBy: "\r\n").filter {
        !$0.isEmpty
      }.count == 1 + 3)
  }

  @Test func failUnderGates() async throws {
    let box = Sandbox()
    let suite = box.tinySuite(trials: 4)
    let pass = try await box.evalh([
      "run", suite, "--db", box.db, "--seed", "2", "--fail-under", "success_rate=0.1", "--no-progress",
    ])
    #expect(pass.code == 0)
    let fail = try await box.evalh([
      "run", suite, "--db", box.db, "--seed", "2", "--fail-under", "sustained_success=1", "--fail-under",
      "clear_score=99%",
      "--no-progress",
    ])
    #expect(fail.code == 1)
    #expect(fail.stdout.contains("sustained (pass^4)"), "the summary is printed before the gate")
    #expect(fail.stderr.contains("gate failed: agent default: sustained_success"))
    let unknown = try await box.evalh(["run", suite, "--db", box.db, "--fail-under", "sucess_rate=0.5"])
    #expect(unknown.code == 2)
    #expect(
      unknown.stderr.contains("unknown metric 'sucess_rate'") && unknown.stderr.contains("did you mean 'success_rate'"))
    // Nothing was recorded for the rejected invocation: still two runs.
    let runs = try await box.evalh(["runs", "--json", "--db", box.db])
    #expect((try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [Any])?.count == 2)
  }

  @Test func latestTildeN() async throws {
    let box = Sandbox()
    let suite = box.tinySuite(trials: 1)
    for id in ["r-1", "r-2", "r-3"] {
      _ = try await box.evalh(["run", suite, "--db", box.db, "--run-id", id, "--no-progress"])
    }
    let json = try await box.evalh(["report", "latest~2", "--format", "json", "--db", box.db])
    #expect(((try parseJSON(json.stdout))["run"] as? [String: Any])?["id"] as? String == "r-1")
    let tooFar = try await box.evalh(["report", "latest~3", "--db", box.db])
    #expect(tooFar.code == 2 && tooFar.stderr.contains("has only 3 run(s)"))
    let empty = Sandbox()
    _ = try await empty.evalh(["run", empty.tinySuite(), "--db", empty.db, "--task", "nope"])
    let none = try await empty.evalh(["report", "--db", empty.db])
    #expect(none.code == 2)
  }
}
