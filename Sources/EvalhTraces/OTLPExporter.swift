import AsyncHTTPClient
import EvalhCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sends trace batches to an OTLP/HTTP receiver: `POST …/v1/traces`, protobuf (the default, which
/// every receiver accepts) or JSON, with `OTEL_EXPORTER_OTLP_HEADERS`' headers, each within
/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds; 10 s by default, as the OTLP exporter specification says).
public final class OTLPExporter: Sendable {
  /// Where batches go.
  public let url: String
  /// JSON instead of protobuf.
  public let json: Bool
  /// Extra headers (authentication, a tenant).
  public let headers: [(String, String)]
  /// How long one batch may take, connection included, in milliseconds.
  public let timeoutMilliseconds: Int64
  private let client: HTTPClient

  /// An exporter to `endpoint`: an OTLP base URL (`http://host:4318`, `/v1/traces` is appended) or
  /// the traces URL itself; `env` reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
  /// `OTEL_EXPORTER_OTLP_ENDPOINT`. Nil with the reason when there is no usable URL.
  public static func make(
    endpoint: String, json: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> Result<OTLPExporter, ExportError> {
    var url = endpoint
    if endpoint == "env" {
      if let traces = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
        url = traces
      } else if let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
        url = base
      } else {
        return .failure(
          ExportError("--otlp env: neither OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor OTEL_EXPORTER_OTLP_ENDPOINT is set"))
      }
    }
    guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
      return .failure(ExportError("--otlp \(url) is not an http(s) URL"))
    }
    if !parsed.path.hasSuffix("/v1/traces") {
      url = (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/v1/traces"
    }
    var timeout: Int64 = 10_000
    if let name = ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"].first(where: {
      !(environment[$0] ?? "").isEmpty
    }), let text = environment[name] {
      guard let milliseconds = Int64(text), milliseconds > 0 else {
        return .failure(ExportError("\(name)=\(text) is not a whole number of milliseconds"))
      }
      timeout = milliseconds
    }
    return .success(
      OTLPExporter(
        url: url, json: json, headers: headers(environment["OTEL_EXPORTER_OTLP_HEADERS"]), timeout: timeout))
  }

  init(url: String, json: Bool, headers: [(String, String)], timeout milliseconds: Int64) {
    self.url = url
    self.json = json
    self.headers = headers
    timeoutMilliseconds = milliseconds
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .milliseconds(min(10_000, milliseconds)))
    client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
  }

  /// `key=value,key2=value2`, values percent-decoded (the OTel specification's format).
  static func headers(_ text: String?) -> [(String, String)] {
    guard let text else { return [] }
    return text.split(separator: ",").compactMap { pair in
      let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2, !parts[0].isEmpty else { return nil }
      return (parts[0], parts[1].removingPercentEncoding ?? parts[1])
    }
  }

  /// The statuses the OTLP specification calls retryable: the receiver is busy, try again.
  static let retryable: Set<UInt> = [429, 502, 503, 504]
  /// How many times a batch answered with one of them is sent again.
  static let retries = 2

  /// Sends one batch, again after a retryable status (waiting its `Retry-After`, at most 5 s);
  /// a refusal, silence past the timeout or no connection is an error naming the URL and why.
  public func send(_ batch: TraceBatch) async throws(ExportError) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: json ? "application/json" : "application/x-protobuf")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let body = json ? Array(batch.json.compactText.utf8) : batch.protobuf
    request.body = .bytes(ByteBuffer(bytes: body))
    for attempt in 0...Self.retries {
      let (status, retryAfter) = try await post(request)
      if (200..<300).contains(status.code) { return }
      guard Self.retryable.contains(status.code), attempt < Self.retries else {
        throw ExportError("the OTLP receiver at \(url) answered \(status.code) \(status.reasonPhrase)")
      }
      let wait = min(
        5, retryAfter.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 0.5 * Double(attempt + 1))
      try? await Task.sleep(for: .milliseconds(Int(max(0, wait) * 1000)))
    }
  }

  /// One POST: the answer's status and `Retry-After`.
  private func post(_ request: HTTPClientRequest) async throws(ExportError) -> (HTTPResponseStatus, String?) {
    do {
      let response = try await client.execute(request, deadline: .now() + .milliseconds(timeoutMilliseconds))
      _ = try? await response.body.collect(upTo: 1 << 20)
      return (response.status, response.headers.first(name: "Retry-After"))
    } catch let error as HTTPClientError where [.deadlineExceeded, .connectTimeout].contains(error) {
      throw ExportError(
        "the OTLP receiver at \(url) did not answer within \(Durations.format(Double(timeoutMilliseconds) / 1000)) (OTEL_EXPORTER_OTLP_TIMEOUT)"
      )
    } catch {
      throw ExportError("cannot send traces to \(url): \(error)")
    }
  }

  /// Closes the connections, waiting at most a second for one still being opened.
  public func shutdown() async {
    await awaitAtMost(.seconds(1)) { [client] in try? await client.shutdown() }
  }
}

/// Why traces could not be sent.
public struct ExportError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
