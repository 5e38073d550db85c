import EvalhCore
import Foundation

/// Trials' traces sent in batches, one batch in flight at a time (`run --otlp` as trials are
/// recorded, `export --otlp` as they are read). A slow receiver holds no trial up until four
/// batches wait; then `add` waits too, so memory stays bounded. The first batch that fails ends the
/// sending: later trials are only counted, so a receiver that is down or silent costs one timeout,
/// not one per batch (`export --otlp` sends the rest again). The failure is reported at `finish`.
public actor TraceStream {
  let exporter: OTLPExporter
  let suite: String
  let resource: [(String, AttributeValue)]
  let version: String
  private var pending: [Span] = []
  private var trials = 0
  private var sending: Task<Void, Never>?
  private(set) var failure: ExportError?
  /// Whether the sending has ended on a failure (later trials are not sent).
  public var hasFailed: Bool { failure != nil }
  /// Trials whose traces reached the receiver.
  public private(set) var sent = 0

  /// Trials per batch.
  static let batchTrials = 64

  public init(exporter: OTLPExporter, suite: String, version: String) {
    self.exporter = exporter
    self.suite = suite
    self.version = version
    resource = TraceStream.resource(suite: suite, version: version)
  }

  /// The resource every evalh trace carries (each trial span names its run).
  public static func resource(suite: String, version: String) -> [(String, AttributeValue)] {
    [("service.name", .string("evalh")), ("service.version", .string(version)), ("evalh.suite", .string(suite))]
  }

  /// Adds a trial; sends a batch once enough have gathered.
  public func add(_ trial: TrialRecord) async {
    guard failure == nil else { return }
    pending += TrialTrace.spans(trial, suite: suite)
    trials += 1
    if trials >= Self.batchTrials, sending == nil { flushInBackground() }
    while trials >= 4 * Self.batchTrials, let task = sending { await task.value }
  }

  private func flushInBackground() {
    let batch = TraceBatch(spans: pending, resource: resource, scope: ("evalh", version))
    let count = trials
    pending = []
    trials = 0
    let exporter = exporter
    sending = Task {
      let result: ExportError?
      do throws(ExportError) {
        try await exporter.send(batch)
        result = nil
      } catch {
        result = error
      }
      self.sent(count, result)
    }
  }

  private func sent(_ count: Int, _ error: ExportError?) {
    sending = nil
    guard let error else {
      sent += count
      if trials >= Self.batchTrials { flushInBackground() }
      return
    }
    failure = error
    pending = []
    trials = 0
  }

  /// Sends what is left and waits for it; the first failure, if any.
  public func finish() async -> ExportError? {
    while let task = sending { await task.value }
    if trials > 0, failure == nil { flushInBackground() }
    while let task = sending { await task.value }
    await exporter.shutdown()
    return failure
  }
}
