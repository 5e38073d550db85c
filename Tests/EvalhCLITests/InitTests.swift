import Foundation
import Testing

/// `evalh init`: a first suite that validates and runs as written, and overwrites nothing.
@Suite struct InitTests {
  @Test(.enabled(if: pythonAvailable)) func theScaffoldValidatesAndRunsWithOnlyPython() async throws {
    let box = Sandbox()
    let made = try await box.evalh(["init", "first"])
    #expect(made.code == 0, "\(made.stderr)")
    #expect(made.stdout.contains("evalh run first/suite.yaml"))
    for file in ["suite.yaml", "agent.py", "README.md", "suite.schema.json"] {
      #expect(FileManager.default.fileExists(atPath: box.path + "/first/" + file), "\(file)")
    }
    #expect(FileManager.default.isExecutableFile(atPath: box.path + "/first/agent.py"))
    let suite = try String(contentsOfFile: box.path + "/first/suite.yaml", encoding: .utf8)
    #expect(suite.hasPrefix("# yaml-language-server: $schema=suite.schema.json\n"))
    let checked = await runTool([
      pythonWithMCP, packageRoot + "/Tests/Clients/check_suite_schema.py", box.path + "/first/suite.schema.json",
      box.path + "/first/suite.yaml",
    ])
    #expect(checked.code == 0, "\(checked.stdout)")
    #expect(try await box.evalh(["validate", "first/suite.yaml"]).code == 0)
    let run = try await box.evalh(["run", "first/suite.yaml", "--db", box.db, "--no-progress", "--json"])
    #expect(run.code == 0, "\(run.stderr)")
    let json = try parseJSON(run.stdout)
    let agent = try #require((json["agents"] as? [[String: Any]])?.first)
    // The bundled answers pass every grader but for the agent's rare seeded misses.
    let success = (agent["metrics"] as? [String: Any])?["success_rate"] as? Double ?? 0
    #expect(success > 0.8, "\(success)")
    #expect(agent["task_count"] as? Int == 4)
    // A second init into the same folder writes nothing and says why.
    let again = try await box.evalh(["init", "first"])
    #expect(again.code == 2 && again.stderr.contains("already exist"))
  }

  @Test func theHTTPScaffoldRunsAgainstAnOpenAICompatibleServer() async throws {
    let box = Sandbox()
    let (server, url) = try HTTPTests().startStandIn()
    defer { server.terminate() }
    let made = try await box.evalh(["init", "chat", "--http", url + "/v1", "--model", "support-small"])
    #expect(made.code == 0, "\(made.stderr)")
    #expect(!FileManager.default.fileExists(atPath: box.path + "/chat/agent.py"))
    #expect(try await box.evalh(["validate", "chat/suite.yaml"]).code == 0)
    let run = try await box.evalh(
      ["run", "chat/suite.yaml", "--db", box.db, "--no-progress", "--trials", "2"],
      environment: ["OPENAI_BASE_URL": "", "OPENAI_MODEL": ""])
    #expect(run.code == 0, "\(run.stderr)")
    #expect(run.stdout.contains("4 tasks × 2 trials (8 trials, 0 errors)"), "\(run.stdout)")
    #expect(try await box.evalh(["init", "x", "--http", "ftp://host"]).code == 2)
  }
}
