/// One selection step: the points it chose, their distances (the novelty
/// score: RND distance, k-center distance to the chosen set, 0 for random)
/// and where its time went.
public struct StepRecord: Sendable, Equatable {
  /// 1-based step number.
  public var step: Int
  public var indices: [Int]
  public var distances: [Double]
  /// Seconds scoring the pool (forward passes, distances, arg-max).
  public var evaluationSeconds: Double
  /// Seconds retraining the predictor (RND only).
  public var trainingSeconds: Double

  public init(step: Int, indices: [Int], distances: [Double], evaluationSeconds: Double, trainingSeconds: Double) {
    self.step = step; self.indices = indices; self.distances = distances
    self.evaluationSeconds = evaluationSeconds; self.trainingSeconds = trainingSeconds
  }
}

/// What a selection run returns.
public struct SelectionResult: Sendable, Equatable {
  public var method: SelectionMethod
  /// Chosen pool indices, in the order chosen (never repeated).
  public var indices: [Int]
  public var steps: [StepRecord]
  /// True when the threshold stopped the run before `size` picks.
  public var stoppedEarly: Bool
  /// Why the run stopped early (nil otherwise).
  public var stopReason: String?
  /// Steps restored from a checkpoint (0 for a fresh run).
  public var resumedSteps: Int
  /// Wall-clock seconds of the whole run (set-up included).
  public var seconds: Double
}

/// The selection methods.
public enum SelectionMethod: String, Sendable, Equatable, CaseIterable {
  /// Random Network Distillation, Algorithm 1 of the paper.
  case rnd
  /// Uniform without replacement, seeded.
  case random
  /// Greedy k-center on the raw features.
  case kCenter = "kcenter"

  /// Parses `rnd`, `random` or `kcenter` (also `k-center`, `k_center`).
  public init(parsing text: String) throws {
    switch text.lowercased() {
    case "rnd": self = .rnd
    case "random": self = .random
    case "kcenter", "k-center", "k_center": self = .kCenter
    default:
      throw NTKitError.invalidArgument("unknown selection method '\(text)'; valid methods: rnd, random, kcenter")
    }
  }
}
