import EvalhAgents
import EvalhCore
import EvalhStore
import EvalhTools
import Foundation

/// The choices of `evalh run` that shape a run.
public struct RunOptions: Sendable {
  /// `--trials`.
  public var trials: Int?
  /// `--concurrency`.
  public var concurrency: Int?
  /// `--agent`: only these.
  public var agents: [String] = []
  /// `--task` globs.
  public var taskPatterns: [String] = []
  /// `--tag`.
  public var tags: [String] = []
  /// `--condition`: the conditions to run (all of the suite's when empty).
  public var conditions: [String] = []
  /// Told of every trial once it is committed (`run --otlp` sends its trace).
  public var onCommitted: (@Sendable (TrialRecord) async -> Void)?
  /// `--seed`.
  public var seed: Int64?
  /// `--label`.
  public var label: String?
  /// `--run-id`.
  public var runID: String?
  /// `--resume`: the run to finish.
  public var resume: String?
  /// `--keep-failed`.
  public var keepFailed = false
  /// The spend guard: stop launching once the run's recorded cost reaches this many USD.
  public var maxCost: Double?
  /// Run only this shard's tasks.
  public var shard: Shard?

  /// What `evalh run` does with no flags.
  public init() {}
}

/// Why a run could not start; each maps to an exit code of cli.md.
public enum RunError: Error, LocalizedError, Sendable {
  /// Flags that select nothing or name what the suite lacks (exit 2).
  case invalidSelection(String)
  /// `--resume` of a run that cannot be resumed as asked (exit 2).
  case cannotResume(String)
  /// The database failed (its own exit code).
  case store(StoreError)

  /// The message, naming the run, agent or task.
  public var errorDescription: String? {
    switch self {
    case .invalidSelection(let m), .cannotResume(let m): m
    case .store(let e): e.errorDescription
    }
  }

  /// cli.md's exit code.
  public var exitCode: Int32 {
    switch self {
    case .invalidSelection, .cannotResume: 2
    case .store(let e): e.exitCode
    }
  }
}

/// How a run ended.
public struct RunResult: Sendable {
  /// The run as finally stored.
  public var run: RunRecord
  /// Trials recorded by this invocation.
  public var recorded: Int
  /// Set when the database failed mid-run (exit 3).
  public var storeError: StoreError?
  /// Set when the spend guard stopped the run: the recorded cost.
  public var budgetReached: Double?
  /// Set when evalh itself could not run a planned trial (exit 3).
  public var harnessError: String?
}

/// Why a run stopped: its stored status and reason are made from it.
enum RunStop {
  case finished
  case database(StoreError)
  case harness(String)
  case signal
  case spendGuard(spent: Double, max: Double)

  var status: RunStatus {
    if case .finished = self { .completed } else { .interrupted }
  }

  var reason: String? {
    switch self {
    case .finished: nil
    case .database(let e): "stopped: \(e.errorDescription ?? "database error")"
    case .harness(let why): "stopped: \(why)"
    case .signal: "interrupted by a signal"
    case .spendGuard(let spent, let max):
      String(format: "spend guard: recorded cost $%.4f reached --max-cost $%.4f", spent, max)
    }
  }
}

/// Schedules a suite's trials, at most `concurrency` in flight, committing each as it ends.
public struct Runner: Sendable {
  /// The suite run.
  public let suite: Suite
  /// Where trials are committed.
  public let store: ResultStore
  /// The flags.
  public let options: RunOptions
  /// Triggered by signals: stop launching, end the trials in flight.
  public let interruption: Interruption
  /// The run's lock, held from `prepare` for as long as the runner lives.
  private let locks = RunLocks()

  /// A runner; nothing starts until `prepare` and `execute`.
  public init(suite: Suite, store: ResultStore, options: RunOptions, interruption: Interruption) {
    self.suite = suite
    self.store = store
    self.options = options
    self.interruption = interruption
  }

  /// The version recorded on runs.
  public static let version = "0.1.0"

  /// Creates the run (or reopens it for `--resume`) and lists the trials still to run.
  public func prepare() throws(RunError) -> (run: RunRecord, pending: PendingTrials) {
    if let id = options.resume { return try prepareResume(id) }
    let plan = try plan()
    let runID = options.runID ?? Runner.newRunID()
    // Shards of one run may run side by side (each its own tasks); a whole run is one evalh's.
    if options.shard == nil { locks.keep(try RunLock.acquire(database: store.path, runID: runID)) }
    do {
      if let existing = try store.run(id: runID) {
        // Shards of one run may share a database: each adds its tasks to the run's plan.
        guard options.shard != nil else {
          throw RunError.invalidSelection(
            "run id '\(runID)' already exists in \(store.path); use --resume \(runID) to finish it")
        }
        guard existing.suiteSHA256 == suite.sha256 else {
          throw RunError.invalidSelection(
            "run id '\(runID)' in \(store.path) was recorded with a different suite; shards of one run must run the same suite"
          )
        }
        if let mine = existing.plan.shards?.count, let theirs = plan.shards?.count, mine != theirs {
          throw RunError.invalidSelection(
            "run id '\(runID)' in \(store.path) is cut into \(mine) shards; this shard says \(theirs)")
        }
        var merged = existing
        merged.plan = existing.plan.union(plan)
        let selected = Set(plan.tasks.map(\.id))
        let redactor = Redactor(secrets: suite.secrets)
        try store.extendRun(merged, tasks: suite.tasks.filter { selected.contains($0.id) }.map(redactor.redact))
        let recorded = try store.recordedKeys(runID: runID)
        merged.status = .running
        return (merged, plan.pending(excluding: recorded))
      }
      let run = RunRecord(
        id: runID, suite: suite.name, suitePath: suite.path, suiteSHA256: suite.sha256, label: options.label,
        seed: options.seed ?? Int64(UInt32.random(in: 0...UInt32.max)),
        trials: options.trials ?? suite.trials ?? Suite.defaultTrials, status: .running, startedAt: Date(),
        evalhVersion: Runner.version, host: ProcessInfo.processInfo.hostName,
        gitCommit: Runner.gitCommit(in: suite.folder),
        configJSON: suite.config.compactText, plan: plan)
      let selected = Set(plan.tasks.map(\.id))
      let redactor = Redactor(secrets: suite.secrets)
      try store.createRun(run, tasks: suite.tasks.filter { selected.contains($0.id) }.map(redactor.redact))
      return (run, plan.pending())
    } catch let e as RunError {
      throw e
    } catch let e as StoreError {
      throw .store(e)
    } catch {
      throw .invalidSelection("\(error)")
    }
  }

  func prepareResume(_ id: String) throws(RunError) -> (run: RunRecord, pending: PendingTrials) {
    locks.keep(try RunLock.acquire(database: store.path, runID: id))
    do {
      guard var run = try store.run(id: id) else {
        throw RunError.cannotResume("no run '\(id)' in \(store.path) to resume")
      }
      guard run.suiteSHA256 == suite.sha256 else {
        throw RunError.cannotResume(
          "run \(id) was recorded with a different version of suite '\(run.suite)' (sha256 \(run.suiteSHA256.prefix(12)) ≠ \(suite.sha256.prefix(12))); resume refuses a changed suite"
        )
      }
      guard run.status != .completed else { throw RunError.cannotResume("run \(id) is already completed") }
      if run.status == .incomplete, let gap = run.plan.shardGap {
        throw RunError.cannotResume(
          "run \(id) has every trial of its shards here but is incomplete: \(gap). Run a missing shard with --shard I/N --run-id \(id)"
        )
      }
      if let unknown = undefined(in: run.plan) {
        throw RunError.cannotResume("run \(id) plans \(unknown), which suite '\(suite.name)' does not define")
      }
      let recorded = try store.recordedKeys(runID: id)
      let pending = run.plan.pending(excluding: recorded)
      try store.updateRun(id, status: .running, finishedAt: nil, stopReason: nil)
      run.status = .running
      return (run, pending)
    } catch let e as RunError {
      throw e
    } catch let e as StoreError {
      throw .store(e)
    } catch {
      throw .cannotResume("\(error)")
    }
  }

  /// The first agent or task of `plan` that the suite lacks, described; nil when it has them all.
  func undefined(in plan: RunPlan) -> String? {
    let agents = Set(suite.evaluatedAgents.map(\.name))
    let tasks = Set(suite.tasks.map(\.id))
    if let agent = plan.agents.first(where: { !agents.contains($0) }) { return "agent '\(agent)'" }
    let conditions = Set(suite.conditions.map(\.name))
    if let condition = plan.conditions.first(where: { !conditions.contains($0) }) {
      return "condition '\(condition)'"
    }
    if let task = plan.tasks.first(where: { !tasks.contains($0.id) }) { return "task '\(task.id)'" }
    return nil
  }

  /// The agents × tasks × trials the flags select.
  func plan() throws(RunError) -> RunPlan {
    let known = suite.evaluatedAgents.map(\.name)
    for name in options.agents where suite.judges.contains(name) {
      throw .invalidSelection(
        "agent '\(name)' is a judge of suite '\(suite.name)': judges grade, they are not evaluated")
    }
    for name in options.agents where !known.contains(name) {
      throw .invalidSelection("suite '\(suite.name)' has no agent '\(name)' (agents: \(known.joined(separator: ", ")))")
    }
    let agents = options.agents.isEmpty ? known : known.filter { options.agents.contains($0) }
    let named = suite.conditions.map(\.name)
    for name in options.conditions where !named.contains(name) {
      throw .invalidSelection(
        "suite '\(suite.name)' has no condition '\(name)' (conditions: \(named.joined(separator: ", ")))")
    }
    let conditions = options.conditions.isEmpty ? named : named.filter { options.conditions.contains($0) }
    let selected = suite.tasks.filter { task in
      (options.taskPatterns.isEmpty || options.taskPatterns.contains { fnmatch($0, task.id, 0) == 0 })
        && (options.tags.isEmpty || !Set(options.tags).isDisjoint(with: task.tags))
    }
    let tasks = selected.filter { options.shard?.contains($0.id) ?? true }
    guard !tasks.isEmpty else {
      throw .invalidSelection(
        "no task of suite '\(suite.name)' matches the --task/--tag filters\(options.shard.map { " in shard \($0)" } ?? "")"
      )
    }
    let base = options.trials ?? suite.trials ?? Suite.defaultTrials
    // --trials overrides every task; otherwise a task's own `trials` wins over the suite's.
    func planned(_ task: TaskSpec) -> RunPlan.PlannedTask {
      .init(id: task.id, trials: options.trials != nil ? base : (task.trials ?? base))
    }
    // A shard records the whole run's tasks too, so a merge knows what a missing shard held.
    let spread = options.shard.map {
      ShardSpread(count: $0.count, present: [$0.index], tasks: selected.map(planned))
    }
    return RunPlan(agents: agents, conditions: conditions, tasks: tasks.map(planned), shards: spread)
  }

  /// Runs `pending`, then marks the run completed or interrupted.
  public func execute(run: RunRecord, pending: PendingTrials, progress: ProgressDisplay) async -> RunResult {
    let agents = Dictionary(suite.agents.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let tasks = Dictionary(suite.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let conditions = Dictionary(suite.conditions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    // Agents an evalh killed with -9 left running would compete with this run: ended first.
    ChildProcess.endStrays()
    let adapters = AgentAdapters(suite.agents)
    // The root carries evalh's pid: one that exists is a dead evalh's of the same pid (this run's
    // lock is ours), removed so that every trial's folder is made anew, never reused.
    let root = NSTemporaryDirectory().appending("evalh-\(Names.pathComponent(run.id))-\(getpid())")
    try? FileManager.default.removeItem(atPath: root)
    var toolServer: ToolServer?
    var harnessError: String?
    if suite.servesTools {
      do {
        toolServer = try await ToolServer()
      } catch {
        harnessError = "cannot start the tool server on 127.0.0.1: \(error)"
        interruption.trigger()
      }
    }
    let executor = TrialExecutor(
      suite: suite, runID: run.id, runSeed: run.seed, keepFailed: options.keepFailed, interruption: interruption,
      folders: WorkFolders(root: root),
      redactor: Redactor(secrets: suite.secrets), adapters: adapters, toolServer: toolServer)
    let concurrency = max(1, options.concurrency ?? suite.concurrency ?? Suite.defaultConcurrency)
    var recorded = 0
    var storeError: StoreError?
    // The spend guard counts what the run already recorded (a resumed run carries its spend).
    var spent = options.maxCost == nil ? 0 : ((try? store.recordedCost(runID: run.id)) ?? 0)
    // Sums of binary fractions drift (10 × 0.01 < 0.1): compare with a relative tolerance.
    func reached(_ max: Double) -> Bool { spent >= max * (1 - 1e-9) }
    var budgetReached: Double? = options.maxCost.flatMap { reached($0) ? spent : nil }

    let committer = Committer(store: store)
    // A trial's slot is free once it is graded: its commit runs beside the next trial instead of
    // ahead of it. At most `concurrency` commits wait at once, so a slow disk slows the run down
    // rather than letting graded trials pile up in memory.
    enum Step: Sendable {
      case graded(TrialExecutor.End)
      case committed(TrialRecord)
      case failed(StoreError)
    }
    await withTaskGroup(of: Step.self) { group in
      var queue = pending.makeIterator()
      var inFlight = 0
      var committing = 0
      func launchNext() -> Bool {
        guard inFlight < concurrency, committing < concurrency else { return false }
        guard !interruption.isTriggered, budgetReached == nil, let key = queue.next() else { return false }
        guard let agent = agents[key.agent], let adapter = adapters[key.agent], let task = tasks[key.taskID],
          let condition = conditions[key.condition]
        else {
          // `prepare` refuses such a plan; were one to get here, stop rather than skip trials unseen.
          harnessError =
            "the run plans agent '\(key.agent)', condition '\(key.condition)' and task '\(key.taskID)', which the suite does not define"
          interruption.trigger()
          return false
        }
        group.addTask {
          .graded(
            await executor.run(
              TrialKeyRef(agent: key.agent, condition: key.condition, taskID: key.taskID, trial: key.trial),
              agent: agent, adapter: adapter, task: task, condition: condition))
        }
        inFlight += 1
        return true
      }
      while launchNext() {}
      while inFlight + committing > 0, let step = await group.next() {
        switch step {
        case .graded(let end):
          inFlight -= 1
          guard case .recorded(let record) = end else {
            if case .harness(let why) = end, harnessError == nil {
              // evalh's own failure (out of file descriptors): stop, as for a database failure.
              harnessError = why
              interruption.trigger()
            }
            break
          }
          spent += record.costUSD ?? 0
          if let max = options.maxCost, reached(max), budgetReached == nil { budgetReached = spent }
          committing += 1
          group.addTask {
            do {
              try await committer.commit(record)
              return .committed(record)
            } catch let error as StoreError {
              return .failed(error)
            } catch {
              return .failed(.database(path: store.path, message: "\(error)"))
            }
          }
        case .committed(let record):
          committing -= 1
          recorded += 1
          progress.record(record.status)
          await options.onCommitted?(record)
        case .failed(let error):
          committing -= 1
          // The database cannot take more: stop launching, end what is in flight.
          storeError = storeError ?? error
          interruption.trigger()
        }
        while launchNext() {}
      }
    }
    progress.finish()
    await adapters.shutdown()
    await toolServer?.shutdown()
    try? FileManager.default.removeItem(atPath: executor.stateRoot)
    // Whatever escaped its trial's process group and its mark (`env -i`) ends with the run.
    ChildProcess.endOrphans()
    // Kept folders of failed trials stay; otherwise every trial's folder is gone and so is the root.
    executor.folders.removeSpares()
    if !options.keepFailed { try? FileManager.default.removeItem(atPath: executor.folders.root) }

    let stop: RunStop
    if let storeError {
      stop = .database(storeError)
    } else if let harnessError {
      stop = .harness(harnessError)
    } else if interruption.isTriggered {
      stop = .signal
    } else if let budgetReached, let max = options.maxCost, recorded < pending.count {
      stop = .spendGuard(spent: budgetReached, max: max)
    } else {
      stop = .finished
    }
    var final = run
    final.finishedAt = Date()
    final.status = stop.status
    final.stopReason = stop.reason
    // Every trial of this shard is in; the run is whole only once the other shards are merged.
    if case .finished = stop, let gap = run.plan.shardGap {
      final.status = .incomplete
      final.stopReason = gap
    }
    do {
      try store.updateRun(final.id, status: final.status, finishedAt: final.finishedAt, stopReason: final.stopReason)
    } catch {
      storeError = storeError ?? error
    }
    var spendGuardStop: Double?
    if case .spendGuard(let spent, _) = stop { spendGuardStop = spent }
    return RunResult(
      run: final, recorded: recorded, storeError: storeError, budgetReached: spendGuardStop, harnessError: harnessError)
  }

  /// `r-YYYYMMDD-xxxxxx`.
  public static func newRunID(now: Date = Date()) -> String {
    let day = Timestamp.format(now).prefix(10).replacingOccurrences(of: "-", with: "")
    return "r-\(day)-\(String(format: "%06x", UInt32.random(in: 0...0xFF_FFFF)))"
  }

  static func gitCommit(in folder: String) -> String? {
    let result = ChildProcess.runBlocking(
      ChildSpec(
        argv: ["git", "rev-parse", "HEAD"], cwd: folder, environment: ProcessInfo.processInfo.environment, timeout: 5,
        maxStdout: 4096))
    guard result.termination == .exited(0) else { return nil }
    let text = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return text.isEmpty ? nil : text
  }
}
