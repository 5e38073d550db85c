import Foundation
import Synchronization

/// A suite-level rate of metrics.md: a column of the rate table.
enum Rate: Hashable, Sendable {
  case success
  case firstRun
  case consistency
  case efficacy
  case assurance
  case adherence
  case sla
  /// pass^k, k ≥ 1.
  case passHat(Int)
  /// pass@k, k ≥ 1.
  case passAt(Int)

  /// The rates whose denominators differ by task (summed task by task); the others depend only on a
  /// task's (n, c) and have denominator 1 per task.
  static let direct: [Rate] = [.firstRun, .efficacy, .assurance, .adherence, .sla]
}

/// Where each rate sits among the columns of a table measured with pass^k and pass@k up to `nMin`.
struct RateColumns: Sendable {
  let nMin: Int
  static let fixed: [Rate] = [.success, .firstRun, .consistency, .efficacy, .assurance, .adherence, .sla]

  /// How many columns there are.
  var count: Int { Self.fixed.count + 2 * nMin }

  /// The column of `rate` (k of pass^k and pass@k in 1...nMin).
  func index(_ rate: Rate) -> Int {
    switch rate {
    case .success: 0
    case .firstRun: 1
    case .consistency: 2
    case .efficacy: 3
    case .assurance: 4
    case .adherence: 5
    case .sla: 6
    case .passHat(let k): Self.fixed.count + k - 1
    case .passAt(let k): Self.fixed.count + nMin + k - 1
    }
  }

  /// Every rate, in column order.
  var all: [Rate] { Self.fixed + (0..<nMin).map { .passHat($0 + 1) } + (0..<nMin).map { .passAt($0 + 1) } }
}

/// One value per rate, read by name.
struct RateValues<Value: Sendable>: Sendable {
  let columns: RateColumns
  /// In column order.
  let values: [Value?]

  subscript(_ rate: Rate) -> Value? { values[columns.index(rate)] }
}

/// Each suite-level rate as Σ numerator / Σ denominator over tasks: means over tasks have
/// denominator 1 per task, shares of trials have n.
struct RateTable {
  let columns: RateColumns
  let taskCount: Int
  /// The `Rate.direct` columns, summed task by task: [task × 5] numerators and denominators.
  let directNumerators: [Double]
  let directDenominators: [Double]
  /// The other columns depend only on a task's (n, c): each task points at the row of its pair, so a
  /// resample counts pairs and sums each distinct row once (success, consistency, pass^k, pass@k for
  /// every k would otherwise cost columns × tasks per resample).
  let pairOfTask: [Int]
  let pairRows: [[Double]]
  /// The columns of the pair rows: every column but the direct ones.
  let pairColumns: [Int]
  let directColumns: [Int]

  init(tasks: [TaskMetrics], nMin: Int, hasSLA: Bool) {
    let columns = RateColumns(nMin: nMin)
    self.columns = columns
    taskCount = tasks.count
    var nums: [Double] = []
    var dens: [Double] = []
    nums.reserveCapacity(tasks.count * Rate.direct.count)
    dens.reserveCapacity(tasks.count * Rate.direct.count)
    var pairIndex: [Int64: Int] = [:]
    var pairs: [[Double]] = []
    var pairOfTask: [Int] = []
    for t in tasks {
      let n = Double(t.trials)
      // In the order of `Rate.direct`.
      nums += [
        t.firstRun ? 1 : 0, Double(t.sums.efficacyPasses), Double(t.sums.cleanTrials),
        Double(t.sums.checks - t.violations), Double(t.sums.slaCompliant),
      ]
      dens += [1, n, n, Double(t.sums.checks), hasSLA ? n : 0]
      let key = Int64(t.trials) << 32 | Int64(t.passes)
      if let index = pairIndex[key] {
        pairOfTask.append(index)
        continue
      }
      // The row in column order, zero where a column is summed task by task.
      var row = [Double](repeating: 0, count: columns.count)
      row[columns.index(.success)] = t.successRate
      row[columns.index(.consistency)] = t.isConsistent ? 1 : 0
      for k in stride(from: 1, through: nMin, by: 1) {
        row[columns.index(.passHat(k))] = Statistics.passHatK(n: t.trials, c: t.passes, k: k)
        row[columns.index(.passAt(k))] = Statistics.passAtK(n: t.trials, c: t.passes, k: k)
      }
      pairIndex[key] = pairs.count
      pairOfTask.append(pairs.count)
      pairs.append(row)
    }
    directNumerators = nums
    directDenominators = dens
    self.pairOfTask = pairOfTask
    pairRows = pairs
    directColumns = Rate.direct.map(columns.index)
    let direct = Set(directColumns)
    pairColumns = (0..<columns.count).filter { !direct.contains($0) }
  }

  var all: [Int] { Array(0..<taskCount) }

  /// Every rate over the tasks at `indices` (repeats allowed); nil where the denominator is 0.
  func estimate(_ indices: [Int]) -> RateValues<Double> {
    RateValues(columns: columns, values: estimateColumns(indices))
  }

  /// `estimate` in column order.
  private func estimateColumns(_ indices: [Int]) -> [Double?] {
    var num = [Double](repeating: 0, count: columns.count)
    var den = [Double](repeating: 0, count: columns.count)
    var pairCounts = [Double](repeating: 0, count: pairRows.count)
    // Plain sums in registers, no bounds checks: this runs over every task of a large run.
    var (n0, n1, n2, n3, n4) = (0.0, 0.0, 0.0, 0.0, 0.0)
    var (d0, d1, d2, d3, d4) = (0.0, 0.0, 0.0, 0.0, 0.0)
    directNumerators.withUnsafeBufferPointer { dn in
      directDenominators.withUnsafeBufferPointer { dd in
        pairOfTask.withUnsafeBufferPointer { pair in
          pairCounts.withUnsafeMutableBufferPointer { counts in
            for i in indices {
              let base = 5 &* i
              n0 += dn[base]
              n1 += dn[base &+ 1]
              n2 += dn[base &+ 2]
              n3 += dn[base &+ 3]
              n4 += dn[base &+ 4]
              d0 += dd[base]
              d1 += dd[base &+ 1]
              d2 += dd[base &+ 2]
              d3 += dd[base &+ 3]
              d4 += dd[base &+ 4]
              counts[pair[i]] += 1
            }
          }
        }
      }
    }
    for (slot, (n, d)) in [(n0, d0), (n1, d1), (n2, d2), (n3, d3), (n4, d4)].enumerated() {
      num[directColumns[slot]] = n
      den[directColumns[slot]] = d
    }
    for (row, count) in zip(pairRows, pairCounts) where count > 0 {
      for j in pairColumns { num[j] += count * row[j] }
    }
    // Pair columns have denominator 1 per task.
    for j in pairColumns { den[j] = Double(indices.count) }
    return (0..<columns.count).map { den[$0] > 0 ? num[$0] / den[$0] : nil }
  }

  /// The 95% interval of every rate over the tasks (`SuiteInterval`), each with the trials behind it
  /// as its most units: trials for shares of trials, checks for adherence, trials / k for pass^k
  /// and pass@k (each estimate uses k trials at a time), tasks for first run and consistency.
  func intervals() -> RateValues<Intervals.Range> {
    let m = taskCount
    guard m > 0 else {
      return RateValues(columns: columns, values: [Intervals.Range?](repeating: nil, count: columns.count))
    }
    let trials = (0..<m).reduce(0.0) { $0 + directDenominators[5 * $1 + 1] }
    var bounds = [Intervals.Range?](repeating: nil, count: columns.count)
    for (slot, column) in directColumns.enumerated() {
      let nums = (0..<m).map { directNumerators[5 * $0 + slot] }
      let dens = (0..<m).map { directDenominators[5 * $0 + slot] }
      bounds[column] = SuiteInterval.of(numerators: nums, denominators: dens, units: dens.reduce(0, +))
    }
    let ones = [Double](repeating: 1, count: m)
    for rate in columns.all {
      let column = columns.index(rate)
      guard pairColumns.contains(column) else { continue }
      let units: Double =
        switch rate {
        case .passHat(let k), .passAt(let k): trials / Double(k)
        case .consistency: Double(m)
        default: trials
        }
      let values = pairOfTask.map { pairRows[$0][column] }
      bounds[column] = SuiteInterval.of(numerators: values, denominators: ones, units: units)
    }
    return RateValues(columns: columns, values: bounds)
  }
}
