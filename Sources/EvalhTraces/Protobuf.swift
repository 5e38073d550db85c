/// The protobuf wire format, the little of it OTLP traces use: varints, fixed64 and length-delimited
/// fields. Written here rather than generated with swift-protobuf: OTLP's trace messages need
/// seven message types and five field encodings, and generated code would need `protoc` to build.
struct Protobuf {
  private(set) var bytes: [UInt8] = []

  enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
  }

  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func tag(_ field: Int, _ type: WireType) { varint(UInt64(field) << 3 | UInt64(type.rawValue)) }

  /// A varint field (ints, bools, enums); zero is the default and is left out, as proto3 does.
  mutating func uint(_ field: Int, _ value: UInt64) {
    guard value != 0 else { return }
    tag(field, .varint)
    varint(value)
  }

  mutating func fixed64(_ field: Int, _ value: UInt64) {
    guard value != 0 else { return }
    tag(field, .fixed64)
    for i in 0..<8 { bytes.append(UInt8((value >> (8 * UInt64(i))) & 0xFF)) }
  }

  mutating func double(_ field: Int, _ value: Double) {
    tag(field, .fixed64)
    let bits = value.bitPattern
    for i in 0..<8 { bytes.append(UInt8((bits >> (8 * UInt64(i))) & 0xFF)) }
  }

  mutating func data(_ field: Int, _ value: [UInt8]) {
    guard !value.isEmpty else { return }
    tag(field, .lengthDelimited)
    varint(UInt64(value.count))
    bytes += value
  }

  mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

  /// A length-delimited field written even when empty: a member of a `oneof` (an empty string value).
  mutating func present(_ field: Int, _ value: [UInt8]) {
    tag(field, .lengthDelimited)
    varint(UInt64(value.count))
    bytes += value
  }

  /// A nested message, written even when empty (a present message differs from an absent one).
  mutating func message(_ field: Int, _ build: (inout Protobuf) -> Void) {
    var inner = Protobuf()
    build(&inner)
    tag(field, .lengthDelimited)
    varint(UInt64(inner.bytes.count))
    bytes += inner.bytes
  }
}
