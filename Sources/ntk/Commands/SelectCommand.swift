import ArgumentParser
import NTKit

#if canImport(Glibc)
import Glibc
#endif

struct SelectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "select",
    abstract: "Choose S points of a pool: RND (Algorithm 1 of the paper), random or k-center.",
    discussion: """
      Writes the chosen pool indices (<i8 .npy, in selection order) to --out; --report adds a JSON \
      report with, per step, the chosen index, its distance and the seconds spent evaluating the \
      pool and retraining the predictor. Pools are .npy (memory-mapped, float32/float64, [N, ...]) \
      or .csv (--features). RND defaults: predictor and target d→32→32→32→8 ReLU (or --model), \
      Adam lr 1e-3 with fresh moments per retrain, 50 warm-start full-batch epochs, mse distance. \
      With --checkpoint the state is written atomically every --checkpoint-every steps (default 10), \
      at the end and on Ctrl-C; --resume continues a killed run to the same result. \
      Train on the picks with `ntk train --indices OUT.npy`.
      """)

  @Option(help: "Pool: .npy [N, ...] (memory-mapped) or .csv with a header.") var pool: String
  @Option(help: "CSV feature columns, comma-separated (default: every column).") var features: String?
  @OptionGroup var scaling: ScalingOptions
  @Option(help: "Number of points to choose, S.") var size: Int
  @Option(help: "rnd (default), random or kcenter.") var method: String = "rnd"
  @Option(help: "RND distance: mse (default), l1, l2, lp:<p>, cosine, angular, mahalanobis.") var distance: String = "mse"
  @Option(help: "Model spec JSON for target and predictor (default: d→32→32→32→8 ReLU).") var model: String?
  @Option(help: "Seed of the initial networks, random picks and mini-batches.") var seed: UInt64 = 0
  @Option(help: "Output: chosen indices, <i8 .npy.") var out: String
  @Option(help: "Write a JSON report (per step: index, distance, evaluation and retraining seconds).") var report: String?
  @Option(name: .customLong("target-weights"), help: "Target network weights (.safetensors) instead of a seeded init.")
  var targetWeights: String?
  @Option(name: .customLong("predictor-weights"), help: "Initial predictor weights (.safetensors) instead of a seeded init.")
  var predictorWeights: String?
  @Option(help: "Adam epochs per retrain.") var epochs: Int = 50
  @Option(help: "Adam learning rate.") var lr: Double = 1e-3
  @Flag(help: "Restart the predictor from its initial weights at every retrain (default: warm start).") var reinit = false
  @Option(name: .customLong("batch-size"), help: "Retrain mini-batch size (default: full batch).") var batchSize: Int?
  @Option(name: .customLong("train-batch-size"), help: ArgumentHelp("Deprecated name of --batch-size.", visibility: .hidden))
  var trainBatchSize: Int?
  @Option(name: .customLong("picks-per-step"), help: "Points chosen per step (per retrain), k.") var picksPerStep: Int = 1
  @Option(help: "Stop early when the largest distance is ≤ this.") var threshold: Double?
  @Option(help: "Checkpoint file (JSON, written atomically).") var checkpoint: String?
  @Option(name: .customLong("checkpoint-every"), help: "Write the checkpoint every K steps (default 10 with --checkpoint).")
  var checkpointEvery: Int?
  @Flag(help: "Continue from --checkpoint when it exists.") var resume = false
  @Option(name: .customLong("chunk-rows"), help: "Pool rows per scoring block (bounds memory).") var chunkRows: Int = 65_536
  @Option(help: DeviceOption.smallNetHelp) var device: String = "auto"
  @Flag(name: .customLong("generic"), help: ArgumentHelp("Use the generic device path even where the CPU fast path applies.", visibility: .hidden))
  var generic = false
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  /// --batch-size, or its deprecated name --train-batch-size.
  var retrainBatchSize: Int? { batchSize ?? trainBatchSize }

  func validate() throws {
    do {
      _ = try SelectionMethod(parsing: method)
      _ = try SelectionDistance(parsing: distance)
    } catch let e as NTKitError { throw ValidationError(e.description) }
    guard size >= 1 else { throw ValidationError("--size must be at least 1, found \(size)") }
    guard epochs >= 0 else { throw ValidationError("--epochs must be ≥ 0, found \(epochs)") }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, found \(lr)") }
    guard picksPerStep >= 1 else { throw ValidationError("--picks-per-step must be at least 1, found \(picksPerStep)") }
    if batchSize != nil && trainBatchSize != nil { throw ValidationError("give --batch-size once (--train-batch-size is its deprecated name)") }
    if let b = retrainBatchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, found \(b)") }
    if let k = checkpointEvery, k < 1 { throw ValidationError("--checkpoint-every must be at least 1, found \(k)") }
    if let t = threshold, !t.isFinite { throw ValidationError("--threshold must be finite") }
    if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
    if checkpointEvery != nil && checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint FILE") }
    guard chunkRows >= 1 else { throw ValidationError("--chunk-rows must be at least 1") }
  }

  func run() throws {
    let started = monotonicSeconds()
    if trainBatchSize != nil { stderrLine("ntk: warning: --train-batch-size is deprecated; use --batch-size") }
    let source = try loadPool()
    let request = try makeRequest(source)
    let dev = try resolveSmallNetDevice(device)
    let bar = ProgressBar("ntk select", total: size, unit: " points")
    let rows = Double(source.rows)
    var scored = 0.0
    let stopAfter = FaultInjection.selectionStopAfterSteps
    var steps = 0
    let result: SelectionResult
    do {
      result = try DataSelection.run(request, device: dev, progress: { p in
        scored += rows
        steps += 1
        bar.update(p.picks, total: p.size, rateItems: request.method == .rnd ? scored : nil)
      }, isCancelled: { Interrupt.isRequested || (stopAfter.map { steps >= $0 } ?? false) })
    } catch {
      bar.finish()
      // A numerical failure (a constant pool under Mahalanobis, NaN distances) names the pool.
      if case NTKitError.numerical = error { throw (error as! NTKitError).naming(file: pool) }
      if case NTKitError.interrupted = error, let checkpoint {
        stderrLine("ntk: interrupted; state saved to \(checkpoint) (rerun with --resume to continue)")
      }
      throw error
    }
    try finish(result, source: source, deviceName: dev.info.identifier, started: started)
  }

  /// The request these flags describe, for `source` (shared with `ntk-mpi select`).
  func makeRequest(_ source: PoolSource) throws -> SelectionRequest {
    guard source.rows > 0, source.rowLength > 0 else {
      throw NTKitError.format(path: pool, reason: "the pool is empty (shape \(source.rows) × \(source.rowLength))")
    }
    guard size <= source.rows else {
      throw NTKitError.invalidArgument("\(pool): --size \(size) is larger than the pool (\(source.rows) points)")
    }
    var request = SelectionRequest(pool: source, method: try SelectionMethod(parsing: method), size: size)
    request.distance = try SelectionDistance(parsing: distance)
    request.seed = seed
    request.epochs = epochs
    request.learningRate = lr
    request.reinit = reinit
    request.batchSize = retrainBatchSize
    request.picksPerStep = picksPerStep
    request.threshold = threshold
    request.checkpointPath = checkpoint
    request.checkpointEvery = checkpoint == nil ? 0 : (checkpointEvery ?? 10)
    request.resume = resume
    request.chunkRows = chunkRows
    request.useFastPath = !generic
    if let model {
      let spec = try ModelSpec.load(model)
      let network = try Network(spec: spec, source: model)
      guard network.inputSize == source.rowLength else {
        throw NTKitError.shapeMismatch(
          context: "\(model): model input", expected: "\(source.rowLength) features (the pool \(pool) has \(source.rows) × \(source.rowLength))",
          found: "input_shape \(spec.inputShape) (\(network.inputSize) values)")
      }
      request.model = spec
    }
    if let targetWeights { request.targetWeights = .file(targetWeights) }
    if let predictorWeights { request.predictorWeights = .file(predictorWeights) }
    return request
  }

  /// Writes --out (and --report) and prints the summary (shared with `ntk-mpi select`).
  func finish(_ result: SelectionResult, source: PoolSource, deviceName: String, started: Double) throws {
    let rows = Double(source.rows)
    try NPY.write(out, shape: [result.indices.count], int64s: result.indices.map { Int64($0) })
    if let report { try result.writeJSON(report) }
    let total = monotonicSeconds() - started
    let evaluation = result.steps.reduce(0) { $0 + $1.evaluationSeconds }
    let training = result.steps.reduce(0) { $0 + $1.trainingSeconds }
    if json {
      // RND's target and predictor: --model or the default net, in their parameterization.
      let spec = result.method == .rnd
        ? ((try? model.map(ModelSpec.load)) ?? SelectionRequest.defaultModel(features: source.rowLength)) : nil
      print(JSONValue.object(provenanceFields(seed: seed) + [
        ("model", model.map { .string($0) } ?? .null),
        ("parameterization", spec.map { .string($0.parameterization.rawValue) } ?? .null), ("target_weights", targetWeights.map { .string($0) } ?? .null),
        ("predictor_weights", predictorWeights.map { .string($0) } ?? .null),
        ("out", .string(out)), ("method", .string(result.method.rawValue)), ("size", .number(Double(result.indices.count))),
        ("pool", .array([.number(rows), .number(Double(source.rowLength))])), ("device", .string(deviceName)),
        ("stopped_early", .bool(result.stoppedEarly)), ("resumed_steps", .number(Double(result.resumedSteps))),
        ("seconds", .number(total)), ("selection_seconds", .number(result.seconds)),
        ("evaluation_seconds", .number(evaluation)), ("training_seconds", .number(training)),
      ]).serialized())
    } else {
      var line = "wrote \(out): \(result.indices.count) of \(source.rows) points by \(result.method.rawValue) in \(format(total, "%.3f")) s"
      if result.method == .rnd { line += " (evaluation \(format(evaluation, "%.3f")) s, retraining \(format(training, "%.3f")) s)" }
      if result.resumedSteps > 0 { line += "; resumed after \(result.resumedSteps) steps" }
      if let reason = result.stopReason { line += "; stopped early: \(reason)" }
      print(line)
    }
  }

  func loadPool() throws -> PoolSource {
    let lower = pool.lowercased()
    if lower.hasSuffix(".npy") {
      if features != nil { throw ValidationError("--features applies to CSV pools only") }
      if scaling.standardize || scaling.scaler != nil { throw ValidationError("--standardize/--scaler apply to CSV pools only") }
      let mapped = try MappedNPY(path: pool)
      guard mapped.dtype.isFloatingPoint || mapped.dtype == .uint8 else {
        throw NTKitError.format(path: pool, reason: "pool dtype \(mapped.dtype.rawValue) is not supported; expected <f4, <f8 or |u1")
      }
      return .mapped(mapped)
    }
    let list = features.map { $0.split(separator: ",").map { String($0).trimmingCharacters() } }
    var x = try InputData.load(pool, features: list)
    if let scaler = try scaling.library.scaler(fittingOn: x, columns: InputData.columnNames(pool, features: list)) { x = try scaler.apply(x) }
    return .tensor(x)
  }
}
