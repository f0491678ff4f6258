import NTKit
/// Settings of the Section 3.3 experiment (RND vs random vs k-center selection).
public struct CompareSettings: Sendable {
  /// The trained architecture (Table A1 nets; its parameterization is the one used).
  public var model: ModelSpec
  /// Target training-set sizes.
  public var sizes: [Int]
  /// Runs R per size and method.
  public var runs = 20
  public var methods: [SelectionMethod] = [.rnd, .random, .kCenter]
  public var epochs = 500
  public var learningRate = 1e-3
  /// nil: full batch.
  public var batchSize: Int?
  public var seed: UInt64 = 0
  public var jobs = ExperimentRunner.cores

  public init(model: ModelSpec, sizes: [Int]) {
    self.model = model
    self.sizes = sizes
  }
}

/// One run: a set chosen by `method`, its starting NTK and its training outcome.
public struct CompareRun: Sendable, Equatable {
  public var method: SelectionMethod
  public var size: Int
  /// 0-based repeat number.
  public var run: Int
  /// The network's initialisation seed: shared by the methods at the same
  /// (size, run), so the comparison is paired.
  public var initSeed: UInt64
  /// The selection seed (RND networks, random draw, k-center start).
  public var selectionSeed: UInt64
  public var selectionSeconds: Double
  public var outcome: RunOutcome
}

/// Mean ± standard error (σ/√R, sample σ) of one quantity.
public struct MeanSE: Sendable, Equatable {
  public var mean: Double
  public var standardError: Double
  public init(_ values: [Double]) {
    mean = Statistics.mean(values)
    standardError = Statistics.standardError(values)
  }
}

/// Summary of the runs of one (method, size).
public struct CompareSummaryRow: Sendable, Equatable {
  public var method: SelectionMethod
  public var size: Int
  public var runs: Int
  public var minTestLoss: MeanSE
  public var finalTestLoss: MeanSE
  public var entropy: MeanSE
  public var trace: MeanSE
  /// Tr Θ / N: the trace grows with the set size, this compares sets of one size.
  public var tracePerSample: MeanSE
  /// Classification only.
  public var bestTestAccuracy: MeanSE?
}

/// The outcome of `CompareExperiment.run`.
public struct CompareResult: Sendable {
  public var dataset: String
  public var dataDescription: String
  public var settings: CompareSettings
  public var runs: [CompareRun]
  public var seconds: Double

  /// Mean ± SE per method and size, methods in settings order, sizes ascending.
  public var summary: [CompareSummaryRow] {
    var rows: [CompareSummaryRow] = []
    for method in settings.methods {
      for size in settings.sizes.sorted() {
        let rs = runs.filter { $0.method == method && $0.size == size }
        guard !rs.isEmpty else { continue }
        let acc = rs.compactMap(\.outcome.bestTestAccuracy)
        rows.append(CompareSummaryRow(
          method: method, size: size, runs: rs.count, minTestLoss: MeanSE(rs.map(\.outcome.minTestLoss)),
          finalTestLoss: MeanSE(rs.map(\.outcome.finalTestLoss)), entropy: MeanSE(rs.map(\.outcome.entropy)),
          trace: MeanSE(rs.map(\.outcome.trace)), tracePerSample: MeanSE(rs.map { $0.outcome.trace / Double($0.size) }),
          bestTestAccuracy: acc.count == rs.count ? MeanSE(acc) : nil))
      }
    }
    return rows
  }
}

/// Section 3.3: for each target size and each of R runs, build a training set
/// with every selection method (fresh seeds per run), compute its starting NTK
/// entropy and trace under the trained architecture, train it, and record the
/// minimum and final test loss.
public enum CompareExperiment {
  public static func run(
    data: ExperimentData, settings: CompareSettings, device: any ComputeDevice = CPUDevice.shared,
    isCancelled: (@Sendable () -> Bool)? = nil, progress: ((Int, Int) -> Void)? = nil
  ) throws -> CompareResult {
    let start = monotonicSeconds()
    let network = try Network(spec: settings.model, source: "model")
    try validate(data: data, network: network, settings: settings)
    let sizes = settings.sizes.sorted()
    var plans: [(method: SelectionMethod, size: Int, run: Int)] = []
    for size in sizes { for r in 0..<settings.runs { for m in settings.methods { plans.append((m, size, r)) } } }
    // Most expensive first (RND at the largest size) for load balance.
    func cost(_ p: (method: SelectionMethod, size: Int, run: Int)) -> Int { p.size * (p.method == .rnd ? 3 : 1) }
    let order = plans.indices.sorted { (cost(plans[$0]), -$0) > (cost(plans[$1]), -$1) }
    let pool = PoolSource.tensor(data.pool)
    let runs = try ExperimentRunner.parallelRuns(
      count: plans.count, order: order, jobs: settings.jobs, isCancelled: isCancelled, progress: progress
    ) { i -> CompareRun in
      let p = plans[i]
      let initSeed = ExperimentRunner.derivedSeed(settings.seed, "compare init size=\(p.size) run=\(p.run)")
      let selectionSeed = ExperimentRunner.derivedSeed(
        settings.seed, "compare select \(p.method.rawValue) size=\(p.size) run=\(p.run)")
      var request = SelectionRequest(pool: pool, method: p.method, size: p.size)
      request.seed = selectionSeed  // everything else: the Selection module's (RND issue's) defaults
      let selection = try DataSelection.run(request, device: device, isCancelled: isCancelled)
      guard selection.indices.count == p.size else {
        throw NTKitError.numerical("\(p.method.rawValue) chose \(selection.indices.count) of \(p.size) points")
      }
      let (x, y) = data.subset(selection.indices)
      let parameters = ModelParameters(initializing: network, seed: initSeed)
      let outcome = try ExperimentRunner.measure(
        network: network, parameters: parameters, inputs: x, targets: y, data: data, epochs: settings.epochs,
        learningRate: settings.learningRate, batchSize: settings.batchSize, shuffleSeed: initSeed,
        device: device, isCancelled: isCancelled)
      return CompareRun(method: p.method, size: p.size, run: p.run, initSeed: initSeed, selectionSeed: selectionSeed,
                        selectionSeconds: selection.seconds, outcome: outcome)
    }
    return CompareResult(dataset: data.name, dataDescription: data.description, settings: settings, runs: runs,
                         seconds: monotonicSeconds() - start)
  }

  static func validate(data: ExperimentData, network: Network, settings: CompareSettings) throws {
    guard !settings.sizes.isEmpty else { throw NTKitError.invalidArgument("the list of sizes is empty") }
    guard Set(settings.sizes).count == settings.sizes.count else {
      throw NTKitError.invalidArgument("the list of sizes repeats a size: \(settings.sizes)")
    }
    for s in settings.sizes {
      guard s >= 1 else { throw NTKitError.invalidArgument("training-set sizes must be at least 1, found \(s)") }
      guard s <= data.pool.rows else {
        throw NTKitError.invalidArgument("size \(s) is larger than the \(data.name) pool (\(data.pool.rows) points)")
      }
    }
    guard !settings.methods.isEmpty else { throw NTKitError.invalidArgument("the list of methods is empty") }
    guard Set(settings.methods).count == settings.methods.count else {
      throw NTKitError.invalidArgument("the list of methods repeats a method")
    }
    guard settings.runs >= 1 else { throw NTKitError.invalidArgument("the number of runs must be at least 1, found \(settings.runs)") }
    guard settings.epochs >= 1 else { throw NTKitError.invalidArgument("epochs must be at least 1, found \(settings.epochs)") }
    guard settings.learningRate > 0, settings.learningRate.isFinite else {
      throw NTKitError.invalidArgument("the learning rate must be a positive number, found \(settings.learningRate)")
    }
    if let b = settings.batchSize, b < 1 { throw NTKitError.invalidArgument("batch size must be at least 1, found \(b)") }
    guard settings.jobs >= 1 else { throw NTKitError.invalidArgument("jobs must be at least 1, found \(settings.jobs)") }
    try CorrelateExperiment.checkModel(network, data: data)
  }
}
