import EvalhCore
import EvalhStore

/// The HTML report's robustness sections (a run with conditions): the conditions side by side, the
/// reliability surface (pass^k per condition) and recovery per fault kind.
extension HTMLReport {
  /// A robustness section: the conditions side by side, the reliability surface, recovery per fault kind.
  static func robustnessSection(_ s: Robustness, run: RunRecord) -> String {
    let x = Escape.xml
    var out = "<table class=\"kv\"><tr><td><b>condition</b></td><td><b>success</b></td><td><b>sustained</b></td>"
    out += "<td><b>fault cliff</b></td><td><b>recovery</b></td><td><b>calls/trial</b></td><td><b>retries</b></td>"
    out += "<td><b>repeated writes</b></td></tr>"
    for a in s.conditions {
      let m = a.metrics
      let u = a.toolUse
      out += "<tr><td>\(x(m.condition))</td>"
      out +=
        "<td>\(pct(m.successRate, digits: 1)) <span class=\"ci\">\(x(m.intervals.successRate.map { Fmt.interval(($0.low, $0.high)) } ?? ""))</span></td>"
      out +=
        "<td>\(pct(m.sustainedSuccess, digits: 1)) <span class=\"ci\">\(x(m.intervals.sustainedSuccess.map { Fmt.interval(($0.low, $0.high)) } ?? ""))</span></td>"
      out += "<td>\(m.faultCliff.map { pct($0) } ?? "–")</td><td>\(m.recoveryRate.map { pct($0) } ?? "–")</td>"
      out += "<td>\(x(u?.callsPerTrial.map { String(format: "%.1f", $0) } ?? "–"))</td>"
      out += "<td>\(u.map { "\($0.retriesAfterFault)" } ?? "–")</td>"
      out +=
        "<td>\(u.map { "\($0.repeatedWrites) (\($0.repeatsAfterLostResponse) after lost_response)" } ?? "–")</td></tr>"
    }
    out += "</table>"
    out += reliabilityCurve(RunReport(run: run, agents: s.conditions), withPassAt: false)
    if !s.recovery.isEmpty { out += recoveryBars(s.recovery) }
    for t in s.variants {
      out += "<p class=\"note\">Variants of <b>\(x(t.task))</b>: "
      out += t.variants.map { "#\($0.variant) \($0.count.passed)/\($0.count.trials)" }.joined(separator: " · ")
      out += " (worst #\(t.worst))</p>"
    }
    return out
  }

  /// Recovery per fault kind: a bar per kind with its 95% interval as a whisker.
  static func recoveryBars(_ kinds: [Robustness.KindRecovery]) -> String {
    let rowHeight = 26.0
    let labelWidth = 130.0
    let width = 720.0
    let plot = width - labelWidth - 150
    let height = rowHeight * Double(kinds.count) + 24
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Fmt.whole(width))\" height=\"\(Fmt.whole(height))\" viewBox=\"0 0 \(Fmt.whole(width)) \(Fmt.whole(height))\" role=\"img\">"
    for (i, k) in kinds.enumerated() {
      let y = Double(i) * rowHeight + 4
      let rate = k.count.rate ?? 0
      out += "<text x=\"0\" y=\"\(f(y + 15))\">\(Escape.xml(k.kind))</text>"
      out +=
        "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(max(2, rate * plot)))\" height=\"16\" fill=\"#009E73\"><title>\(Escape.xml(k.kind)): \(k.count.passed) of \(k.count.trials) trials passed</title></rect>"
      if let interval = k.interval {
        out +=
          "<line x1=\"\(f(labelWidth + interval.low * plot))\" x2=\"\(f(labelWidth + interval.high * plot))\" y1=\"\(f(y + 11))\" y2=\"\(f(y + 11))\" stroke=\"#1d2330\" stroke-width=\"1.5\"/>"
      }
      out +=
        "<text x=\"\(f(labelWidth + plot + 10))\" y=\"\(f(y + 15))\">\(Escape.xml(Robustness.shown(k.count, k.interval)))</text>"
    }
    out +=
      "<text x=\"\(f(labelWidth))\" y=\"\(f(height - 4))\">recovery: trials in which the fault fired that still passed (bar), 95% interval (line)</text>"
    return out + "</svg>"
  }
}
