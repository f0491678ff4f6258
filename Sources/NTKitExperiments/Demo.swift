import NTKit
/// The README's main job on the bundled Fuel data (Auto MPG): RND against
/// random selection (the paper's Section 3.3 at two sizes), with the starting
/// NTK collective variables of the chosen sets and of the whole pool.
public enum Demo {
  public struct Settings: Sendable {
    public var dataDirectory = "Data"
    public var modelsDirectory = "Models"
    public var sizes = [20, 50]
    public var runs = 10
    public var epochs = 500
    public var seed: UInt64 = 0
    public var jobs = ExperimentRunner.cores
    public init() {}
  }

  public struct Result: Sendable {
    public var compare: CompareResult
    /// Collective variables of the trace NTK over the whole pool (272 rows).
    public var pool: CollectiveVariables
    public var seconds: Double

    /// One line per size: does RND beat random on min test loss and on entropy?
    public var verdicts: [String] {
      let rows = compare.summary
      return compare.settings.sizes.sorted().compactMap { size in
        guard let r = rows.first(where: { $0.method == .rnd && $0.size == size }),
              let q = rows.first(where: { $0.method == .random && $0.size == size }) else { return nil }
        func verdict(_ a: MeanSE, _ b: MeanSE, lowerIsBetter: Bool) -> String {
          let diff = lowerIsBetter ? b.mean - a.mean : a.mean - b.mean
          let se = (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot()
          if diff > 2 * se { return "RND better" }
          if diff < -2 * se { return "random better" }
          return "no clear difference"
        }
        return "size \(size): min test loss \(verdict(r.minTestLoss, q.minTestLoss, lowerIsBetter: true))"
          + " (\(format(r.minTestLoss.mean, "%.3f")) vs \(format(q.minTestLoss.mean, "%.3f"))),"
          + " starting entropy \(verdict(r.entropy, q.entropy, lowerIsBetter: false))"
          + " (\(format(r.entropy.mean, "%.3f")) vs \(format(q.entropy.mean, "%.3f")))"
      }
    }
  }

  public static func run(_ settings: Settings = Settings(), device: any ComputeDevice = CPUDevice.shared,
                         isCancelled: (@Sendable () -> Bool)? = nil,
                         progress: ((Int, Int) -> Void)? = nil) throws -> Result {
    let start = monotonicSeconds()
    let data = try ExperimentData.load(.fuel, directory: settings.dataDirectory, seed: settings.seed)
    let modelPath = ExperimentData.defaultModelPath(.fuel, experiment: "compare", modelsDirectory: settings.modelsDirectory)
    let spec = try ModelSpec.load(modelPath)
    var compareSettings = CompareSettings(model: spec, sizes: settings.sizes)
    compareSettings.runs = settings.runs
    compareSettings.methods = [.rnd, .random]
    compareSettings.epochs = settings.epochs
    compareSettings.seed = settings.seed
    compareSettings.jobs = settings.jobs
    let compare = try CompareExperiment.run(data: data, settings: compareSettings, device: device,
                                            isCancelled: isCancelled, progress: progress)
    let network = try Network(spec: spec, source: modelPath)
    let parameters = ModelParameters(initializing: network, seed: settings.seed)
    let n = data.pool.rows
    var kernel = [Float](repeating: 0, count: n * n)
    _ = try kernel.withUnsafeMutableBufferPointer {
      try NTKGram.compute(network: network, parameters: parameters, inputs1: data.pool, device: device, output: $0)
    }
    let pool = try kernel.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: n) }
    return Result(compare: compare, pool: pool, seconds: monotonicSeconds() - start)
  }
}
