/// Initial weights of an RND network.
public enum InitialWeights: Sendable, Equatable {
  /// LeCun normal kernels, zero biases (standard parameterization), from a
  /// seed derived from the request's seed and the network's role.
  case seeded
  /// Given parameters (must match the model's parameter count).
  case parameters(ModelParameters)
  /// A safetensors file with `layers.{i}.kernel` / `layers.{i}.bias`.
  case file(String)
}

/// Progress of a running selection, for a progress line.
public struct SelectionProgress: Sendable {
  public var step: Int
  public var picks: Int
  public var size: Int
  /// Pool points scored per second in the last step (0 for random).
  public var pointsPerSecond: Double
  public var elapsedSeconds: Double
}

/// Everything a selection run needs. Defaults are the RND issue's.
public struct SelectionRequest: Sendable {
  public var pool: PoolSource
  public var method: SelectionMethod
  /// Number of points to choose, S (exactly S unless the threshold stops the run).
  public var size: Int
  public var distance: SelectionDistance = .metric(.mse)
  /// Architecture of target and predictor; nil for `defaultModel(features:)`.
  public var model: ModelSpec?
  public var targetWeights: InitialWeights = .seeded
  public var predictorWeights: InitialWeights = .seeded
  public var seed: UInt64 = 0
  /// Full-batch Adam epochs per retrain.
  public var epochs = 50
  public var learningRate = 1e-3
  /// Restart the predictor from its initial weights at every retrain (default: warm start).
  public var reinit = false
  /// Retrain mini-batch size; nil for full batch.
  public var batchSize: Int?
  /// Points chosen per step (per retrain), k.
  public var picksPerStep = 1
  /// Stop early when the largest distance is ≤ this.
  public var threshold: Double?
  /// Checkpoint file, written atomically every `checkpointEvery` steps and at the end.
  public var checkpointPath: String?
  public var checkpointEvery = 0
  /// Continue from `checkpointPath` when it exists (a mismatched checkpoint is an error).
  public var resume = false
  /// Pool rows per scoring block (bounds memory for large pools).
  public var chunkRows = 65_536
  /// RND on the CPU device with a dense relu/identity MLP and the mse, l2 or l1
  /// distance runs a Float-only fast path (same algorithm); false forces the
  /// generic device path (for comparisons).
  public var useFastPath = true

  public init(pool: PoolSource, method: SelectionMethod = .rnd, size: Int) {
    self.pool = pool
    self.method = method
    self.size = size
  }

  /// The documented default RND net: d → 32 → 32 → 32 → 8, ReLU, standard parameterization.
  public static func defaultModel(features: Int) -> ModelSpec {
    var layers: [LayerSpec] = []
    for _ in 0..<3 { layers += [.dense(32), .activation(.relu)] }
    layers.append(.dense(8))
    return ModelSpec(inputShape: [features], parameterization: .standard, layers: layers)
  }

  /// Checks the arguments that need no data (sizes, counts, ranges).
  func validateArguments() throws {
    let n = pool.rows
    guard n > 0, pool.rowLength > 0 else { throw NTKitError.invalidArgument("\(pool.label): the pool is empty") }
    guard size >= 1 else { throw NTKitError.invalidArgument("selection size must be at least 1, found \(size)") }
    guard size <= n else {
      throw NTKitError.invalidArgument("selection size \(size) is larger than the pool (\(n) points)")
    }
    guard picksPerStep >= 1 else { throw NTKitError.invalidArgument("picks per step must be at least 1, found \(picksPerStep)") }
    guard epochs >= 0 else { throw NTKitError.invalidArgument("epochs must be ≥ 0, found \(epochs)") }
    guard learningRate > 0, learningRate.isFinite else {
      throw NTKitError.invalidArgument("learning rate must be a positive number, found \(learningRate)")
    }
    if let b = batchSize, b < 1 { throw NTKitError.invalidArgument("batch size must be at least 1, found \(b)") }
    guard checkpointEvery >= 0 else { throw NTKitError.invalidArgument("checkpoint interval must be ≥ 0, found \(checkpointEvery)") }
    guard chunkRows >= 1 else { throw NTKitError.invalidArgument("chunk rows must be at least 1") }
    if let t = threshold, !t.isFinite { throw NTKitError.invalidArgument("threshold must be finite, found \(t)") }
  }

  /// The settings that must agree between a checkpoint and a resumed run.
  var settingsKey: String {
    var parts = ["method=\(method.rawValue)", "size=\(size)", "k=\(picksPerStep)"]
    if method == .rnd {
      parts += ["distance=\(distance.name)", "epochs=\(epochs)", "lr=\(learningRate)", "reinit=\(reinit)",
                "batch=\(batchSize.map(String.init) ?? "full")"]
    }
    if method != .random { parts.append("threshold=\(threshold.map { "\($0)" } ?? "none")") }
    return parts.joined(separator: " ")
  }
}
