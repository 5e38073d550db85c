import EvalhAgents
import EvalhCore
import Foundation
import MCP
import SystemPackage

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// One of the suite's existing MCP servers, as one trial reaches it: a stdio server started for
/// the trial (so state never leaks between trials) or a Streamable HTTP server (shared by every
/// trial), through the Swift SDK's client. Its tools are served as the trial's own; a server that
/// does not start, hangs or answers garbage fails the call as the suite's fault.
actor MCPUpstream {
  let spec: MCPServerSpec
  private let client = Client(name: "evalh", version: "1")
  private var process: ServerProcess?
  /// Seconds evalh waits for the server to start or answer one call.
  let timeout: Double

  init(spec: MCPServerSpec, timeout: Double) {
    self.spec = spec
    self.timeout = timeout
  }

  /// Starts (stdio) or reaches (URL) the server and lists its tools, restricted to `spec.tools`.
  func connect(stateDir: String) async throws(ToolSetupFailure) -> [ToolSpec] {
    let transport: any Transport
    switch spec.transport {
    case .command(let argv, let cwd, let env):
      var environment = ProcessInfo.processInfo.environment
      for (key, value) in env { environment[key] = value.replacingOccurrences(of: "{{state_dir}}", with: stateDir) }
      environment["EVALH_STATE_DIR"] = stateDir
      switch ServerProcess.start(argv, cwd: cwd, environment: environment) {
      case .failure(let failure): throw ToolSetupFailure("MCP server '\(spec.name)' did not start: \(failure.message)")
      case .success(let started):
        process = started
        transport = StdioTransport(
          input: FileDescriptor(rawValue: started.stdout), output: FileDescriptor(rawValue: started.stdin))
      }
    case .url(let address):
      guard let url = URL(string: address) else { throw ToolSetupFailure("MCP server '\(spec.name)': bad url") }
      transport = HTTPClientTransport(endpoint: url, streaming: false)
    }
    let client = self.client
    let listed: [Tool]
    do {
      listed = try await within(timeout, "start and list its tools") {
        _ = try await client.connect(transport: transport)
        return try await client.listTools().tools
      }
    } catch {
      throw ToolSetupFailure(message(error))
    }
    let wanted = spec.tools.map(Set.init)
    if let wanted, case let missing = wanted.subtracting(listed.map(\.name)), !missing.isEmpty {
      throw ToolSetupFailure(
        "MCP server '\(spec.name)' has no tool \(missing.sorted().map { "'\($0)'" }.joined(separator: ", "))")
    }
    return listed.filter { wanted?.contains($0.name) ?? true }.map { tool in
      let input = (try? JSONSchema(MCPShapes.json(tool.inputSchema))) ?? Self.anything
      return ToolSpec(
        name: tool.name, description: tool.description ?? "", inputSchema: input,
        outputSchema: tool.outputSchema.flatMap { try? JSONSchema(MCPShapes.json($0)) },
        annotations: ToolAnnotations(
          readOnly: tool.annotations.readOnlyHint, destructive: tool.annotations.destructiveHint,
          idempotent: tool.annotations.idempotentHint, openWorld: tool.annotations.openWorldHint),
        handler: .proxied(server: spec.name))
    }
  }

  /// Forwards one call; the result as graders see it (tools.md): `structuredContent`, else the
  /// text parsed as JSON, else the text.
  func call(_ name: String, arguments: JSONValue) async -> ToolHandlers.Outcome {
    let client = self.client
    let args = arguments.objectValue?.mapValues(MCPShapes.value) ?? [:]
    do {
      let result = try await within(timeout, "answer '\(name)'") {
        try await client.callTool(name: name, arguments: args).value
      }
      var text = ""
      for case .text(let t, _, _) in result.content { text += t }
      let value = result.structuredContent.map(MCPShapes.json) ?? JSONValue.parse(text) ?? .string(text)
      return .answered(value, isError: result.isError ?? false)
    } catch let error as MCPError {
      // A JSON-RPC error is the server's answer: the agent sees it, as from any server.
      if case .invalidParams(let detail) = error {
        return .answered(.string(detail ?? "invalid params"), isError: true)
      }
      return .failed(message(error))
    } catch {
      return .failed(message(error))
    }
  }

  /// Ends the trial's server: its whole process group for a stdio one.
  func stop() async {
    await client.disconnect()
    await process?.stop()
    process = nil
  }

  private func message(_ error: any Error) -> String {
    var text = "MCP server '\(spec.name)': \(error)"
    if let tail = process?.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines), !tail.isEmpty {
      text += " (stderr: \(VisibleText.of(String(tail.suffix(300)))))"
    }
    return text
  }

  /// `work`, or a timeout error after `seconds`; the server is stopped on a timeout, so the
  /// abandoned call ends too.
  private func within<T: Sendable>(_ seconds: Double, _ what: String, _ work: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    let process = self.process
    return try await withCheckedThrowingContinuation { continuation in
      let once = Once(continuation)
      Task {
        do { once.resume(.success(try await work())) } catch { once.resume(.failure(error)) }
      }
      Task {
        try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        if once.resume(.failure(ToolSetupFailure("did not \(what) within \(Durations.format(seconds))"))) {
          await process?.stop(grace: 0.2)
        }
      }
    }
  }

  static let anything: JSONSchema = {
    // `{}` accepts every instance; it cannot fail to compile.
    (try? JSONSchema(.object([:]))) ?? { fatalError("the empty schema compiles") }()
  }()
}

/// Resumes a continuation at most once; says whether this call did.
final class Once<T: Sendable>: @unchecked Sendable {
  // The lock guards `continuation`.
  private let lock = NSLock()
  private var continuation: CheckedContinuation<T, any Error>?

  init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = continuation }

  @discardableResult func resume(_ result: Result<T, any Error>) -> Bool {
    lock.lock()
    let pending = continuation
    continuation = nil
    lock.unlock()
    pending?.resume(with: result)
    return pending != nil
  }
}

/// The suite's tools could not be set up for a trial (a server that did not start): a `tool` error.
public struct ToolSetupFailure: Error, Sendable, CustomStringConvertible {
  /// For people.
  public let message: String
  init(_ message: String) { self.message = message }
  /// The message.
  public var description: String { message }
}
