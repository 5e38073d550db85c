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

@Suite struct ConditionSuiteTests {
  @Test func conditionsAndVariantsLoadWithTheirDefaults() throws {
    let folder = SuiteFolder()
    let suite = try folder.load(
      head + """
        conditions:
          clean: {}
          bare:
          flaky:
            faults:
              - { kind: unavailable, rate: 0.2 }
              - { kind: timeout, tools: [issue_*], on_call: 1, after: 5s }
              - { kind: rate_limit, tools: lookup, rate: 0.1, retry_after: 250ms }
              - { kind: latency, on_call: 2, delay: 2s }
          typos:
            perturb: { typos: 0.03, case: true, whitespace: true, filler: true }
        tasks:
          - id: a
            input: "Refund order A100"
            variants: ["Please refund A100", { text: "A100 refund" }]
          - { id: b, input: x }
        """)
    #expect(suite.conditions.map(\.name) == ["clean", "bare", "flaky", "typos"])
    #expect(suite.conditions[0].isClean && suite.conditions[1].isClean)
    let rules = suite.conditions[2].faults.rules
    #expect(rules.map(\.kind) == [.unavailable, .timeout, .rateLimit, .latency])
    #expect(rules[0].tools.isEmpty && rules[0].when == .rate(0.2))
    #expect(rules[1].tools == ["issue_*"] && rules[1].when == .onCall(1) && rules[1].after == 5)
    #expect(rules[2].tools == ["lookup"] && rules[2].retryAfter == 0.25)
    #expect(rules[3].delay == 2)
    #expect(suite.conditions[3].perturb == Perturbation(typos: 0.03, changeCase: true, whitespace: true, filler: true))
    let a = try #require(suite.tasks.first)
    #expect(a.variants.count == 2)
    #expect(a.input(forTrial: 1) == (.string("Refund order A100"), 0))
    #expect(a.input(forTrial: 2) == (.string("Please refund A100"), 1))
    #expect(a.input(forTrial: 3).variant == 2 && a.input(forTrial: 4).variant == 0)
    // A suite without conditions runs every trial clean.
    #expect(try folder.load(head + "tasks: [{ id: a, input: x }]\n").conditions == [.clean])
  }

  @Test func everyMistakeIsNamedWithItsPlace() {
    let folder = SuiteFolder()
    let errors = folder.errors(
      head + """
        conditions:
          "bad name": {}
          flaky:
            faults:
              - { kind: unavialable, rate: 0.2 }
              - { kind: timeout }
              - { kind: timeout, rate: 2 }
              - { kind: latency, rate: 0.1, on_call: 2 }
              - { kind: latency, on_call: 0 }
              - { kind: unavailable, rate: 0.1, after: 5s }
              - { kind: timeout, on_call: 1, after: -1 }
              - { rate: 0.1 }
              - { kind: empty, rate: 0.1, tool: [x] }
            perturb: { typos: 1.5, case: yes please }
          odd: { faults: nope }
        tasks:
          - { id: a, input: x, variants: [] }
        """)
    #expect(
      errors == [
        "suite.yaml:20:34: variants must be a non-empty list of inputs (paraphrases of 'input')",
        "suite.yaml:5:3: condition name 'bad name' must match [A-Za-z0-9._-]+",
        "suite.yaml:8:17: unknown fault kind 'unavialable' (kinds: unavailable, rate_limit, timeout, latency, malformed, empty, schema_drift, lost_response, protocol_error); did you mean 'unavailable'?",
        "suite.yaml:9:9: a fault needs 'rate' (a probability per call) or 'on_call' (the call it fires on)",
        "suite.yaml:10:32: rate must be a probability from 0 to 1",
        "suite.yaml:11:32: a fault fires by 'rate' or by 'on_call', not both",
        "suite.yaml:12:35: on_call must be at least 1",
        "suite.yaml:13:41: 'after' belongs to kind 'timeout', not 'unavailable'",
        "suite.yaml:14:45: after must be a positive duration such as 250ms, 30s, 2m or a number of seconds",
        "suite.yaml:15:9: a fault needs a 'kind' (unavailable, rate_limit, timeout, latency, malformed, empty, schema_drift, lost_response, protocol_error)",
        "suite.yaml:16:35: unknown key 'tool' in a fault (did you mean 'tools'?)",
        "suite.yaml:17:23: typos must be a rate per letter from 0 to 1",
        "suite.yaml:17:34: case must be true or false",
        "suite.yaml:18:18: faults must be a list of fault entries",
      ], "\(errors)")
  }
}
