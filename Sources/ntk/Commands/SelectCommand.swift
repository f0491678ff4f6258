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
  @Option(help: "Selection method.") var method: SelectionMethod = .rnd
  @Option(help: "RND distance (lp:<p> with a finite p > 0).") var distance: SelectionDistance = .metric(.mse)
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
  @Option(help: DeviceOption.smallNetHelp) var device: DeviceChoice = .auto
  @Flag(name: .customLong("generic"), help: ArgumentHelp("Use the generic device path even where the CPU fast path applies.", visibility: .hidden))
  var generic = false
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  /// --batch-size, or its deprecated name --train-batch-size.
  var retrainBatchSize: Int? { batchSize ?? trainBatchSize }

  func validate() throws {
    if batchSize != nil && trainBatchSize != nil { throw ValidationError("give --batch-size once (--train-batch-size is its deprecated name)") }
    try usage {
      try ArgumentRules.atLeast(1, size, flag: "--size")
      try ArgumentRules.atLeast(0, epochs, flag: "--epochs")
      try ArgumentRules.learningRate(lr)
      try ArgumentRules.atLeast(1, picksPerStep, flag: "--picks-per-step")
      try ArgumentRules.atLeast(1, retrainBatchSize, flag: "--batch-size")
      try ArgumentRules.atLeast(1, checkpointEvery, flag: "--checkpoint-every")
      try ArgumentRules.finite(threshold, flag: "--threshold")
      try ArgumentRules.atLeast(1, chunkRows, flag: "--chunk-rows")
    }
    if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
    if checkpointEvery != nil && checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint FILE") }
    if PoolSource.isMappable(pool) {
      if features != nil { throw ValidationError("--features applies to CSV pools only") }
      if scaling.standardize || scaling.scaler != nil { throw ValidationError("--standardize/--scaler apply to CSV pools only") }
    }
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
    try finish(result, source: source, deviceName: dev.identifier, started: started)
  }

  /// The request these flags describe, for `source` (shared with `ntk-mpi select`).
  func makeRequest(_ source: PoolSource) throws -> SelectionRequest {
    try source.check(size: size, path: pool)
    var request = SelectionRequest(pool: source, method: method, size: size)
    request.distance = distance
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
    if let model { request.model = try source.model(model, path: pool) }
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
      stdoutLine(JSONValue.object(provenanceFields(seed: seed) + [
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
      stdoutLine(line)
    }
  }

  func loadPool() throws -> PoolSource {
    try PoolSource.open(pool, features: features.map(commaSeparatedList), scaling: scaling.library)
  }
}
