import ArgumentParser
import EvalhStore
import Foundation

struct Merge: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Merge results databases (e.g. the shards of one run) into one; conflicting trials are refused.")

  @Option(help: "The database to merge into (created if missing).")
  var into: String

  @Argument(help: "The databases to merge.")
  var inputs: [String]

  func validate() throws {
    if inputs.isEmpty { throw ValidationError("name at least one database to merge") }
  }

  func run() async throws {
    let store: ResultStore
    do { store = try ResultStore(path: into, create: true) } catch { throw Failure(error) }
    for input in inputs {
      do {
        let summary = try store.merge(from: input)
        FileHandle.standardError.write(
          Data(
            "merged \(input): \(summary.trialsAdded) trials added, \(summary.trialsAlreadyPresent) already present (runs \(summary.runs.joined(separator: ", ")))\n"
              .utf8))
      } catch {
        throw Failure(error)
      }
    }
  }
}
