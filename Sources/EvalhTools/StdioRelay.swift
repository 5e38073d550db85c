import Foundation
import MCP

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `evalh mcp-stdio`: relays an MCP stdio session (newline-delimited JSON-RPC on stdin and stdout)
/// to a trial's Streamable HTTP endpoint, message for message, with the SDK's two transports. For
/// agents whose MCP client can only launch a server.
public enum StdioRelay {
  /// Relays until stdin ends (the client closed the session) or the endpoint goes away.
  public static func run(endpoint: URL) async throws {
    let local = StdioTransport()
    let remote = HTTPClientTransport(endpoint: endpoint, streaming: false)
    try await local.connect()
    try await remote.connect()
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        for try await message in await local.receive() { try await remote.send(message) }
      }
      group.addTask {
        for try await message in await remote.receive() { try await local.send(message) }
      }
      // The client's side ending ends the session.
      try await group.next()
      group.cancelAll()
    }
    await remote.disconnect()
    await local.disconnect()
  }
}
