import ArgumentParser
import EvalhCore
import Foundation

struct Init: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a first suite to start from: tasks with graders and an assurance check, and an agent to run.",
    discussion:
      "By default the agent is a 20-line Python program speaking evalh/1 (only python3 is needed); with --http it is an OpenAI-compatible endpoint. Nothing is overwritten."
  )

  @Argument(help: "The folder to write into (created if missing).", completion: .directory)
  var folder = "."

  @Option(help: "Evaluate this OpenAI-compatible endpoint (its base URL, e.g. http://127.0.0.1:8080/v1) instead.")
  var http: String?

  @Option(help: "With --http: the model to ask for.")
  var model = "my-model"

  func validate() throws {
    if let http, URL(string: http)?.scheme.map({ ["http", "https"].contains($0) }) != true {
      throw ValidationError("--http must be an http:// or https:// URL (got '\(http)')")
    }
  }

  func run() async throws {
    let files = http == nil ? Scaffold.subprocess : Scaffold.openAI(url: http ?? "", model: model)
    let fm = FileManager.default
    let existing = files.map { folder + "/" + $0.name }.filter { fm.fileExists(atPath: $0) }
    guard existing.isEmpty else {
      throw Failure(
        "\(existing.joined(separator: ", ")) already exist\(existing.count == 1 ? "s" : ""); evalh init overwrites nothing",
        code: 2)
    }
    do {
      try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
      for file in files {
        let path = folder + "/" + file.name
        try Data(file.text.utf8).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        if file.executable { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
      }
    } catch {
      throw Failure("cannot write into \(folder): \(error.localizedDescription)", code: 2)
    }
    let suite = folder == "." ? "suite.yaml" : folder + "/suite.yaml"
    StandardStream.output.write(
      "wrote \(files.map(\.name).joined(separator: ", ")) in \(folder)\nnext:\n  evalh validate \(suite)\n  evalh run \(suite)\n"
    )
  }
}

extension Init: HasExamples {
  static let examples = [
    ("evalh init my-eval", "a suite and a Python agent in my-eval/"),
    ("evalh init my-eval --http http://127.0.0.1:8080/v1 --model qwen2.5", "a suite over an OpenAI-compatible server"),
  ]
}
