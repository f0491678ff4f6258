import NTKit
/// The RND benchmark behind `ntk bench --rnd`: the speed peer's settings
/// (`../shared/bench/rnd_jax.py`: target and predictor 8→32→32→32→1 ReLU,
/// LeCun init, Adam lr 1e-3, 50 warm-start full-batch epochs, mse), timed in
/// process: a whole selection (S of N) and one step's split into pool
/// evaluation and retraining at growing pool sizes, beside the GEMM-bound time
/// of the evaluation (its forward FLOPs at the device's 4096³ sgemm rate).
public enum RNDBench {
  /// The peer's net: features → 32 → 32 → 32 → 1, ReLU, standard parameterization.
  public static func peerModel(features: Int = 8) -> ModelSpec {
    var layers: [LayerSpec] = []
    for _ in 0..<3 { layers += [.dense(32), .activation(.relu)] }
    layers.append(.dense(1))
    return ModelSpec(inputShape: [features], parameterization: .standard, layers: layers)
  }

  /// Seeded N(0, 1) float32 pool, rows × features, in memory.
  public static func pool(rows: Int, features: Int = 8, seed: UInt64 = 0) -> Tensor {
    var rng = SeededRandom(seed: seed, stream: "rnd bench pool")
    return Tensor(shape: [rows, features], data: (0..<rows * features).map { _ in Float(rng.normal()) })
  }

  /// Writes a seeded N(0, 1) float32 pool to `path` (.npy) block by block
  /// through a memory map, so 10⁷ × 8 needs no second copy in memory.
  public static func writePool(_ path: String, rows: Int, features: Int = 8, seed: UInt64 = 0) throws {
    guard rows >= 0, features >= 1 else { throw NTKitError.invalidArgument("pool shape must be rows ≥ 0 × features ≥ 1") }
    try NPY.withMappedOutput(path, shape: [rows, features]) { out in
      var rng = SeededRandom(seed: seed, stream: "rnd bench pool")
      for i in 0..<out.count { out[i] = Float(rng.normal()) }
    }
  }

  /// Forward multiply-adds ×2 (FLOPs) per pool point of a dense net.
  public static func forwardFlopsPerPoint(_ spec: ModelSpec) throws -> Double {
    let network = try Network(spec: spec)
    return network.affineLayers.reduce(0) { $0 + 2 * Double($1.geometry.patch * $1.geometry.outC) }
  }

  public struct SelectResult: Sendable {
    public var poolSize: Int
    public var size: Int
    public var seconds: Double
    public var evaluationSeconds: Double
    public var trainingSeconds: Double
    public var firstPicks: [Int]
  }

  /// Best-of-`repeats` in-process time of choosing `size` of a seeded pool of `poolSize` (set-up included).
  public static func select(poolSize: Int, size: Int, features: Int = 8, epochs: Int = 50, device: any ComputeDevice,
                            repeats: Int = 3, fastPath: Bool = true) throws -> SelectResult {
    let source = PoolSource.tensor(pool(rows: poolSize, features: features))
    var best: SelectResult?
    for _ in 0..<max(1, repeats) {
      var request = SelectionRequest(pool: source, method: .rnd, size: size)
      request.model = peerModel(features: features)
      request.epochs = epochs
      request.useFastPath = fastPath
      let t0 = monotonicSeconds()
      let r = try DataSelection.run(request, device: device)
      let seconds = monotonicSeconds() - t0
      if best == nil || seconds < best!.seconds {
        best = SelectResult(poolSize: poolSize, size: size, seconds: seconds,
                            evaluationSeconds: r.steps.reduce(0) { $0 + $1.evaluationSeconds },
                            trainingSeconds: r.steps.reduce(0) { $0 + $1.trainingSeconds },
                            firstPicks: Array(r.indices.prefix(10)))
      }
    }
    return best!
  }

  public struct StepResult: Sendable {
    public var poolSize: Int
    public var trainingSetSize: Int
    public var evaluationSeconds: Double
    public var trainingSeconds: Double
    /// Forward FLOPs of the pool evaluation over the sgemm rate.
    public var gemmBoundSeconds: Double
    public var fastPath: Bool
  }

  /// One step at a pool of `poolSize` (the pool is a memory-mapped .npy at
  /// `poolPath` when given): pool evaluation, and retraining on a target set
  /// of `trainingSetSize` points; best of `repeats` steps.
  public static func step(poolSize: Int, poolPath: String? = nil, trainingSetSize: Int = 500, features: Int = 8,
                          epochs: Int = 50, device: any ComputeDevice, sgemmGflops: Double,
                          repeats: Int = 3) throws -> StepResult {
    let source: PoolSource = try poolPath.map { .mapped(try MappedNPY(path: $0)) } ?? .tensor(pool(rows: poolSize, features: features))
    let n = source.rows
    let t = min(trainingSetSize, n - repeats)
    var request = SelectionRequest(pool: source, method: .rnd, size: t + repeats)
    request.model = peerModel(features: source.rowLength)
    request.epochs = epochs
    // The target set: T points spread over the pool (the picks' identity does not change the cost).
    let timing = try RNDStepTiming.measure(request, device: device, restoring: (0..<t).map { $0 * (n / max(t, 1)) },
                                           repeats: repeats)
    let flops = try forwardFlopsPerPoint(request.model!) * Double(n)
    return StepResult(poolSize: n, trainingSetSize: t, evaluationSeconds: timing.evaluationSeconds,
                      trainingSeconds: timing.trainingSeconds, gemmBoundSeconds: flops / (sgemmGflops * 1e9),
                      fastPath: timing.fastPath)
  }
}
