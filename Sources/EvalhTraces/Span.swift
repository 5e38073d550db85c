import Foundation

/// An attribute's value, as OTLP's `AnyValue` carries it.
public enum AttributeValue: Sendable, Hashable {
  case string(String)
  case bool(Bool)
  case int(Int64)
  case double(Double)
}

/// A span of a trial's trace, in OTLP's terms.
public struct Span: Sendable, Hashable {
  /// OTLP's span kinds evalh uses.
  public enum Kind: Int, Sendable {
    case `internal` = 1
    case client = 3
  }

  /// OTLP's status codes.
  public enum Status: Int, Sendable {
    case unset = 0
    case ok = 1
    case error = 2
  }

  /// A timestamped event on a span.
  public struct Event: Sendable, Hashable {
    public var name: String
    public var time: Date
    public var attributes: [(String, AttributeValue)]

    public static func == (a: Event, b: Event) -> Bool {
      a.name == b.name && a.time == b.time && a.attributes.map(\.0) == b.attributes.map(\.0)
        && a.attributes.map(\.1) == b.attributes.map(\.1)
    }
    public func hash(into h: inout Hasher) {
      h.combine(name)
      h.combine(time)
    }
  }

  /// 16 bytes.
  public var traceID: [UInt8]
  /// 8 bytes.
  public var spanID: [UInt8]
  /// 8 bytes, or empty for the trace's root.
  public var parentID: [UInt8] = []
  public var name: String
  public var kind: Kind = .internal
  public var start: Date
  public var end: Date
  public var attributes: [(String, AttributeValue)] = []
  public var events: [Event] = []
  public var status: Status = .unset
  public var statusMessage: String = ""

  public static func == (a: Span, b: Span) -> Bool {
    a.traceID == b.traceID && a.spanID == b.spanID && a.parentID == b.parentID && a.name == b.name
      && a.start == b.start && a.end == b.end && a.attributes.map(\.0) == b.attributes.map(\.0)
      && a.attributes.map(\.1) == b.attributes.map(\.1) && a.events == b.events && a.status == b.status
  }
  public func hash(into h: inout Hasher) {
    h.combine(traceID)
    h.combine(spanID)
  }
}
