import ArgumentParser
import EvalhTraces

/// `--otlp URL` and `--otlp-json`: where `run` and `export` send the trials' traces.
struct OTLPOptions: ParsableArguments {
  @Option(
    help:
      "Send one trace per trial to this OTLP/HTTP receiver (a base URL such as http://localhost:4318, or env for OTEL_EXPORTER_OTLP_ENDPOINT)."
  )
  var otlp: String?

  @Flag(name: .customLong("otlp-json"), help: "Send OTLP as JSON instead of protobuf.")
  var otlpJSON = false

  /// The exporter asked for; nil without `--otlp`; exit 2 for an endpoint that cannot be used.
  func exporter() throws -> OTLPExporter? {
    guard let otlp else { return nil }
    switch OTLPExporter.make(endpoint: otlp, json: otlpJSON) {
    case .success(let exporter): return exporter
    case .failure(let error): throw Failure(error.description, code: 2)
    }
  }
}
