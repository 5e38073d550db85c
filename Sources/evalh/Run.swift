import ArgumentParser
import EvalhAgents
import EvalhCore
import EvalhReports
import EvalhRunner
import EvalhStore
import EvalhTraces
import Foundation

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run every task of a suite many times against each agent, record every trial, print the summary.")

  @Argument(help: "The suite file.", completion: .file(extensions: ["yaml", "yml"]))
  var suite: String

  @Option(help: "Trials per task (overrides the suite; default 8).")
  var trials: Int?

  @Option(help: "Trials in flight at once (overrides the suite; default 4).")
  var concurrency: Int?

  @Option(help: "Only this agent of the suite (repeatable).")
  var agent: [String] = []

  @Option(help: "Only tasks whose id matches this glob (repeatable).")
  var task: [String] = []

  @Option(help: "Only tasks carrying this tag (repeatable).")
  var tag: [String] = []

  @Option(help: "Only this condition of the suite (repeatable; default: all of them).")
  var condition: [String] = []

  /// Traces are sent as trials are recorded.
  @OptionGroup var traces: OTLPOptions

  @Option(help: "Run seed; trial seeds derive from it (default: random, recorded).")
  var seed: Int64?

  @Option(help: "A label stored on the run (e.g. nightly, a branch).")
  var label: String?

  @Option(name: .customLong("run-id"), help: "Use this run id instead of a generated one.")
  var runID: String?

  @Option(
    help:
      "Run only shard I of N (1-based); tasks are partitioned by a stable hash of their id. 'auto' takes I and N from the engine: a Kubernetes Indexed Job (with --shards N), a Slurm job array, GitLab's parallel."
  )
  var shard: String?

  @Option(help: "With --shard auto: how many shards (a Kubernetes Indexed Job's completions).")
  var shards: Int?

  @Option(help: "Finish run ID: run only the trials it has not recorded; the suite must be unchanged.")
  var resume: String?

  @Option(
    name: .customLong("max-cost"), help: "Spend guard: stop launching trials once this run's recorded cost reaches USD."
  )
  var maxCost: Double?

  @Flag(name: .customLong("keep-failed"), help: "Keep the working folders of failed trials.")
  var keepFailed = false

  @Option(
    name: .customLong("fail-under"),
    help:
      "Exit 1 after the summary when an agent's METRIC is below VALUE (METRIC=VALUE, or METRIC@CONDITION=VALUE for one condition; repeatable; \(Gate.metrics.joined(separator: ", "))).",
    completion: .list(Gate.metrics.map { $0 + "=" })
  )
  var failUnder: [String] = []

  @Option(
    name: .customLong("fail-over"),
    help:
      "Exit 1 after the summary when an agent's METRIC is above VALUE, for metrics where lower is better (METRIC[@CONDITION]=VALUE, repeatable; \(Gate.upperMetrics.joined(separator: ", "))).",
    completion: .list(Gate.upperMetrics.map { $0 + "=" })
  )
  var failOver: [String] = []

  @Option(
    name: .customLong("max-error-rate"),
    help: "Exit 1 after the summary when an agent's share of error and timeout trials is above RATE (0.1 or 10%).")
  var maxErrorRate: String?

  @Flag(
    name: .customLong("allow-incomplete"),
    help: "Let the gates judge a shard's run on its own; otherwise a run missing shards fails them.")
  var allowIncomplete = false

  @Option(
    help:
      "The drop in success rate (0.05 or 5%) the summary says how many trials per task compare needs to catch (80% power)."
  )
  var detect: String = "0.05"

  @Flag(help: "Print the summary as JSON instead of the table.")
  var json = false

  @Flag(name: .customLong("no-progress"), help: "No progress display.")
  var noProgress = false

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    if let trials, trials < 1 { throw ValidationError("--trials must be at least 1") }
    if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    if let shard, shard != "auto", Shard(shard) == nil {
      throw ValidationError("--shard must be I/N with 1 ≤ I ≤ N, e.g. 2/4, or auto")
    }
    if shards != nil, shard != "auto" { throw ValidationError("--shards goes with --shard auto") }
    if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
    if shard != nil, resume != nil {
      throw ValidationError("--resume continues the run as it was planned: drop --shard")
    }
    if let maxCost, !(maxCost > 0) { throw ValidationError("--max-cost must be a positive number of USD") }
    for gate in failUnder {
      do { _ = try Gate(parsing: gate) } catch { throw ValidationError(error.description) }
    }
    for gate in failOver {
      do { _ = try Gate(parsing: gate, bound: .upper) } catch { throw ValidationError(error.description) }
    }
    guard let drop = Self.rate(detect), drop > 0, drop < 1 else {
      throw ValidationError("--detect must be a drop between 0 and 1, or 0%–100% (got '\(detect)')")
    }
    if let maxErrorRate, Self.rate(maxErrorRate) == nil {
      throw ValidationError("--max-error-rate must be a share between 0 and 1, or 0%–100% (got '\(maxErrorRate)')")
    }
    if resume != nil, runID != nil { throw ValidationError("--resume and --run-id cannot be combined") }
    if let runID, let problem = Names.runIDProblem(runID) { throw ValidationError("--run-id: \(problem)") }
    if resume != nil,
      trials != nil || !agent.isEmpty || !task.isEmpty || !tag.isEmpty || !condition.isEmpty || seed != nil
    {
      throw ValidationError(
        "--resume continues the run as it was planned: drop --trials, --agent, --task, --tag, --condition and --seed")
    }
  }

  func run() async throws {
    let loaded = try loadSuite(suite)
    let store = try database.open(create: true)
    let slots = concurrency ?? loaded.concurrency ?? Suite.defaultConcurrency
    let needed = DescriptorLimit.needed(concurrency: slots)
    let limit = DescriptorLimit.ensure(needed)
    if limit < needed {
      StandardStream.error.write(
        "warning: \(slots) trials at once may need about \(needed) open files and this process may have \(limit) (ulimit -n); if the run stops for want of them, lower --concurrency or raise the limit\n"
      )
    }
    var options = RunOptions()
    options.trials = trials
    options.concurrency = concurrency
    options.agents = agent
    options.taskPatterns = task
    options.tags = tag
    options.conditions = condition
    options.seed = seed
    options.label = label
    options.runID = runID
    options.resume = resume
    options.keepFailed = keepFailed
    options.maxCost = maxCost
    if shard == "auto" {
      do {
        let found = try EngineShard.resolve(ProcessInfo.processInfo.environment, shards: shards)
        StandardStream.error.write("shard \(found.shard) from \(found.source)\n")
        options.shard = found.shard
      } catch {
        throw Failure(error.description, code: 2)
      }
    } else {
      options.shard = shard.flatMap(Shard.init)
    }

    var stream: TraceStream?
    if let exporter = try traces.exporter() {
      let live = TraceStream(exporter: exporter, suite: loaded.name, version: Runner.version)
      stream = live
      options.onCommitted = { await live.add($0) }
    }
    let interruption = Interruption()
    let signals = SignalWatch(interruption: interruption)
    defer { signals.cancel() }
    let runner = Runner(suite: loaded, store: store, options: options, interruption: interruption)
    let prepared: (run: RunRecord, pending: PendingTrials)
    do {
      prepared = try runner.prepare()
    } catch {
      throw Failure(error)
    }
    let run = prepared.run
    let total = run.plan.trialCount
    let verb = resume == nil ? "run" : "resuming"
    StandardStream.error.write(
      "\(verb) \(run.id): \(prepared.pending.count) of \(total) trials, \(run.plan.agents.count) agent(s) × \(run.plan.tasks.count) tasks, seed \(run.seed) → \(database.resolved)\n"
    )
    let mode: ProgressDisplay.Mode = noProgress ? .none : Terminal.stderrIsTTY ? .terminal : .plain
    let result = await runner.execute(
      run: run, pending: prepared.pending, progress: ProgressDisplay(total: prepared.pending.count, mode: mode))
    if let stream, let failure = await stream.finish() {
      // The trials are recorded whatever the receiver did: say so, and how to send them again.
      let sent = await stream.sent
      StandardStream.error.write(
        "traces: \(failure); \(sent) trials' traces were sent, then sending stopped; every trial is in the database: evalh export \(run.id) --otlp URL sends them again\n"
      )
    }

    if let why = result.storeError?.errorDescription ?? result.harnessError {
      throw Failure("\(why)\nwhat was committed stays committed; to finish: \(resumeCommand(run.id))", code: 3)
    }
    let report: RunReport
    do {
      report = try RunReport.load(result.run, from: store)
    } catch {
      throw Failure(error)
    }
    emit(
      json
        ? JSONReport.render(report)
        : TextReport.render(report, color: Terminal.colorAllowed, detect: Self.rate(detect) ?? 0.05))
    let unreachable = RunVerdicts.unreachable(report, store: store)
    if !unreachable.isEmpty, result.run.status == .completed || result.run.status == .incomplete {
      throw Failure(verbatim: unreachable.joined(separator: "\n"), code: 3)
    }
    let gates =
      failUnder.compactMap { try? Gate(parsing: $0) } + failOver.compactMap { try? Gate(parsing: $0, bound: .upper) }
    var failures = gates.flatMap { gate in gate.failures(in: report.agents.map(\.metrics)) }
    if let limit = maxErrorRate.flatMap(Self.rate) { failures += RunVerdicts.errorRateFailures(report, limit: limit) }
    let gated = !gates.isEmpty || maxErrorRate != nil
    if gated, result.run.status == .incomplete, !allowIncomplete {
      failures.append(
        "run \(run.id) is incomplete: \(result.run.stopReason ?? "shards are missing"); --allow-incomplete gates this shard on its own"
      )
    }
    if let spent = result.budgetReached {
      StandardStream.error.write(
        String(
          format:
            "spend guard: recorded cost $%.4f reached --max-cost; run %@ stopped and is resumable with\n  %@ --max-cost NEW_BUDGET\n",
          spent, run.id, resumeCommand(run.id)
        ))
    } else if result.run.status == .interrupted {
      throw Failure(verbatim: "interrupted: run \(run.id) is resumable with\n  \(resumeCommand(run.id))", code: 130)
    }
    if !failures.isEmpty {
      throw Failure(verbatim: failures.map { "gate failed: \($0)" }.joined(separator: "\n"), code: 1)
    }
  }

  /// `0.1` or `10%` as a share in [0, 1]; nil otherwise.
  static func rate(_ text: String) -> Double? {
    let percent = text.hasSuffix("%")
    guard let number = Double(percent ? String(text.dropLast()) : text), number.isFinite else { return nil }
    let share = percent ? number / 100 : number
    return (0...1).contains(share) ? share : nil
  }

  /// The exact command that finishes this run.
  func resumeCommand(_ id: String) -> String {
    var words = ["evalh", "run", suite, "--resume", id]
    if let path = database.path { words += ["--db", path] }
    if let concurrency { words += ["--concurrency", String(concurrency)] }
    return words.map(shellQuoted).joined(separator: " ")
  }
}
