import ArgumentParser
import EvalhReports
import EvalhStore
import Foundation

struct Report: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Render a stored run from the database alone.")

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json, html, junit
  }

  @Argument(help: "A run id, latest, latest~N or label:NAME (the latest run with that label).")
  var run = "latest"

  @Option(help: "Output format: text, markdown, json, html or junit.")
  var format: Format = .text

  @Option(help: "Write to this file instead of stdout.")
  var output: String?

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let store = try database.open(create: false)
    let report = try loadReport(run, from: store)
    let text: String
    switch format {
    case .text: text = TextReport.render(report, color: output == nil && Terminal.colorAllowed)
    case .markdown: text = MarkdownReport.render(report)
    case .json: text = JSONReport.render(report)
    case .html:
      let picked = TrialDetails.selection(report)
      var details: [TaskDetail] = []
      do {
        for (metrics, task) in picked {
          details.append(
            TaskDetail(
              agent: metrics.label, task: task,
              trials: try store.trials(
                runID: report.run.id, agent: metrics.agent, condition: metrics.condition, taskID: task.taskID,
                failedFirst: TrialDetails.trialLimit)
            ))
        }
      } catch {
        throw Failure(error)
      }
      text = HTMLReport.render(
        report, grid: try trialGrid(report, store), details: details,
        detailsLeftOut: TrialDetails.leftOut(report, shown: details.count))
    case .junit: text = JUnitReport.render(report)
    }
    try write(text, to: output)
  }
}
