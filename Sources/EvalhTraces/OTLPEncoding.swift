import EvalhCore
import Foundation

/// `ExportTraceServiceRequest` (opentelemetry-proto, trace/v1 and collector/trace/v1) of some spans
/// from one service: in protobuf, OTLP/HTTP's default, or in OTLP's JSON mapping.
public struct TraceBatch: Sendable {
  public var spans: [Span]
  /// The resource's attributes (`service.name` first).
  public var resource: [(String, AttributeValue)]
  /// The instrumentation scope: evalh and its version.
  public var scope: (name: String, version: String)

  public init(spans: [Span], resource: [(String, AttributeValue)], scope: (name: String, version: String)) {
    self.spans = spans
    self.resource = resource
    self.scope = scope
  }

  /// The request as protobuf bytes (`application/x-protobuf`).
  public var protobuf: [UInt8] {
    var out = Protobuf()
    out.message(1) { rs in  // ResourceSpans resource_spans = 1
      rs.message(1) { r in Self.attributes(resource, into: &r, field: 1) }  // Resource resource = 1
      rs.message(2) { ss in  // ScopeSpans scope_spans = 2
        ss.message(1) { s in  // InstrumentationScope scope = 1
          s.string(1, scope.name)
          s.string(2, scope.version)
        }
        for span in spans { ss.message(2) { Self.encode(span, into: &$0) } }
      }
    }
    return out.bytes
  }

  static func encode(_ span: Span, into p: inout Protobuf) {
    p.data(1, span.traceID)
    p.data(2, span.spanID)
    p.data(4, span.parentID)
    p.string(5, span.name)
    p.uint(6, UInt64(span.kind.rawValue))
    p.fixed64(7, nanos(span.start))
    p.fixed64(8, nanos(span.end))
    attributes(span.attributes, into: &p, field: 9)
    for event in span.events {
      p.message(11) { e in
        e.fixed64(1, nanos(event.time))
        e.string(2, event.name)
        attributes(event.attributes, into: &e, field: 3)
      }
    }
    if span.status != .unset || !span.statusMessage.isEmpty {
      p.message(15) { s in
        s.string(2, span.statusMessage)
        s.uint(3, UInt64(span.status.rawValue))
      }
    }
  }

  static func attributes(_ list: [(String, AttributeValue)], into p: inout Protobuf, field: Int) {
    for (key, value) in list {
      p.message(field) { kv in
        kv.string(1, key)
        kv.message(2) { v in
          switch value {
          case .string(let s): v.present(1, Array(s.utf8))
          case .bool(let b):
            v.tag(2, .varint)
            v.varint(b ? 1 : 0)
          case .int(let n):
            v.tag(3, .varint)
            v.varint(UInt64(bitPattern: n))
          case .double(let x): v.double(4, x)
          }
        }
      }
    }
  }

  /// Nanoseconds since the epoch.
  static func nanos(_ date: Date) -> UInt64 {
    let seconds = max(0, date.timeIntervalSince1970)
    return UInt64(seconds) * 1_000_000_000 + UInt64(((seconds - seconds.rounded(.down)) * 1e9).rounded())
  }

  /// The request in OTLP's JSON mapping (`application/json`): ids as hex, 64-bit numbers as strings,
  /// enums as numbers, field names in lowerCamelCase.
  public var json: JSONValue {
    func attrs(_ list: [(String, AttributeValue)]) -> JSONValue {
      .array(
        list.map { key, value in
          let v: JSONValue =
            switch value {
            case .string(let s): ["stringValue": .string(s)]
            case .bool(let b): ["boolValue": .bool(b)]
            case .int(let n): ["intValue": .string(String(n))]
            case .double(let x): ["doubleValue": .number(x)]
            }
          return ["key": .string(key), "value": v]
        })
    }
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    let spans: [JSONValue] = spans.map { s in
      var o: [String: JSONValue] = [
        "traceId": .string(hex(s.traceID)), "spanId": .string(hex(s.spanID)), "name": .string(s.name),
        "kind": .number(Double(s.kind.rawValue)), "startTimeUnixNano": .string(String(Self.nanos(s.start))),
        "endTimeUnixNano": .string(String(Self.nanos(s.end))), "attributes": attrs(s.attributes),
        "events": .array(
          s.events.map { e in
            [
              "timeUnixNano": .string(String(Self.nanos(e.time))), "name": .string(e.name),
              "attributes": attrs(e.attributes),
            ]
          }),
        "status": ["code": .number(Double(s.status.rawValue)), "message": .string(s.statusMessage)],
      ]
      if !s.parentID.isEmpty { o["parentSpanId"] = .string(hex(s.parentID)) }
      return .object(o)
    }
    return [
      "resourceSpans": [
        [
          "resource": ["attributes": attrs(resource)],
          "scopeSpans": [
            ["scope": ["name": .string(scope.name), "version": .string(scope.version)], "spans": .array(spans)]
          ],
        ]
      ]
    ]
  }
}
