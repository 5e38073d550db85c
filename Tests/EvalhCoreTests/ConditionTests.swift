import Foundation
import Testing

@testable import EvalhCore

/// The fault plan and the perturbations of conditions: pure, seeded, the same for every agent.
@Suite struct FaultPlanTests {
  static let plan = FaultPlan(
    condition: "flaky-tools",
    rules: [
      FaultRule(kind: .timeout, tools: ["issue_refund"], when: .onCall(1), after: 5),
      FaultRule(kind: .unavailable, tools: ["*"], when: .rate(0.2)),
      FaultRule(kind: .lostResponse, tools: ["issue_*"], when: .rate(0.1)),
    ])

  @Test func theSameSeedMeetsTheSameFaultsAndAnotherSeedOthers() {
    func faults(_ seed: Int64) -> [Fault?] {
      (1...20).flatMap { trial in
        (1...5).map { call in Self.plan.fault(runSeed: seed, task: "t1", trial: trial, tool: "lookup", call: call) }
      }
    }
    // No agent among the inputs: two agents (and a resumed run) with the same seed meet the same plan.
    #expect(faults(42) == faults(42))
    #expect(faults(42) != faults(43))
    // Another condition's name is another plan.
    var renamed = Self.plan
    renamed.condition = "other"
    #expect(
      (1...50).map { Self.plan.fault(runSeed: 1, task: "t", trial: $0, tool: "lookup", call: 1) }
        != (1...50).map { renamed.fault(runSeed: 1, task: "t", trial: $0, tool: "lookup", call: 1) })
  }

  @Test func ratesLandWithinBinomialBounds() {
    // 20,000 calls at 20%: the count lies within 4 standard deviations of 4,000 (±226).
    var fired = 0
    for trial in 1...2_000 {
      for call in 1...10 {
        if Self.plan.fault(runSeed: 7, task: "t", trial: trial, tool: "lookup", call: call)?.kind == .unavailable {
          fired += 1
        }
      }
    }
    #expect(abs(fired - 4_000) <= 226, "\(fired)")
    // issue_refund: its first call always times out (the first rule wins); later calls see the
    // others: 20% unavailable, then 10% of the rest lost, 8% in all.
    var lost = 0
    for trial in 1...2_000 {
      let first = Self.plan.fault(runSeed: 7, task: "t", trial: trial, tool: "issue_refund", call: 1)
      #expect(first?.kind == .timeout && first?.seconds == 5)
      for call in 2...6 {
        if Self.plan.fault(runSeed: 7, task: "t", trial: trial, tool: "issue_refund", call: call)?.kind
          == .lostResponse
        {
          lost += 1
        }
      }
    }
    // 10,000 calls at 0.8 × 0.1 = 8%: 800 ± 4 × 27.
    #expect(abs(lost - 800) <= 109, "\(lost)")
  }

  @Test func onCallFiresExactlyOnce() {
    let plan = FaultPlan(condition: "c", rules: [FaultRule(kind: .protocolError, tools: ["a?"], when: .onCall(3))])
    for trial in 1...50 {
      let fired = (1...10).filter { plan.fault(runSeed: 3, task: "t", trial: trial, tool: "ab", call: $0) != nil }
      #expect(fired == [3])
      #expect(plan.fault(runSeed: 3, task: "t", trial: trial, tool: "abc", call: 3) == nil)  // the glob is one letter
    }
    // Defaults of the timed kinds.
    let timed = FaultPlan(
      condition: "c",
      rules: [
        FaultRule(kind: .timeout, when: .onCall(1)), FaultRule(kind: .rateLimit, when: .onCall(2)),
        FaultRule(kind: .latency, when: .onCall(3), delay: 0.25),
      ])
    #expect(timed.fault(runSeed: 0, task: "t", trial: 1, tool: "x", call: 1)?.seconds == 10)
    #expect(timed.fault(runSeed: 0, task: "t", trial: 1, tool: "x", call: 2)?.seconds == 1)
    #expect(timed.fault(runSeed: 0, task: "t", trial: 1, tool: "x", call: 3)?.seconds == 0.25)
    #expect(timed.fault(runSeed: 0, task: "t", trial: 1, tool: "x", call: 4) == nil)
  }
}

@Suite struct PerturbationTests {
  static let text = "Where is my order 1234? It was supposed to arrive on Monday and nothing came."

  @Test func seededPerTrialAndTheSameForEveryAgent() {
    let p = Perturbation(typos: 0.1, changeCase: true, whitespace: true, filler: true)
    let input = JSONValue.string(Self.text)
    let a = p.apply(to: input, runSeed: 9, condition: "typos", task: "t1", trial: 2)
    #expect(a == p.apply(to: input, runSeed: 9, condition: "typos", task: "t1", trial: 2))
    #expect(a != input)
    #expect(a != p.apply(to: input, runSeed: 9, condition: "typos", task: "t1", trial: 3))
    #expect(Perturbation().apply(to: input, runSeed: 9, condition: "clean", task: "t1", trial: 2) == input)
  }

  @Test func typosTouchAboutTheirRateOfLetters() {
    // At 3% per letter, over 200 trials of a 61-letter text: changed texts differ from the original
    // in a few places; none is empty and the length moves by little.
    let p = Perturbation(typos: 0.03)
    var changed = 0
    for trial in 1...200 {
      guard case .string(let s) = p.apply(to: .string(Self.text), runSeed: 1, condition: "c", task: "t", trial: trial)
      else { continue }
      if s != Self.text { changed += 1 }
      #expect(abs(s.count - Self.text.count) <= 8)
    }
    // P(no typo in 61 letters) = 0.97^61 ≈ 16%: about 168 of 200 change, surely between 130 and 195.
    #expect(changed > 130 && changed < 195, "\(changed)")
  }

  @Test func eachKindDoesWhatItSays() {
    var rng = SplitMix64(seed: 5)
    let cased = Perturbation(changeCase: true).perturb(Self.text, &rng)
    #expect(cased.lowercased() == Self.text.lowercased() && cased != Self.text)
    let spaced = Perturbation(whitespace: true).perturb(Self.text, &rng)
    #expect(spaced.split(whereSeparator: \.isWhitespace) == Self.text.split(whereSeparator: \.isWhitespace))
    let filled = Perturbation(filler: true).perturb(Self.text, &rng)
    #expect(filled.contains(Self.text) && Perturbation.fillers.contains { filled.contains($0) })
  }

  @Test func structuredInputsKeepTheirShape() {
    let input = JSONValue.object([
      "question": .string(Self.text), "order": .number(1234), "tags": .array([.string("billing urgent"), .bool(true)]),
    ])
    let out = Perturbation(changeCase: true, filler: true).apply(
      to: input, runSeed: 2, condition: "c", task: "t", trial: 1)
    #expect(out["order"] == .number(1234))
    #expect(out["tags"]?.arrayValue?.last == .bool(true))
    #expect(out["question"] != input["question"])
    #expect(out.objectValue?.keys.sorted() == ["order", "question", "tags"])
  }

  @Test func variantsCycleWithTheTrial() {
    #expect((1...7).map { variantIndex(trial: $0, variants: 2) } == [0, 1, 2, 0, 1, 2, 0])
    #expect(variantIndex(trial: 5, variants: 0) == 0)
  }
}
