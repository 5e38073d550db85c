/// `perturb:` of a condition: the task's string inputs rewritten per trial, seeded, as users
/// misspell and misformat (tools.md, "Conditions"). Structured inputs keep their shape: only string
/// leaves change, never keys.
public struct Perturbation: Sendable, Hashable {
  /// Per letter, the chance of a typo: an adjacent swap, a drop or a doubling. 0 is none.
  public var typos: Double = 0
  /// Words in random case styles (lower, UPPER, Capitalised).
  public var changeCase = false
  /// Spaces doubled, and a stray space or line break at the ends.
  public var whitespace = false
  /// A meaning-free phrase added before or after.
  public var filler = false

  /// No perturbation.
  public init(typos: Double = 0, changeCase: Bool = false, whitespace: Bool = false, filler: Bool = false) {
    self.typos = typos
    self.changeCase = changeCase
    self.whitespace = whitespace
    self.filler = filler
  }

  /// Whether it changes anything.
  public var isEmpty: Bool { typos <= 0 && !changeCase && !whitespace && !filler }

  /// Phrases that add words and no meaning.
  static let fillers = [
    "Hi there,", "Quick question:", "Thanks in advance!", "Sorry if this was asked before.", "(sent from my phone)",
    "Hope you are well.", "Just wondering,", "Any help appreciated.",
  ]

  /// `input` as trial `trial` of `task` under `condition` meets it; the same for every agent.
  public func apply(to input: JSONValue, runSeed: Int64, condition: String, task: String, trial: Int) -> JSONValue {
    guard !isEmpty else { return input }
    var rng = SplitMix64(seed: ConditionSeed.of(runSeed: runSeed, [condition, task, "perturb"], [trial]))
    return rewrite(input, &rng)
  }

  private func rewrite(_ value: JSONValue, _ rng: inout SplitMix64) -> JSONValue {
    switch value {
    case .string(let s): .string(perturb(s, &rng))
    case .array(let items): .array(items.map { rewrite($0, &rng) })
    case .object(let fields):
      // In key order, so the draws do not depend on a dictionary's iteration order.
      .object(
        Dictionary(
          uniqueKeysWithValues: fields.keys.sorted().map { key in (key, rewrite(fields[key] ?? .null, &rng)) }))
    default: value
    }
  }

  /// One string's perturbation.
  func perturb(_ text: String, _ rng: inout SplitMix64) -> String {
    var out = text
    if typos > 0 { out = Self.typo(out, rate: typos, &rng) }
    if changeCase {
      out = out.split(separator: " ", omittingEmptySubsequences: false).map { word in
        switch rng.next() % 3 {
        case 0: word.lowercased()
        case 1: word.uppercased()
        default: word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }
      }.joined(separator: " ")
    }
    if whitespace {
      out = out.split(separator: " ", omittingEmptySubsequences: false).map(String.init).reduce(into: "") {
        result, word in
        if !result.isEmpty || word.isEmpty { result += rng.next() % 3 == 0 ? "  " : " " }
        result += word
      }
      let ends = ["", " ", "\n", "  "]
      out = ends[Int(rng.next() % 4)] + out + ends[Int(rng.next() % 4)]
    }
    if filler {
      let phrase = Self.fillers[Int(rng.next() % UInt64(Self.fillers.count))]
      out = rng.next() % 2 == 0 ? phrase + " " + out : out + " " + phrase
    }
    return out
  }

  /// Per letter with probability `rate`: swap with the next character, drop it, or double it.
  static func typo(_ text: String, rate: Double, _ rng: inout SplitMix64) -> String {
    let chars = Array(text)
    var out: [Character] = []
    out.reserveCapacity(chars.count + 4)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      guard c.isLetter, ConditionSeed.unit(rng.next()) < rate else {
        out.append(c)
        i += 1
        continue
      }
      switch rng.next() % 3 {
      case 0 where i + 1 < chars.count:
        out.append(chars[i + 1])
        out.append(c)
        i += 2
        continue
      case 1: break  // dropped
      default: out += [c, c]
      }
      i += 1
    }
    return String(out)
  }
}

/// Which input trial `trial` of a task with `variants` paraphrases uses: (trial − 1) mod (1 + V),
/// 0 being the task's `input`.
public func variantIndex(trial: Int, variants: Int) -> Int {
  guard variants > 0, trial >= 1 else { return 0 }
  return (trial - 1) % (1 + variants)
}
