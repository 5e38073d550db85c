import ArgumentParser
import EvalhReports
import EvalhStore
import Foundation

struct Report: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Render a stored run.")

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
  }

  @Argument(help: "A run id, latest, or latest~N.")
  var run = "latest"

  @Option(help: "Output format.")
  var format: Format = .text

  @Option(help: "Write to this file instead of stdout.")
  var output: String?

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let store = try database.open(create: false)
    let report: RunReport
    do {
      report = try RunReport.load(try store.resolve(run), from: store)
    } catch {
      throw Failure(error)
    }
    let text: String
    switch format {
    case .text: text = TextReport.render(report, color: output == nil && Terminal.colorAllowed)
    case .json: text = JSONReport.render(report)
    }
    guard let output else {
      emit(text)
      return
    }
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: output))
    } catch {
      throw Failure("cannot write \(output): \(error.localizedDescription)", code: 2)
    }
  }
}
