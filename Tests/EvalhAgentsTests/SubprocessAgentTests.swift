import EvalhCore
import Foundation
import Testing

@testable import EvalhAgents

@Suite struct SubprocessAgentTests {
  @Test func envelopeWithUsageAndSteps() async throws {
    let dir = TempDir()
    let script = dir.script(
      "ok.sh",
      #"cat > /dev/null; echo '  {"output":"Order 1234 approved","usage":{"input_tokens":812,"output_tokens":64,"cost_usd":0.00041},"steps":[{"type":"tool_call","name":"lookup","arguments":{"id":"1"},"extra":1}],"error":null}  '"#
    )
    let reply = await agent([script]).run(request(dir), timeout: 10, interruption: nil)
    guard case .answered = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.output == .string("Order 1234 approved"))
    #expect(reply.usage?.inputTokens == 812 && reply.usage?.outputTokens == 64 && reply.usage?.costUSD == 0.00041)
    #expect(reply.steps?.arrayValue?.first?["extra"] == .number(1))
    #expect(reply.attempts == 1 && !reply.truncated)
  }

  @Test func requestOnStdinAndEnvironment() async throws {
    let dir = TempDir()
    let script = dir.script(
      "echo.sh",
      #"read line; printf '%s|%s|%s|%s|%s|%s|%s|%s|%s' "$line" "$EVALH_PROTOCOL" "$EVALH_RUN_ID" "$EVALH_AGENT" "$EVALH_TASK_ID" "$EVALH_TRIAL" "$EVALH_SEED" "$EVALH_WORKDIR" "$EXTRA""#
    )
    let reply = await agent([script], format: .text).run(request(dir), timeout: 10, interruption: nil)
    let parts = try #require(reply.output?.stringValue).split(separator: "|").map(String.init)
    #expect(parts.count == 9)
    let sent = try #require(JSONValue.parse(parts[0]))
    #expect(sent["protocol"] == .string("evalh/1"))
    #expect(sent["task"]?["id"] == .string("t1") && sent["task"]?["input"] == .string("hello"))
    #expect(sent["task"]?["metadata"] == .object(["k": .string("v")]))
    #expect(sent["trial"] == .number(2) && sent["seed"] == .number(1234) && sent["workdir"] == .string(dir.path))
    #expect(Array(parts[1...]) == ["evalh/1", "r-test", "a", "t1", "2", "1234", dir.path, "yes"])
  }

  @Test func textFormatDropsOneTrailingNewline() async {
    let dir = TempDir()
    let script = dir.script("t.sh", #"printf 'line one\n\n'"#)
    let reply = await agent([script], format: .text).run(request(dir), timeout: 10, interruption: nil)
    #expect(reply.output == .string("line one\n"))
    #expect(reply.usage == nil && reply.steps == nil)
  }

  @Test func hangsForeverIsATimeoutAndTheGroupIsKilled() async throws {
    let dir = TempDir()
    let script = dir.script(
      "hang.sh", "sleep 1000 & echo $! > \(dir.path)/child; trap '' TERM; while :; do sleep 1; done")
    let result = await ChildProcess.run(
      ChildSpec(
        argv: [script], cwd: dir.path, environment: ProcessInfo.processInfo.environment, timeout: 0.5, killGrace: 0.5))
    #expect(result.termination == .timedOut)
    // Timeout, then SIGTERM (ignored), then SIGKILL after the grace: about 1 s, measured on the child's thread.
    #expect(result.elapsed >= 1 && result.elapsed < 5)
    let child = try #require(await readPID("\(dir.path)/child"))
    #expect(!isAlive(child))
  }

  @Test func timeoutReportedAtTheTimeout() async {
    let dir = TempDir()
    let script = dir.script("hang.sh", "exec sleep 1000")
    let reply = await agent([script]).run(request(dir), timeout: 0.3, interruption: nil)
    guard case .timedOut = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(reply.latencyMs == 300)
  }

  @Test func grandchildHoldingStdoutDoesNotDelayTheTrial() async throws {
    let dir = TempDir()
    let script = dir.script(
      "fork.sh", #"(sleep 30; echo late) & echo $! > \#(dir.path)/child; echo '{"output":"early"}'; exit 0"#)
    let reply = await agent([script]).run(request(dir), timeout: 20, interruption: nil)
    #expect(reply.latencyMs < 3000)
    #expect(reply.output == .string("early"))
    let child = try #require(await readPID("\(dir.path)/child"))
    #expect(!isAlive(child), "the grandchild outlived its trial")
  }

  @Test func nonZeroExitAndSignals() async {
    let dir = TempDir()
    let exits = dir.script("exit.sh", "echo partial; echo oops >&2; exit 3")
    let a = await agent([exits]).run(request(dir), timeout: 10, interruption: nil)
    guard case .exitError(let message) = a.outcome else {
      Issue.record("\(a.outcome)")
      return
    }
    #expect(message == "exit status 3")
    #expect(a.output == .string("partial\n") && a.stderrTail == "oops\n")
    let killed = dir.script("segv.sh", "kill -SEGV $$")
    let b = await agent([killed]).run(request(dir), timeout: 10, interruption: nil)
    guard case .exitError(let signal) = b.outcome else {
      Issue.record("\(b.outcome)")
      return
    }
    #expect(signal == "killed by SIGSEGV")
  }

  @Test func cannotStart() async {
    let dir = TempDir()
    let missing = await agent(["/nonexistent/agent"]).run(request(dir), timeout: 10, interruption: nil)
    guard case .exitError(let m1) = missing.outcome else {
      Issue.record("\(missing.outcome)")
      return
    }
    #expect(m1.contains("cannot start") && m1.contains("No such file"))
    let file = "\(dir.path)/noexec.sh"
    _ = FileManager.default.createFile(atPath: file, contents: Data("#!/bin/sh\necho hi\n".utf8))
    let noExec = await agent([file]).run(request(dir), timeout: 10, interruption: nil)
    guard case .exitError(let m2) = noExec.outcome else {
      Issue.record("\(noExec.outcome)")
      return
    }
    #expect(m2.contains("Permission denied"))
  }

  @Test func contractErrorsKeepTheRawText() async {
    let dir = TempDir()
    for (body, message) in [
      ("echo 'not json at all'", "stdout is not valid JSON: expected one evalh/1 envelope"),
      (#"echo '{"result":"x"}'"#, "the envelope has no 'output'"),
      ("echo '[1,2]'", "the envelope must be a JSON object"),
      ("true", "empty stdout: expected an evalh/1 envelope"),
    ] {
      let script = dir.script("c.sh", body)
      let reply = await agent([script]).run(request(dir), timeout: 10, interruption: nil)
      guard case .contractError(let m) = reply.outcome else {
        Issue.record("\(reply.outcome)")
        continue
      }
      #expect(m == message)
    }
    let raw = await agent([dir.script("r.sh", "echo 'not json at all'")]).run(
      request(dir), timeout: 10, interruption: nil)
    #expect(raw.output == .string("not json at all\n"))
  }

  @Test func declaredError() async {
    let dir = TempDir()
    let script = dir.script("d.sh", #"echo '{"output":null,"error":"rate limited upstream"}'"#)
    let reply = await agent([script]).run(request(dir), timeout: 10, interruption: nil)
    guard case .declaredError(let m) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(m == "rate limited upstream")
  }

  @Test func hugeOutputIsCutAndMemoryStaysBounded() async throws {
    let dir = TempDir()
    // 1 GiB on stdout and 1 GiB on stderr.
    let script = dir.script(
      "big.sh", "head -c 1073741824 /dev/zero | tr '\\0' 'a'; head -c 1073741824 /dev/zero | tr '\\0' 'b' >&2")
    let result = await ChildProcess.run(
      ChildSpec(argv: [script], cwd: dir.path, environment: ProcessInfo.processInfo.environment, timeout: 120))
    #expect(result.termination == .exited(0))
    #expect(result.stdout.count == 4 << 20 && result.stdoutTruncated)
    #expect(result.stderr.count == 64 << 10 && result.stderr.allSatisfy { $0 == UInt8(ascii: "b") })
    let reply = await agent([dir.script("big2.sh", "head -c 10000000 /dev/zero")], maxOutput: 1000).run(
      request(dir), timeout: 60, interruption: nil)
    #expect(reply.truncated)
    guard case .contractError(let m) = reply.outcome else {
      Issue.record("\(reply.outcome)")
      return
    }
    #expect(m.contains("cut at 1000 bytes"))
  }

  @Test func invalidUTF8IsReplacedNotFatal() async {
    let dir = TempDir()
    let script = dir.script("bytes.sh", #"printf 'ok \377\376 done'; printf 'err \377' >&2"#)
    let reply = await agent([script], format: .text).run(request(dir), timeout: 10, interruption: nil)
    #expect(reply.output == .string("ok \u{FFFD}\u{FFFD} done"))
    #expect(reply.stderrTail == "err \u{FFFD}")
  }

  @Test func agentThatNeverReadsALargeRequestDoesNotDeadlock() async {
    let dir = TempDir()
    let script = dir.script("noread.sh", #"echo '{"output":"ignored stdin"}'"#)
    var big = request(dir)
    big.task.input = .string(String(repeating: "x", count: 4 << 20))
    let reply = await agent([script]).run(big, timeout: 10, interruption: nil)
    #expect(reply.output == .string("ignored stdin"))
  }

  @Test func interruptionEndsTheTrialAndItsGroup() async throws {
    let dir = TempDir()
    let script = dir.script("hang.sh", "sleep 1000 & echo $! > \(dir.path)/child; wait")
    let interruption = Interruption()
    #expect(!interruption.isTriggered)
    async let reply = agent([script]).run(request(dir), timeout: 60, interruption: interruption)
    let child = try #require(await readPID("\(dir.path)/child"))
    interruption.trigger()
    let ended = await reply
    guard case .interrupted = ended.outcome else {
      Issue.record("\(ended.outcome)")
      return
    }
    #expect(ended.latencyMs < 30_000)  // well before its 60 s timeout
    #expect(interruption.isTriggered)
    #expect(!isAlive(child))
  }

  @Test func manyConcurrentTrialsLeaveNoProcessBehind() async throws {
    let dir = TempDir()
    let script = dir.script("bg.sh", #"sleep 60 & echo $! >> \#(dir.path)/children; echo '{"output":1}'"#)
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<40 {
        group.addTask { _ = await agent([script]).run(request(dir), timeout: 10, interruption: nil) }
      }
    }
    let text = try String(contentsOfFile: "\(dir.path)/children", encoding: .utf8)
    let pids = text.split(separator: "\n").compactMap { Int32($0) }
    #expect(pids.count == 40)
    #expect(pids.allSatisfy { !isAlive($0) })
  }
}
