/// One problem in a suite, located like a compiler diagnostic.
public struct SuiteDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
  /// The file as the user named it.
  public var file: String
  /// 1-based line; 0 when the problem has no position (a missing file).
  public var line: Int
  /// 1-based column.
  public var column: Int
  /// What is wrong, in a sentence.
  public var message: String

  /// As a compiler prints it, control characters made visible (a message may quote the suite).
  public var description: String {
    let text = VisibleText.of(message)
    return line > 0 ? "\(VisibleText.of(file)):\(line):\(column): \(text)" : "\(VisibleText.of(file)): \(text)"
  }
}

/// Every problem found in a suite (validation reports all of them, not only the first).
public struct SuiteErrors: Error, Sendable, CustomStringConvertible {
  /// The problems, in file order.
  public var diagnostics: [SuiteDiagnostic]
  /// As a compiler prints it.
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), for "did you mean".
func levenshtein(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
  for i in 0...a.count { d[i][0] = i }
  for j in 0...b.count { d[0][j] = j }
  for i in 1...a.count {
    for j in 1...b.count {
      d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
    }
  }
  return d[a.count][b.count]
}

/// The closest of `candidates` to `word`, when close enough to be a likely typo.
func suggestion(for word: String, among candidates: [String]) -> String? {
  let scored = candidates.map { ($0, levenshtein(word.lowercased(), $0)) }
  guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
  return best.1 <= max(1, min(3, best.0.count / 3)) ? best.0 : nil
}
