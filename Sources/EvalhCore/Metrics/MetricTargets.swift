import Foundation

/// `slo:`: the targets metrics are measured against.
public struct SLO: Sendable, Hashable {
  /// Seconds: a trial within this is SLA-compliant.
  public var latency: Double?
  /// USD budget per trial.
  public var cost: Double?
  /// Targets; nil where there is none.
  public init(latency: Double? = nil, cost: Double? = nil) {
    self.latency = latency
    self.cost = cost
  }
}

/// `clear.weights:`: how the CLEAR score weighs its five dimensions (equal by default).
public struct ClearWeights: Sendable, Hashable {
  /// Weight of C.
  public var cost = 0.2
  /// Weight of L.
  public var latency = 0.2
  /// Weight of E.
  public var efficacy = 0.2
  /// Weight of A.
  public var assurance = 0.2
  /// Weight of R.
  public var reliability = 0.2
  /// Equal weights.
  public init() {}

  /// The keys of `clear.weights:`.
  public static let keys = ["cost", "latency", "efficacy", "assurance", "reliability"]
}

/// What the metrics are measured against (from the suite stored with the run).
public struct MetricTargets: Sendable, Hashable {
  /// Latency and cost targets.
  public var slo: SLO
  /// The CLEAR weights.
  public var weights: ClearWeights
  /// Targets from their parts (none, equal weights by default).
  public init(slo: SLO = SLO(), weights: ClearWeights = ClearWeights()) {
    self.slo = slo
    self.weights = weights
  }
}

extension MetricTargets {
  /// The SLO and CLEAR weights of a stored suite (`runs.config_json`): reports need nothing else.
  public init(config: JSONValue) {
    var slo = SLO()
    if let latency = config["slo"]?["latency"] {
      slo.latency = latency.numberValue ?? latency.stringValue.flatMap(YAMLReader.parseDuration)
    }
    slo.cost = config["slo"]?["cost"]?.numberValue
    var weights = ClearWeights()
    if let w = config["clear"]?["weights"] {
      weights.cost = w["cost"]?.numberValue ?? weights.cost
      weights.latency = w["latency"]?.numberValue ?? weights.latency
      weights.efficacy = w["efficacy"]?.numberValue ?? weights.efficacy
      weights.assurance = w["assurance"]?.numberValue ?? weights.assurance
      weights.reliability = w["reliability"]?.numberValue ?? weights.reliability
    }
    self.init(slo: slo, weights: weights)
  }
}
