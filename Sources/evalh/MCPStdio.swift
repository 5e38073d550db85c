import ArgumentParser
import EvalhTools
import Foundation

struct MCPStdio: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp-stdio",
    abstract: "Relay an MCP stdio session to the trial's tools (reads EVALH_MCP_URL).",
    discussion: """
      For MCP clients that can only launch a server: configure the server as `evalh mcp-stdio`.
      Every call goes through the trial's endpoint and is recorded like any other.
      """)

  func run() async throws {
    guard let address = ProcessInfo.processInfo.environment["EVALH_MCP_URL"], !address.isEmpty else {
      throw Failure("EVALH_MCP_URL is not set: run this from an agent evalh started for a trial with tools", code: 2)
    }
    guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https" else {
      throw Failure("EVALH_MCP_URL is not an http(s) URL: \(address)", code: 2)
    }
    do {
      try await StdioRelay.run(endpoint: url)
    } catch {
      throw Failure("mcp-stdio: \(error)", code: 1)
    }
  }
}
