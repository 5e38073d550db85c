import Foundation

/// The printed result: one row per figure, with its floor, ratio and target.
struct Table {
  struct Row {
    var figure: String
    var value: String
    var floor: String
    var ratio: String
    var target: String
    var verdict: String
  }

  var rows: [Row] = []
  var allOK = true

  mutating func add(
    _ figure: String, _ value: String, _ floor: String, ratio: Double?, target: String, met: Bool?, ok: Bool
  ) {
    if !ok { allOK = false }
    let verdict = !ok ? "FAILED" : met.map { $0 ? "met" : "missed" } ?? ""
    rows.append(
      Row(
        figure: figure, value: value, floor: floor, ratio: ratio.map { String(format: "%.0f%%", $0 * 100) } ?? "",
        target: target, verdict: verdict))
  }

  mutating func skip(_ figure: String, why: String) {
    rows.append(Row(figure: figure, value: "skipped", floor: why, ratio: "", target: "", verdict: ""))
  }

  static func header() -> String {
    var info = utsname()
    uname(&info)
    let machine = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let date = ISO8601DateFormatter().string(from: Date())
    return "evalh bench · \(date) · \(ProcessInfo.processInfo.activeProcessorCount) cores \(machine) · "
      + String(format: "%.0f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824) + " · release build"
  }

  func render(header: String) -> String {
    let titles = Row(figure: "figure", value: "evalh", floor: "floor", ratio: "ratio", target: "target", verdict: "")
    let all = [titles] + rows
    func width(_ column: (Row) -> String) -> Int { all.map { column($0).count }.max() ?? 0 }
    let w = [width(\.figure), width(\.value), width(\.floor), width(\.ratio), width(\.target)]
    func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
      let fill = String(repeating: " ", count: max(0, n - s.count))
      return right ? fill + s : s + fill
    }
    var out = "\n" + header + "\n\n"
    for row in all {
      out +=
        pad(row.figure, w[0]) + "  " + pad(row.value, w[1], right: true) + "  " + pad(row.floor, w[2]) + "  "
        + pad(row.ratio, w[3], right: true) + "  " + pad(row.target, w[4]) + "  " + row.verdict + "\n"
    }
    return out
  }
}

enum Fmt {
  static func rate(_ perSecond: Double) -> String {
    let n = Int(perSecond.rounded())
    let digits = String(n)
    var grouped = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { grouped += "," }
      grouped.append(c)
    }
    return grouped + "/s"
  }

  static func ms(_ value: Double) -> String { String(format: "%.3f ms", value) }
}
