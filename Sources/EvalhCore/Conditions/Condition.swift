/// One `conditions:` entry: the same trials run with this condition's faults at the tool boundary and
/// its perturbation of the input (tools.md, "Conditions").
public struct Condition: Sendable, Hashable {
  /// The condition's name (`clean` when the suite names none).
  public var name: String
  /// Its faults, decided per call.
  public var faults: FaultPlan
  /// Its rewriting of the task's string inputs.
  public var perturb: Perturbation

  /// A condition; no faults and no perturbation by default.
  public init(name: String, faults: [FaultRule] = [], perturb: Perturbation = Perturbation()) {
    self.name = name
    self.faults = FaultPlan(condition: name, rules: faults)
    self.perturb = perturb
  }

  /// The default: nothing injected.
  public static let clean = Condition(name: "clean")

  /// The name every trial had before conditions existed, and the stored default.
  public static let defaultName = "clean"

  /// Whether the condition changes nothing the agent meets.
  public var isClean: Bool { faults.rules.isEmpty && perturb.isEmpty }
}

/// What reports measure: one agent under one condition.
public struct AgentCondition: Sendable, Hashable {
  /// The agent's name.
  public var agent: String
  /// The condition's name.
  public var condition: String
  /// A pair.
  public init(agent: String, condition: String = Condition.defaultName) {
    self.agent = agent
    self.condition = condition
  }
}
