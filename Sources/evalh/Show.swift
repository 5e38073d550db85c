import ArgumentParser
import EvalhReports
import EvalhStore
import Foundation

struct Show: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show stored trials: a tasks × trials grid, or one task's trials in detail.")

  @Argument(help: "A run id, latest, latest~N or label:NAME (the latest run with that label).")
  var run = "latest"

  @Option(help: "Show this task's trials in detail.")
  var task: String?

  @Option(help: "Only this trial number (with --task).")
  var trial: Int?

  @Option(help: "Only this agent.")
  var agent: String?

  @Option(help: "Only this condition.")
  var condition: String?

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    if trial != nil, task == nil { throw ValidationError("--trial needs --task") }
  }

  func run() async throws {
    let store = try database.open(create: false)
    do {
      let record = try store.resolve(run)
      if let agent {
        let known = record.plan.agents.isEmpty ? try store.recordedAgents(runID: record.id) : record.plan.agents
        guard known.contains(agent) else {
          throw Failure(
            "run \(record.id) has no agent '\(agent)' (agents: \(known.joined(separator: ", ")))", code: 2)
        }
      }
      if let condition, !record.plan.conditions.contains(condition) {
        throw Failure(
          "run \(record.id) has no condition '\(condition)' (conditions: \(record.plan.conditions.joined(separator: ", ")))",
          code: 2)
      }
      guard let task else {
        emit(
          ShowReport.grid(run: record, trials: try store.trials(runID: record.id, agent: agent, condition: condition)))
        return
      }
      let trials = try store.trials(runID: record.id, agent: agent, condition: condition, taskID: task, trial: trial)
      guard !trials.isEmpty else {
        let what = trial.map { "trial \($0) of task '\(task)'" } ?? "task '\(task)'"
        throw Failure("run \(record.id) has no recorded \(what)\(agent.map { " for agent '\($0)'" } ?? "")", code: 2)
      }
      let input = try store.taskInput(runID: record.id, taskID: task)
      let shown = record.plan.conditions.count > 1
      emit(trials.map { ShowReport.detail($0, taskInput: input, showsCondition: shown) }.joined(separator: "\n"))
    } catch let error as StoreError {
      throw Failure(error)
    }
  }
}
