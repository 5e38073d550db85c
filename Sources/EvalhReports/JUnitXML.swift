import EvalhStore
import Foundation

/// A JUnit document in the shape both published schemas accept (the Jenkins xunit plugin's
/// `junit-10.xsd` and windyroad's Ant `JUnit.xsd`): `<testsuites>` with no attributes; each
/// `<testsuite>` with `name package id tests failures errors skipped time timestamp hostname`,
/// then `<properties>`, its test cases, `<system-out>` and `<system-err>`; a test case holds at
/// most one of `<failure>`, `<error>` or `<skipped>`. The counts are computed from the cases,
/// so they cannot disagree with them.
struct JUnitXML {
  /// How one test case ended.
  enum Outcome {
    case passed
    /// Answered, and the answer was wrong.
    case failure(type: String, message: String, detail: String)
    /// Could not be judged on an answer: errors or timeouts.
    case error(type: String, message: String, detail: String)
    case skipped(message: String)
  }

  struct TestCase {
    var classname: String
    var name: String
    var seconds: Double
    var outcome: Outcome
  }

  struct TestSuite {
    var name: String
    var package: String
    var seconds: Double
    var timestamp: Date
    var hostname: String?
    /// Name and value; values that are numbers are written as plain numbers.
    var properties: [(String, String)]
    var cases: [TestCase]
    /// Notes that are no test case's (windyroad's schema allows no output inside a case).
    var output: String = ""
  }

  var suites: [TestSuite]

  /// The document's text.
  func render() -> String {
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
    for (id, suite) in suites.enumerated() {
      var failures = 0
      var errors = 0
      var skipped = 0
      for testCase in suite.cases {
        switch testCase.outcome {
        case .passed: break
        case .failure: failures += 1
        case .error: errors += 1
        case .skipped: skipped += 1
        }
      }
      let host = suite.hostname.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
      out += "  <testsuite name=\"\(attribute(suite.name))\" package=\"\(attribute(suite.package))\" id=\"\(id)\""
      out += " tests=\"\(suite.cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\""
      out += " time=\"\(Self.seconds(suite.seconds))\" timestamp=\"\(Self.timestamp(suite.timestamp))\""
      out += " hostname=\"\(attribute(host.isEmpty ? "localhost" : host))\">\n"
      out += "    <properties>\n"
      for (name, value) in suite.properties {
        out += "      <property name=\"\(attribute(name))\" value=\"\(Escape.xml(value))\"/>\n"
      }
      out += "    </properties>\n"
      for testCase in suite.cases {
        out += "    <testcase classname=\"\(attribute(testCase.classname))\" name=\"\(attribute(testCase.name))\""
        out += " time=\"\(Self.seconds(testCase.seconds))\""
        switch testCase.outcome {
        case .passed:
          out += "/>\n"
        case .failure(let type, let message, let detail), .error(let type, let message, let detail):
          let element = if case .failure = testCase.outcome { "failure" } else { "error" }
          out += ">\n      <\(element) message=\"\(attribute(message))\" type=\"\(attribute(type))\">"
          out += "\(Escape.xml(detail))</\(element)>\n    </testcase>\n"
        case .skipped(let message):
          out += ">\n      <skipped message=\"\(attribute(message))\"/>\n    </testcase>\n"
        }
      }
      out += "    <system-out>\(Escape.xml(suite.output))</system-out>\n    <system-err></system-err>\n"
      out += "  </testsuite>\n"
    }
    return out + "</testsuites>\n"
  }

  /// An attribute value: escaped, and never empty where both schemas want a token of length one.
  private func attribute(_ text: String) -> String {
    let escaped = Escape.xml(text)
    return escaped.isEmpty ? "-" : escaped
  }

  /// Seconds with three decimals: a decimal both schemas read (never negative, never NaN).
  static func seconds(_ x: Double) -> String {
    String(format: "%.3f", x.isFinite ? max(0, min(x, 1e12)) : 0)
  }

  /// `2026-12-01T03:00:00`: UTC, with no zone, as windyroad's pattern asks.
  static func timestamp(_ date: Date) -> String {
    String(Timestamp.format(date).prefix(19))
  }

  /// A rate as a plain number (`0.875`), not `87.5%`; empty when unknown.
  static func number(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "" }
    return Fmt.plain(Fmt.significant(x))
  }
}
