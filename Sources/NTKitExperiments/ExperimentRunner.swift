import NTKit
import Dispatch

/// What one experiment run measures: the starting NTK collective variables of
/// its training set and the outcome of training on it.
public struct RunOutcome: Sendable, Equatable {
  /// Tr Θ of the trace NTK (summed over outputs) at initialisation.
  public var trace: Double
  /// Von Neumann entropy of that NTK (natural log).
  public var entropy: Double
  public var lambdaMax: Double
  public var minTestLoss: Double
  /// 1-based epoch of the smallest test loss.
  public var minTestEpoch: Int
  public var finalTestLoss: Double
  public var finalTrainLoss: Double
  /// Best test accuracy over the epochs (classification only).
  public var bestTestAccuracy: Double?
  public var finalTestAccuracy: Double?
  /// Seconds spent on the NTK and its spectrum, and on training.
  public var ntkSeconds: Double
  public var trainSeconds: Double
}

/// Shared pieces of the experiments: seed derivation, the per-run NTK +
/// training core, and a work queue that runs independent runs on all cores.
public enum ExperimentRunner {
  /// A seed derived from `seed` and a label (e.g. "init size=20 run=3"):
  /// the same label always gives the same seed, different labels independent ones.
  public static func derivedSeed(_ seed: UInt64, _ label: String) -> UInt64 {
    var rng = SeededRandom(seed: seed, stream: label)
    return rng.next()
  }

  /// Number of CPU cores (the default `--jobs`).
  public static var cores: Int { CPUConfiguration.current.threads }

  /// The NTK collective variables of `inputs` under `network`/`parameters`
  /// (trace NTK, exact spectrum), then `epochs` of Adam on `(inputs, targets)`
  /// with the test set evaluated after every epoch.
  public static func measure(
    network: Network, parameters: ModelParameters, inputs: Tensor, targets: TrainingTargets,
    data: ExperimentData, epochs: Int, learningRate: Double, batchSize: Int?, shuffleSeed: UInt64,
    device: any ComputeDevice, isCancelled: (@Sendable () -> Bool)? = nil
  ) throws -> RunOutcome {
    let t0 = monotonicSeconds()
    let n = inputs.rows
    var options = GramOptions(mode: .trace)
    options.isCancelled = isCancelled
    var kernel = [Float](repeating: 0, count: n * n)
    _ = try kernel.withUnsafeMutableBufferPointer {
      try NTKGram.compute(network: network, parameters: parameters, inputs1: inputs, device: device,
                          options: options, output: $0)
    }
    let cv = try kernel.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: n, method: .exact) }
    guard let entropy = cv.entropy else { throw NTKitError.numerical("the NTK entropy could not be computed (N = \(n))") }
    let t1 = monotonicSeconds()
    let batch = min(batchSize ?? n, n)
    let trainer = try Trainer(network: network, parameters: parameters, device: device, capacity: batch)
    let history = try trainer.train(
      inputs: inputs, targets: targets, epochs: epochs, batchSize: batch,
      optimizer: .adam(AdamHyper(learningRate: learningRate)), seed: shuffleSeed,
      test: (data.test, data.testTargets), recordTrainLoss: true)
    guard let minLoss = history.minTestLoss, let final = history.finalTestLoss else {
      throw NTKitError.invalidArgument("training needs at least one epoch")
    }
    guard minLoss.isFinite, final.isFinite else {
      throw NTKitError.numerical("the test loss became \(final); lower the learning rate")
    }
    return RunOutcome(
      trace: cv.trace, entropy: entropy, lambdaMax: cv.lambdaMax, minTestLoss: minLoss,
      minTestEpoch: history.minTestLossEpoch ?? 0, finalTestLoss: final, finalTrainLoss: history.finalTrainLoss ?? .nan,
      bestTestAccuracy: history.epochs.compactMap(\.testAccuracy).max(), finalTestAccuracy: history.finalTestAccuracy,
      ntkSeconds: t1 - t0, trainSeconds: monotonicSeconds() - t1)
  }

  /// Runs `body(i)` for every `i` in `order` on `jobs` worker threads (a shared
  /// work queue: each worker takes the next index when it is free) and returns
  /// the results indexed by `i` (`0..<count`). OpenBLAS runs single-threaded
  /// (`BLASThreads`), so the runs, not the BLAS threads, share the cores.
  ///
  /// The first error stops the queue (runs in flight finish) and is rethrown;
  /// `isCancelled` is polled before each run (then `NTKitError.interrupted`).
  /// `progress(done, count)` is called after each run, one call at a time.
  public static func parallelRuns<R: Sendable>(
    count: Int, order: [Int]? = nil, jobs: Int,
    isCancelled: (() -> Bool)? = nil, progress: ((Int, Int) -> Void)? = nil,
    _ body: @escaping (Int) throws -> R
  ) throws -> [R] {
    let order = order ?? Array(0..<count)
    precondition(order.count == count, "order must list every run once")
    let workers = max(1, min(jobs, count))
    let state = QueueState<R>(count: count)
    let lock = DispatchQueue(label: "ntkit.experiment.queue")
    BLASThreads.useDefault()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while true {
        let next: Int? = lock.sync {
          guard state.error == nil, state.next < count else { return nil }
          if isCancelled?() == true {
            state.error = NTKitError.interrupted
            return nil
          }
          defer { state.next += 1 }
          return order[state.next]
        }
        guard let i = next else { return }
        do {
          let r = try body(i)
          lock.sync {
            state.results[i] = r
            state.done += 1
            progress?(state.done, count)
          }
        } catch {
          lock.sync { if state.error == nil { state.error = error } }
          return
        }
      }
    }
    if let error = state.error { throw error }
    return state.results.map { $0! }
  }
}

/// Mutable state of `parallelRuns`, touched only under its lock.
private final class QueueState<R>: @unchecked Sendable {
  var next = 0
  var done = 0
  var error: Error?
  var results: [R?]
  init(count: Int) { results = [R?](repeating: nil, count: count) }
}
