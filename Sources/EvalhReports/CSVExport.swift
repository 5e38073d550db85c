import CEvalhSys
import EvalhCore
import EvalhStore
import Foundation
import Synchronization

/// `export --csv DIR`: summary.csv, tasks.csv, trials.csv and passk.csv with exactly the columns of reports.md.
public enum CSVExport {
  /// The columns of summary.csv, in order (reports.md).
  public static let summaryColumns = [
    "run_id", "suite", "label", "agent", "started_at", "finished_at", "tasks", "trials_per_task", "trials",
    "first_run_success", "success_rate", "sustained_success", "reliability_cliff", "consistency", "efficacy_rate",
    "assurance_rate", "policy_adherence", "violations", "cost_total_usd", "cost_per_trial_usd", "cost_per_success_usd",
    "cna", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "sla_compliance", "clear_score", "errors", "timeouts",
    // After reports.md's columns, so readers by position keep working: what a spreadsheet needs to
    // judge the rates (their 95% intervals), to reproduce the run (the seed), and to trust the cost.
    "seed", "first_run_success_low", "first_run_success_high", "success_rate_low", "success_rate_high",
    "sustained_success_low", "sustained_success_high", "cost_unknown_trials", "condition",
  ]
  /// The columns of tasks.csv, in order.
  public static let taskColumns = [
    "run_id", "agent", "task_id", "tags", "trials", "passes", "first_run", "success_rate", "pass_hat_n", "ci_low",
    "ci_high", "latency_p50_ms", "latency_p95_ms", "cost_per_trial_usd", "violations", "errors", "condition",
  ]
  /// The columns of trials.csv, in order.
  public static let trialColumns = [
    "run_id", "agent", "task_id", "trial", "status", "error_kind", "efficacy_pass", "efficacy_score", "violations",
    "latency_ms", "input_tokens", "output_tokens", "cost_usd", "attempts", "seed", "started_at", "output",
    "condition", "variant",
  ]
  /// The columns of passk.csv, in order.
  public static let passkColumns = ["run_id", "agent", "k", "pass_hat_k", "pass_at_k", "condition"]

  /// A cell: text escaped (RFC 4180, formulas neutralised), numbers plain, unknown empty.
  public enum Cell {
    case text(String?)
    case number(Double?)
    case integer(Int?)
    case bool(Bool?)

    var rendered: String {
      switch self {
      case .text(let s): s.map(Escape.csv) ?? ""
      case .number(let x): x.flatMap { $0.isFinite ? Fmt.plain($0) : nil } ?? ""
      case .integer(let n): n.map(String.init) ?? ""
      case .bool(let b): b.map { $0 ? "1" : "0" } ?? ""
      }
    }
  }

  /// RFC 4180 text: a header row, CRLF line ends.
  public static func table(_ header: [String], _ rows: [[Cell]]) -> String {
    var out = header.joined(separator: ",") + "\r\n"
    for row in rows { out += row.map(\.rendered).joined(separator: ",") + "\r\n" }
    return out
  }

  /// summary.csv: one row per agent.
  public static func summary(_ report: RunReport) -> String {
    let run = report.run
    return table(
      summaryColumns,
      report.agents.map { a in
        let m = a.metrics
        let errors = m.errors.filter { !["timeout", "grader", "tool"].contains($0.key) }.values.reduce(0, +)
        return [
          .text(run.id), .text(run.suite), .text(run.label), .text(m.agent), .text(Timestamp.format(run.startedAt)),
          .text(run.finishedAt.map(Timestamp.format)), .integer(m.tasks.count), .integer(run.trials),
          .integer(m.trials),
          .number(m.firstRunSuccess), .number(m.successRate), .number(m.sustainedSuccess), .number(m.reliabilityCliff),
          .number(m.consistency), .number(m.efficacyRate), .number(m.assuranceRate), .number(m.policyAdherence),
          .integer(m.violations), .number(m.costTotalUSD), .number(m.costPerTrialUSD), .number(m.costPerSuccessUSD),
          .number(m.cna), .number(m.latency.p50), .number(m.latency.p95), .number(m.latency.p99),
          .number(m.slaCompliance), .number(m.clear.score), .integer(errors), .integer(m.errors["timeout"] ?? 0),
          .integer(Int(truncatingIfNeeded: run.seed)),
          .number(m.intervals.firstRunSuccess?.low), .number(m.intervals.firstRunSuccess?.high),
          .number(m.intervals.successRate?.low), .number(m.intervals.successRate?.high),
          .number(m.intervals.sustainedSuccess?.low), .number(m.intervals.sustainedSuccess?.high),
          .integer(m.costUnknownTrials), .text(m.condition),
        ]
      })
  }

  /// tasks.csv: one row per agent and task.
  public static func tasks(_ report: RunReport, tags: [String: [String]]) -> String {
    table(
      taskColumns,
      report.agents.flatMap { a in
        a.tasksWorstFirst.map { t in
          [
            .text(report.run.id), .text(a.metrics.agent), .text(t.taskID),
            .text((tags[t.taskID] ?? []).joined(separator: ";")),
            .integer(t.trials), .integer(t.passes), .bool(t.trials > 0 ? t.firstRun : nil), .number(t.successRate),
            .number(t.passHatN), .number(t.interval.low), .number(t.interval.high), .number(t.latencyP50Ms),
            .number(t.latencyP95Ms), .number(t.costPerTrialUSD), .integer(t.violations), .integer(t.errors),
            .text(a.metrics.condition),
          ] as [Cell]
        }
      })
  }

  /// passk.csv: pass^k and pass@k for every k of every agent.
  public static func passk(_ report: RunReport) -> String {
    table(
      passkColumns,
      report.agents.flatMap { a in
        a.metrics.passHatK.indices.map { i in
          [
            .text(report.run.id), .text(a.metrics.agent), .integer(i + 1), .number(a.metrics.passHatK[i]),
            .number(a.metrics.passAtK[i]), .text(a.metrics.condition),
          ]
            as [Cell]
        }
      })
  }

  /// Writes the four files into `folder` (created if missing), and tool_calls.csv and robustness.csv
  /// when the run has them (cli.md). One scan per agent, agents side by side, both measures the run
  /// and streams its trials into trials.csv.
  public static func write(_ run: RunRecord, store: ResultStore, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let parts = try RunReport.parts(of: run, in: store)
    let trials = try TrialsFile(folder: folder, runID: run.id, pairs: parts.map(\.pair))
    let config = JSONValue.parse(run.configJSON)
    let servesTools = RunReport.servesTools(config: config)
    let robust = run.plan.conditions.count > 1 || run.configJSON.contains(#""variants""#)
    // summary.csv carries the suite-level intervals; tool use and variants are read only for the
    // files that show them.
    let report = try RunReport.load(
      run, from: store, withIntervals: true, violationsByCheck: robust, parts: parts
    ) { part, row in trials.parts[part].append(row) }
    try trials.finish()
    let tags = try store.taskTags(runID: run.id)
    try Data(summary(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/summary.csv"), options: .atomic)
    try Data(tasks(report, tags: tags).utf8).write(to: URL(fileURLWithPath: "\(folder)/tasks.csv"), options: .atomic)
    try Data(passk(report).utf8).write(to: URL(fileURLWithPath: "\(folder)/passk.csv"), options: .atomic)
    // A file this run does not have is removed, so a folder reused for another run never holds one.
    for (name, text) in [
      ("tool_calls.csv", servesTools ? try toolCalls(run, store: store) : nil),
      ("robustness.csv", robust ? Robustness.csv(report) : nil),
    ] {
      let path = "\(folder)/\(name)"
      if let text {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
      } else {
        try? FileManager.default.removeItem(atPath: path)
      }
    }
  }

  /// The columns of tool_calls.csv: the `tool_calls` table's.
  public static let toolCallColumns = [
    "run_id", "agent", "condition", "task_id", "trial", "seq", "tool", "arguments_json", "result_json", "is_error",
    "fault", "contract_ok", "problem", "latency_ms", "started_at",
  ]

  /// tool_calls.csv: every call to a served tool, in (agent, task, trial, seq) order (a header only
  /// when the run served none).
  public static func toolCalls(_ run: RunRecord, store: ResultStore) throws -> String {
    var out = toolCallColumns.joined(separator: ",") + "\r\n"
    try store.forEachToolCall(runID: run.id) { key, c in
      let row: [Cell] = [
        .text(run.id), .text(key.agent), .text(key.condition), .text(key.taskID), .integer(key.trial), .integer(c.seq),
        .text(c.tool),
        .text(c.arguments.compactText), .text(c.result?.compactText), .bool(c.isError), .text(c.fault),
        .bool(c.contractOK), .text(c.problem?.rawValue), .number(c.latencyMs), .text(Timestamp.format(c.startedAt)),
      ]
      out += row.map(\.rendered).joined(separator: ",") + "\r\n"
    }
    return out
  }

  /// trials.csv, every trial in (agent, task, trial) order: the first part (agent by name, then task
  /// range) writes straight into it, the others into files of their own (each written by the part's
  /// reader) that are appended in that order at the end, copied by the kernel.
  final class TrialsFile: Sendable {
    /// Where the file is written, renamed to `destination` once whole: an interrupted export leaves
    /// the previous trials.csv, never half of one.
    let path: String
    let destination: String
    let parts: [Part]

    /// `pairs`: each part's (agent, condition), in the order of `RunReport.parts`.
    init(folder: String, runID: String, pairs: [AgentCondition]) throws {
      path = "\(folder)/.trials.csv.tmp"
      destination = "\(folder)/trials.csv"
      let order = pairs.indices.sorted { TrialsFile.precedes((pairs[$0], $0), (pairs[$1], $1)) }
      let first = order.first  // the first of that pair's ranges
      parts = try pairs.indices.map { [path] i in
        try Part(
          path: i == first ? path : "\(folder)/.trials.csv.part\(i)", pair: pairs[i], index: i, runID: runID,
          header: i == first ? Data((trialColumns.joined(separator: ",") + "\r\n").utf8) : nil)
      }
    }

    // Every part's file, the first one too when it was never renamed into place.
    deinit { for part in parts { unlink(part.path) } }

    /// Flushes the parts and appends them to trials.csv by agent name, ranges in order; the first
    /// write error, if any.
    func finish() throws {
      for part in parts { try part.finish() }
      // Not O_APPEND, which copy_file_range refuses: the offset is put at the end instead.
      let output = open(path, O_WRONLY)
      guard output >= 0, lseek(output, 0, SEEK_END) >= 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
      }
      defer { close(output) }
      let order = parts.indices.sorted {
        TrialsFile.precedes((parts[$0].pair, parts[$0].index), (parts[$1].pair, parts[$1].index))
      }
      for part in order.map({ parts[$0] }) where part.path != path {
        let input = open(part.path, O_RDONLY)
        guard input >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: part.path]) }
        defer { close(input) }
        try append(input, to: output)
      }
      guard rename(path, destination) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// By agent name, then condition name, then the part's place (its task range).
    static func precedes(_ a: (AgentCondition, Int), _ b: (AgentCondition, Int)) -> Bool {
      (a.0.agent, a.0.condition, a.1) < (b.0.agent, b.0.condition, b.1)
    }

    /// Copies all of `input` to the end of `output`: in the kernel when it can, else through a buffer.
    private func append(_ input: Int32, to output: Int32) throws {
      var copied = evalh_copy_file_range(input, output, 1 << 30)
      while copied > 0 { copied = evalh_copy_file_range(input, output, 1 << 30) }
      if copied == 0 { return }
      guard errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
      let reader = FileHandle(fileDescriptor: input, closeOnDealloc: false)
      let writer = FileHandle(fileDescriptor: output, closeOnDealloc: false)
      while let chunk = try reader.read(upToCount: 4 << 20), !chunk.isEmpty { try writer.write(contentsOf: chunk) }
    }

    /// One agent's rows, written from SQLite's column bytes cell by cell: no `String` per cell.
    /// Used by one thread at a time (the agent's reader, then `finish`).
    final class Part: @unchecked Sendable {
      // @unchecked: the buffer and handle are used by one thread at a time, handed over by the join.
      let path: String
      let pair: AgentCondition
      let index: Int
      private let runID: String
      private let handle: FileHandle
      private var row = CSVRow(capacity: 1 << 21)
      private var failure: (any Error)?

      init(path: String, pair: AgentCondition, index: Int, runID: String, header: Data?) throws {
        self.path = path
        self.pair = pair
        self.index = index
        self.runID = runID
        // Fails only as the open below does, which says why.
        _ = FileManager.default.createFile(atPath: path, contents: header)
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
      }

      deinit { try? handle.close() }

      func append(_ t: borrowing StoredTrialRow) {
        // One access to `row` per trial: a class's stored property mutated cell by cell would pay a
        // dynamic exclusivity check on each.
        row.trial(t, runID: runID)
        if row.count > 1 << 20 { flush() }
      }

      private func flush() {
        if failure == nil {
          do { try handle.write(contentsOf: UnsafeRawBufferPointer(row.bytes)) } catch { failure = error }
        }
        row.removeAll()
      }

      func finish() throws {
        flush()
        if let failure { throw failure }
        try handle.close()
      }
    }
  }
}

/// CSV rows built as bytes in a buffer of their own, with the same cells as `CSVExport.Cell` renders.
/// Each cell makes room for its longest form first, then writes bytes in place (a million-row export
/// writes 17 million cells).
struct CSVRow: ~Copyable {
  private var base: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private(set) var count = 0
  private var first = true

  init(capacity: Int = 1 << 16) {
    self.capacity = capacity
    base = .allocate(capacity: capacity)
  }

  deinit { base.deallocate() }

  /// The bytes written so far.
  var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  mutating func removeAll() {
    count = 0
    first = true
  }

  /// The separator before a cell, and room for `extra` more bytes.
  private mutating func startCell(room extra: Int) {
    reserve(extra + 1)
    if !first { put(UInt8(ascii: ",")) }
    first = false
  }

  private mutating func reserve(_ extra: Int) {
    guard count + extra > capacity else { return }
    capacity = max(2 * capacity, count + extra)
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    grown.update(from: base, count: count)
    base.deallocate()
    base = grown
  }

  private mutating func put(_ b: UInt8) {
    base[count] = b
    count += 1
  }

  mutating func text(_ s: String?) {
    guard var s else { return startCell(room: 0) }
    s.withUTF8 { text($0) }
  }

  /// A text cell from stored UTF-8 bytes.
  mutating func text(_ utf8: UnsafeBufferPointer<UInt8>?) {
    guard let utf8 else { return startCell(room: 0) }
    // Quotes around, an apostrophe, every quote doubled.
    startCell(room: 2 * utf8.count + 3)
    let formula = utf8.first.map(CSVRow.startsFormula) ?? false
    let quoted = utf8.contains(where: CSVRow.needsQuotes)
    if quoted { put(UInt8(ascii: "\"")) }
    if formula { put(UInt8(ascii: "'")) }
    if quoted {
      for b in utf8 {
        if b == UInt8(ascii: "\"") { put(b) }
        put(b)
      }
      put(UInt8(ascii: "\""))
    } else if let from = utf8.baseAddress {
      (base + count).update(from: from, count: utf8.count)
      count += utf8.count
    }
  }

  /// An output cell from its stored JSON: a string as its text, anything else as its JSON, at most
  /// 1,000 characters. A string without escapes is its bytes between the quotes; others are decoded.
  mutating func output(_ json: UnsafeBufferPointer<UInt8>?) {
    guard let json else { return text(nil as String?) }
    let quote = UInt8(ascii: "\"")
    if json.count >= 2, json.first == quote, json.last == quote, json.count - 2 <= 1000,
      !json.contains(UInt8(ascii: "\\"))
    {
      return text(UnsafeBufferPointer(rebasing: json[1..<(json.count - 1)]))
    }
    if json.count <= 1000, json.first != quote { return text(json) }
    let stored = String(decoding: json, as: UTF8.self)
    let decoded = JSONValue.stringLiteral(stored) ?? stored
    // A text of at most 1,000 bytes has at most 1,000 characters (and needs no counting).
    text(decoded.utf8.count <= 1000 ? decoded : String(decoded.prefix(1000)))
  }

  /// A row of trials.csv.
  mutating func trial(_ t: borrowing StoredTrialRow, runID: String) {
    text(runID)
    text(t.agent)
    text(t.taskID)
    integer(t.trial)
    text(t.status)
    text(t.errorKind)
    bool(t.efficacyPass)
    number(t.efficacyScore)
    integer(t.violations)
    number(t.latencyMs)
    integer(t.inputTokens)
    integer(t.outputTokens)
    number(t.costUSD)
    integer(t.attempts)
    integer(t.seed)
    text(t.startedAt)
    output(t.outputJSON)
    text(t.condition)
    integer(t.variant)
    end()
  }

  /// `=`, `+`, `-`, `@`, tab or CR first: a spreadsheet would run it as a formula.
  static func startsFormula(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13: true
    default: false
    }
  }

  static func needsQuotes(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: ","), UInt8(ascii: "\""), 10, 13: true
    default: false
    }
  }

  mutating func number(_ x: Double?) {
    guard let x, x.isFinite else { return startCell(room: 0) }
    startCell(room: Fmt.plainRoom)
    if let written = Fmt.writePlain(x, to: base + count) {
      count += written
    } else {
      for b in Fmt.plain(x).utf8.prefix(Fmt.plainRoom) { put(b) }
    }
  }

  mutating func integer(_ n: Int?) {
    guard let n else { return startCell(room: 0) }
    startCell(room: 20)
    count += Fmt.writeInteger(n, to: base + count)
  }

  mutating func bool(_ b: Bool?) {
    startCell(room: 1)
    if let b { put(b ? UInt8(ascii: "1") : UInt8(ascii: "0")) }
  }

  mutating func end() {
    reserve(2)
    put(13)
    put(10)
    first = true
  }
}
