import Foundation
import Yams

extension SuiteLoader {
  static let csvColumns = ["id", "input", "tags", "equals", "contains", "regex"]

  /// The tasks of a `tasks_file` (`.jsonl` or `.csv`), each with its raw form for the stored config.
  static func tasksFile(_ path: String, at node: Node, _ c: LoadContext) -> [(
    spec: TaskSpec, raw: JSONValue, origin: String
  )] {
    guard let data = c.contents(of: path, at: node, what: "tasks_file") else { return [] }
    let text = String(decoding: data, as: UTF8.self).withoutByteOrderMark
    switch (path as NSString).pathExtension.lowercased() {
    case "jsonl": return jsonl(text, path: path, c)
    case "csv": return csv(text, path: path, c)
    default:
      c.reader.error(node, "tasks_file '\(path)' must be .jsonl or .csv")
      return []
    }
  }

  /// One task object per line, with the keys of an inline task; errors at the file's own lines.
  static func jsonl(_ text: String, path: String, _ c: LoadContext) -> [(
    spec: TaskSpec, raw: JSONValue, origin: String
  )] {
    var out: [(TaskSpec, JSONValue, String)] = []
    // "\r\n" is one Character in Swift: split on it as well as on "\n".
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    for (index, line) in lines.enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      let lineReader = YAMLReader(
        file: path, documentLength: line.utf8.count, environment: c.environment, lineOffset: index)
      defer { c.reader.absorb(lineReader) }
      guard JSONValue.parse(trimmed) != nil else {
        lineReader.error(line: index + 1, "not a JSON object")
        continue
      }
      // JSON is YAML's flow syntax: composing the line gives every value its column.
      guard let node = try? Yams.compose(yaml: String(line)), case .mapping = node else {
        lineReader.error(line: index + 1, "each line must be one JSON object (a task)")
        continue
      }
      let lineContext = LoadContext(reader: lineReader, folder: c.folder, fileName: path, environment: c.environment)
      if let task = task(node, lineContext), let raw = lineReader.json(node, raw: true) {
        out.append((task, raw, "\(path):\(index + 1)"))
      }
    }
    return out
  }

  /// A header row with `id`, `input` and optionally `tags` (`;`-separated), `equals`, `contains`, `regex`.
  static func csv(_ text: String, path: String, _ c: LoadContext) -> [(spec: TaskSpec, raw: JSONValue, origin: String)]
  {
    let r = YAMLReader(file: path, documentLength: text.utf8.count, environment: c.environment)
    defer { c.reader.absorb(r) }
    let records: [CSVRecord]
    do {
      records = try CSVRecord.parse(text)
    } catch {
      r.error(line: error.line, "unterminated quoted field")
      return []
    }
    guard let header = records.first else {
      r.error(line: 1, "the CSV file is empty: it needs a header row with id and input")
      return []
    }
    let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    for (i, name) in columns.enumerated() where !csvColumns.contains(name) {
      var message = "unknown column '\(name)' (columns: \(csvColumns.joined(separator: ", ")))"
      if let hint = suggestion(for: name, among: csvColumns) { message += "; did you mean '\(hint)'?" }
      r.error(line: header.line, column: i + 1, message)
    }
    for required in ["id", "input"] where !columns.contains(required) {
      r.error(line: header.line, "missing column '\(required)'")
    }
    guard r.diagnostics.isEmpty else { return [] }
    var out: [(TaskSpec, JSONValue, String)] = []
    for record in records.dropFirst() {
      if record.fields.count == 1, record.fields[0].isEmpty { continue }
      guard record.fields.count == columns.count else {
        r.error(line: record.line, "\(record.fields.count) fields where the header has \(columns.count)")
        continue
      }
      var row: [String: String] = [:]
      for (name, value) in zip(columns, record.fields) { row[name] = value }
      let id = row["id"] ?? ""
      if let problem = Names.taskIDProblem(id) {
        r.error(line: record.line, problem)
        continue
      }
      var raw: [String: JSONValue] = ["id": .string(id), "input": .string(row["input"] ?? "")]
      var task = TaskSpec(id: id, input: .string(row["input"] ?? ""))
      let tags = (row["tags"] ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
        !$0.isEmpty
      }
      task.tags = tags
      if !tags.isEmpty { raw["tags"] = .array(tags.map { .string($0) }) }
      var expect: [JSONValue] = []
      if let v = row["equals"], !v.isEmpty {
        task.expect.append(Grader(kind: .equals(.string(v))))
        expect.append(.object(["equals": .string(v)]))
      }
      if let v = row["contains"], !v.isEmpty {
        task.expect.append(Grader(kind: .contains([v])))
        expect.append(.object(["contains": .string(v)]))
      }
      if let v = row["regex"], !v.isEmpty {
        do {
          task.expect.append(Grader(kind: .regex(try Pattern(v))))
          expect.append(.object(["regex": .string(v)]))
        } catch {
          r.error(line: record.line, "invalid regular expression '\(v)' in column regex")
        }
      }
      if !expect.isEmpty { raw["expect"] = .array(expect) }
      out.append((task, .object(raw), "\(path):\(record.line)"))
    }
    return out
  }
}

/// One CSV record (RFC 4180: quoted fields may hold commas, doubled quotes and newlines) and the line it starts on.
struct CSVRecord {
  var line: Int
  var fields: [String]

  struct Unterminated: Error {
    let line: Int
  }

  static func parse(_ text: String) throws(Unterminated) -> [CSVRecord] {
    var records: [CSVRecord] = []
    var fields: [String] = []
    var field = ""
    var line = 1
    var recordLine = 1
    var quoted = false
    var quoteLine = 1
    var chars = Array(text.unicodeScalars)[...]
    if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
    var i = chars.startIndex
    func endRecord() {
      fields.append(field)
      records.append(CSVRecord(line: recordLine, fields: fields))
      fields = []
      field = ""
    }
    while i < chars.endIndex {
      let ch = chars[i]
      if quoted {
        if ch == "\"" {
          if i + 1 < chars.endIndex, chars[i + 1] == "\"" {
            field.unicodeScalars.append("\"")
            i += 1
          } else {
            quoted = false
          }
        } else {
          if ch == "\n" { line += 1 }
          field.unicodeScalars.append(ch)
        }
      } else if ch == "\"" && field.isEmpty {
        quoted = true
        quoteLine = line
      } else if ch == "," {
        fields.append(field)
        field = ""
      } else if ch == "\n" || ch == "\r" {
        if ch == "\r", i + 1 < chars.endIndex, chars[i + 1] == "\n" { i += 1 }
        endRecord()
        line += 1
        recordLine = line
      } else {
        field.unicodeScalars.append(ch)
      }
      i += 1
    }
    if quoted { throw Unterminated(line: quoteLine) }
    if !field.isEmpty || !fields.isEmpty { endRecord() }
    return records
  }
}

extension String {
  /// Without a leading UTF-8 byte-order mark (editors on Windows write one).
  var withoutByteOrderMark: String { hasPrefix("\u{FEFF}") ? String(dropFirst()) : self }
}
