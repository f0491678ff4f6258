import NTKit
/// Settings of the Section 3.2 experiment (starting NTK trace/entropy vs test loss).
public struct CorrelateSettings: Sendable {
  /// The trained architecture (its parameterization is the one used).
  public var model: ModelSpec
  /// Number of runs K.
  public var runs = 100
  /// Training-set sizes are drawn uniformly from this range (inclusive).
  public var sizeRange: ClosedRange<Int>
  public var epochs = 500
  public var learningRate = 1e-3
  /// nil: full batch.
  public var batchSize: Int?
  public var seed: UInt64 = 0
  public var jobs = ExperimentRunner.cores

  public init(model: ModelSpec, sizeRange: ClosedRange<Int>) {
    self.model = model
    self.sizeRange = sizeRange
  }
}

/// One run of the correlation experiment.
public struct CorrelateRun: Sendable, Equatable {
  public var run: Int
  public var size: Int
  public var subsetSeed: UInt64
  public var initSeed: UInt64
  public var outcome: RunOutcome
}

/// The outcome of `CorrelateExperiment.run`.
public struct CorrelateResult: Sendable {
  public var dataset: String
  public var dataDescription: String
  public var settings: CorrelateSettings
  public var runs: [CorrelateRun]
  public var seconds: Double

  /// The variables of the correlation matrices, in order.
  public static let variables = ["size", "trace", "entropy", "min_test_loss", "final_test_loss", "final_train_loss"]

  /// One column per `variables` entry, over the runs.
  public var columns: [[Double]] {
    [runs.map { Double($0.size) }, runs.map(\.outcome.trace), runs.map(\.outcome.entropy),
     runs.map(\.outcome.minTestLoss), runs.map(\.outcome.finalTestLoss), runs.map(\.outcome.finalTrainLoss)]
  }

  /// Pearson correlation matrix of `variables` (nil entries: undefined, e.g. a constant column).
  public var pearson: [[Double?]] { Statistics.correlationMatrix(columns) }

  /// Spearman (rank) correlation matrix of `variables`.
  public var spearman: [[Double?]] {
    let c = columns
    return c.map { x in c.map { y in Statistics.spearman(x, y) } }
  }
}

/// Section 3.2: for K runs, draw a training-set size and a random subset of the
/// pool of that size, and an initialisation seed; compute the starting NTK's
/// trace and entropy on the subset; train (Adam) and record the test losses.
public enum CorrelateExperiment {
  public static func run(
    data: ExperimentData, settings: CorrelateSettings, device: any ComputeDevice = CPUDevice.shared,
    isCancelled: (@Sendable () -> Bool)? = nil, progress: ((Int, Int) -> Void)? = nil
  ) throws -> CorrelateResult {
    let start = monotonicSeconds()
    let network = try Network(spec: settings.model, source: "model")
    try validate(data: data, network: network, settings: settings)
    // Draw every run's size and seeds up front, so results do not depend on --jobs.
    var rng = SeededRandom(seed: settings.seed, stream: "correlate sizes")
    let span = UInt64(settings.sizeRange.upperBound - settings.sizeRange.lowerBound + 1)
    let plans: [(size: Int, subsetSeed: UInt64, initSeed: UInt64)] = (0..<settings.runs).map { r in
      let size = settings.sizeRange.lowerBound + Int(rng.next() % span)
      return (size, ExperimentRunner.derivedSeed(settings.seed, "correlate subset run=\(r)"),
              ExperimentRunner.derivedSeed(settings.seed, "correlate init run=\(r)"))
    }
    // Largest first: better load balance across workers.
    let order = plans.indices.sorted { plans[$0].size > plans[$1].size }
    let runs = try ExperimentRunner.parallelRuns(
      count: plans.count, order: order, jobs: settings.jobs, isCancelled: isCancelled, progress: progress
    ) { r -> CorrelateRun in
      let plan = plans[r]
      var pick = SeededRandom(seed: plan.subsetSeed, stream: "subset")
      var idx = Array(0..<data.pool.rows)
      for i in 0..<plan.size { idx.swapAt(i, i + Int(pick.next() % UInt64(idx.count - i))) }
      let chosen = Array(idx[0..<plan.size]).sorted()
      let (x, y) = data.subset(chosen)
      let parameters = ModelParameters(initializing: network, seed: plan.initSeed)
      let outcome = try ExperimentRunner.measure(
        network: network, parameters: parameters, inputs: x, targets: y, data: data, epochs: settings.epochs,
        learningRate: settings.learningRate, batchSize: settings.batchSize, shuffleSeed: plan.initSeed,
        device: device, isCancelled: isCancelled)
      return CorrelateRun(run: r, size: plan.size, subsetSeed: plan.subsetSeed, initSeed: plan.initSeed, outcome: outcome)
    }
    return CorrelateResult(dataset: data.name, dataDescription: data.description, settings: settings, runs: runs,
                           seconds: monotonicSeconds() - start)
  }

  static func validate(data: ExperimentData, network: Network, settings: CorrelateSettings) throws {
    guard settings.runs >= 1 else { throw NTKitError.invalidArgument("the number of runs must be at least 1, found \(settings.runs)") }
    guard settings.epochs >= 1 else { throw NTKitError.invalidArgument("epochs must be at least 1, found \(settings.epochs)") }
    guard settings.learningRate > 0, settings.learningRate.isFinite else {
      throw NTKitError.invalidArgument("the learning rate must be a positive number, found \(settings.learningRate)")
    }
    if let b = settings.batchSize, b < 1 { throw NTKitError.invalidArgument("batch size must be at least 1, found \(b)") }
    guard settings.jobs >= 1 else { throw NTKitError.invalidArgument("jobs must be at least 1, found \(settings.jobs)") }
    let r = settings.sizeRange
    guard r.lowerBound >= 1 else { throw NTKitError.invalidArgument("training-set sizes must be at least 1, found \(r.lowerBound)") }
    guard r.upperBound <= data.pool.rows else {
      throw NTKitError.invalidArgument("size \(r.upperBound) is larger than the \(data.name) pool (\(data.pool.rows) points)")
    }
    try checkModel(network, data: data)
  }

  /// The model must take the data's samples and produce the right number of outputs.
  static func checkModel(_ network: Network, data: ExperimentData) throws {
    guard network.inputSize == data.pool.rowLength else {
      throw NTKitError.shapeMismatch(context: "model input for \(data.name)",
                                     expected: "input_shape \(Array(data.pool.shape.dropFirst()))",
                                     found: "input_shape \(network.spec.inputShape)")
    }
    switch data.poolTargets {
    case .values(let v):
      let m = v.count / max(data.pool.rows, 1)
      guard network.outputSize == m else {
        throw NTKitError.shapeMismatch(context: "model output for \(data.name)", expected: "\(m) output(s)", found: "\(network.outputSize)")
      }
    case .labels(let l):
      let classes = (l.max() ?? 0) + 1
      guard network.outputSize >= classes else {
        throw NTKitError.shapeMismatch(context: "model output for \(data.name)", expected: "\(classes) outputs (classes)",
                                       found: "\(network.outputSize)")
      }
    }
  }
}
