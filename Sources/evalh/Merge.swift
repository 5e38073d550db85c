import ArgumentParser
import EvalhCore
import EvalhStore
import Foundation

struct Merge: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Merge results databases (e.g. the shards of one run) into one; conflicting trials are refused.")

  @Option(help: "The database to merge into (created if missing).", completion: .file(extensions: ["sqlite", "db"]))
  var into: String

  @Argument(help: "The databases to merge.", completion: .file(extensions: ["sqlite", "db"]))
  var inputs: [String]

  func validate() throws {
    if inputs.isEmpty { throw ValidationError("name at least one database to merge") }
    if inputs.count > ResultStore.mergeLimit {
      throw ValidationError(
        "merge takes at most \(ResultStore.mergeLimit) databases at once; merge the rest in another call")
    }
  }

  func run() async throws {
    if let same = inputs.first(where: { sameFile($0, into) }) {
      throw Failure("\(same) is the database merged into (--into \(into)); name it only once", code: 2)
    }
    let store: ResultStore
    do { store = try ResultStore(path: into, create: true) } catch { throw Failure(error) }
    let summaries: [MergeSummary]
    do { summaries = try store.merge(from: inputs) } catch { throw Failure(error) }
    for (input, summary) in zip(inputs, summaries) {
      StandardStream.error.write(
        "merged \(input): \(summary.trialsAdded) trials added, \(summary.trialsAlreadyPresent) already present (runs \(summary.runs.joined(separator: ", ")))\n"
      )
    }
    // What each merged run now is: a merge missing shards must not read as a finished run.
    var seen = Set<String>()
    for id in summaries.flatMap(\.runs) where seen.insert(id).inserted {
      guard let run = try? store.run(id: id) else { continue }
      let why = run.stopReason.map { ": \($0)" } ?? ""
      StandardStream.error.write("run \(id) is \(run.status.rawValue)\(run.status == .completed ? "" : why)\n")
    }
  }
}

/// Whether two paths name one file (however spelled: links, `./`, another case of the path).
func sameFile(_ a: String, _ b: String) -> Bool {
  var x = stat()
  var y = stat()
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
}
