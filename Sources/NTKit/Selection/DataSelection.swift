/// One selection method as the shared driver runs it, step by step.
protocol StepSelector: AnyObject {
  /// Hash of the model and initial weights (0 without a model).
  var modelHash: UInt64 { get }
  /// Re-applies the picks of a checkpoint (and its predictor weights).
  func restore(_ picks: [Int], predictor: [Float]?) throws
  /// Chooses up to `count` new points; `retrain` is false for the last step.
  /// A non-nil `stop` means the threshold ended the run (the returned picks stand).
  func step(number: Int, count: Int, retrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?)
  /// The predictor weights to checkpoint (RND), nil otherwise.
  func predictorState() throws -> [Float]?
}

/// The entry point of data selection: RND (Algorithm 1), random and k-center.
public enum DataSelection {
  /// Runs `request` on `device` and returns the chosen indices with per-step records.
  ///
  /// Bad input (empty pool, size > pool, NaN/Inf in the pool, a model whose
  /// input does not match the pool, weights that do not match the model, a
  /// checkpoint of another run) throws before anything is written.
  /// `progress` is called after every step; `isCancelled` is polled before
  /// every step: on cancellation a checkpoint is written (when a path is set)
  /// and `NTKitError.interrupted` is thrown.
  public static func run(_ request: SelectionRequest, device: any ComputeDevice,
                         progress: ((SelectionProgress) -> Void)? = nil,
                         isCancelled: (() -> Bool)? = nil) throws -> SelectionResult {
    let start = monotonicSeconds()
    try request.validateArguments()
    try request.pool.checkFinite()
    let selector: StepSelector
    switch request.method {
    case .rnd: selector = try RNDSelector(request, device: device)
    case .random: selector = RandomSelector(request)
    case .kCenter: selector = try KCenterSelector(request, device: device)
    }
    return try drive(selector, request: request, fingerprint: request.pool.fingerprint(), start: start,
                     progress: progress, isCancelled: isCancelled)
  }

  /// The step loop shared by `run` and `ShardedSelection.run`: resume from a
  /// checkpoint, step until `size` picks (or the threshold), checkpoint every
  /// `checkpointEvery` steps, at the end and on cancellation. `writeCheckpoint`
  /// writes the checkpoint file (a sharded run lets one rank do it).
  static func drive(_ selector: StepSelector, request: SelectionRequest, fingerprint: PoolFingerprint, start: Double,
                    progress: ((SelectionProgress) -> Void)?, isCancelled: (() -> Bool)?,
                    writeCheckpoint: ((SelectionCheckpoint) throws -> Void)? = nil) throws -> SelectionResult {
    var steps: [StepRecord] = []
    var resumed = 0
    if request.resume, let path = request.checkpointPath, fileExists(path) {
      let c = try SelectionCheckpoint.read(path)
      try c.check(settings: request.settingsKey, seed: request.seed, pool: fingerprint, modelHash: selector.modelHash, path: path)
      let picks = c.indices
      guard picks.allSatisfy({ $0 >= 0 && $0 < request.pool.rows }), Set(picks).count == picks.count,
            picks.count <= request.size else {
        throw NTKitError.format(path: path, reason: "the checkpoint's picks are invalid (out of range or repeated)")
      }
      // The predictor must be there exactly when the method has one (RND),
      // and before any step it must still be the initial one.
      let initial = try selector.predictorState()
      if (initial == nil) != (c.predictor == nil) {
        throw NTKitError.format(path: path, reason: c.predictor == nil
          ? "the checkpoint has no predictor weights, which \(request.method.rawValue) needs to resume; remove it or drop --resume"
          : "the checkpoint has predictor weights, which \(request.method.rawValue) does not use; remove it or drop --resume")
      }
      if c.steps.isEmpty, let initial, let saved = c.predictor, saved != initial {
        throw NTKitError.format(path: path, reason: "the checkpoint has no steps but a trained predictor: steps and predictor disagree; remove it or drop --resume")
      }
      // A predictor of the wrong size names the checkpoint file.
      try NTKitError.naming(file: path) { try selector.restore(picks, predictor: c.predictor) }
      steps = c.steps
      resumed = c.steps.count
    }
    func checkpoint() throws {
      guard let path = request.checkpointPath else { return }
      let state = SelectionCheckpoint(settings: request.settingsKey, seed: request.seed, pool: fingerprint,
                                      modelHash: selector.modelHash, steps: steps, predictor: try selector.predictorState())
      if let writeCheckpoint { try writeCheckpoint(state) } else { try state.write(path) }
    }
    var picked = steps.reduce(0) { $0 + $1.indices.count }
    var stop: String? = nil
    while picked < request.size && stop == nil {
      FaultInjection.pause("compute")
      if isCancelled?() == true {
        try checkpoint()
        throw NTKitError.interrupted
      }
      let count = min(request.picksPerStep, request.size - picked)
      let number = steps.count + 1
      let r = try selector.step(number: number, count: count, retrain: picked + count < request.size)
      try SelectionNumerics.check(r.distances, indices: r.indices, step: number)
      picked += r.indices.count
      stop = r.stop
      if !r.indices.isEmpty || stop == nil {
        steps.append(StepRecord(step: number, indices: r.indices, distances: r.distances,
                                evaluationSeconds: r.evaluation, trainingSeconds: r.training))
      }
      let rate = r.evaluation > 0 ? Double(request.pool.rows) / r.evaluation : 0
      progress?(SelectionProgress(step: number, picks: picked, size: request.size, pointsPerSecond: rate,
                                  elapsedSeconds: monotonicSeconds() - start))
      if request.checkpointEvery > 0 && number % request.checkpointEvery == 0 { try checkpoint() }
    }
    try checkpoint()
    return SelectionResult(method: request.method, indices: steps.flatMap(\.indices), steps: steps,
                           stoppedEarly: stop != nil, stopReason: stop, resumedSteps: resumed,
                           seconds: monotonicSeconds() - start)
  }
}
