/// Data selection through the C ABI (`ntk select` without the files).
///
///     int32_t ntk_select(const float *pool, const int64_t *pool_shape, int64_t pool_rank,
///                        void *model /* NULL: the default d→32→32→32→8 ReLU net */,
///                        const char *options, int64_t *indices /* min(size, N) */, int64_t *count,
///                        char **info, const int32_t *cancel, char *err, size_t errlen);
///       options: {"size" (required), "method": "rnd"|"random"|"kcenter", "distance": "mse"|…, "seed",
///       "epochs", "lr", "reinit", "train_batch_size", "picks_per_step", "threshold",
///       "target_weights", "predictor_weights" (.safetensors paths), "chunk_rows", "device" (default cpu),
///       "progress" (a progress bar on stderr when it is a terminal)}.
///       *count: how many indices were written (fewer than size when the threshold stopped the run);
///       info: {"method", "stopped_early", "stop_reason", "seconds", "steps": [{"step", "indices",
///       "distances", "evaluation_seconds", "training_seconds"}…]}.
import NTKit

@_cdecl("ntk_select")
public func ntk_select(
  _ pool: UnsafePointer<Float>?, _ poolShape: UnsafePointer<Int64>?, _ poolRank: Int64,
  _ model: UnsafeMutableRawPointer?, _ options: UnsafePointer<CChar>?,
  _ indices: UnsafeMutablePointer<Int64>?, _ count: UnsafeMutablePointer<Int64>?,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let opts = try ABIOptions(options, context: "select")
    guard let size = try opts.int("size") else { throw NTKitError.invalidArgument("select: size is required (the number of points to choose)") }
    let x = try hostTensor(pool, poolShape, Int(poolRank), name: "pool")
    var request = SelectionRequest(pool: .tensor(x), method: try SelectionMethod(parsing: opts.string("method", default: "rnd")), size: size)
    request.distance = try SelectionDistance(parsing: opts.string("distance", default: "mse"))
    request.seed = try opts.seed() ?? 0
    request.epochs = try opts.int("epochs") ?? 50
    request.learningRate = try opts.double("lr") ?? 1e-3
    request.reinit = try opts.bool("reinit") ?? false
    request.batchSize = try opts.int("train_batch_size")
    request.picksPerStep = try opts.int("picks_per_step") ?? 1
    request.threshold = try opts.double("threshold")
    request.chunkRows = try opts.int("chunk_rows") ?? 65_536
    if let path = try opts.string("target_weights") { request.targetWeights = .file(path) }
    if let path = try opts.string("predictor_weights") { request.predictorWeights = .file(path) }
    let progress = try opts.bool("progress") ?? false
    var warnings: [String] = []
    let (device, _) = try opts.device(default: "cpu", warnings: &warnings)
    try opts.finish()
    guard let indices, let count else { throw NTKitError.invalidArgument("select: output indices or count is NULL") }
    if let model {
      let h = try ModelHandle.from(model)
      guard h.network.inputSize == x.rowLength else {
        throw NTKitError.shapeMismatch(
          context: "\(h.source): model input", expected: "\(x.rowLength) features (the pool has \(x.rows) × \(x.rowLength))",
          found: "input_shape \(h.network.spec.inputShape) (\(h.network.inputSize) values)")
      }
      request.model = h.network.spec
    }
    let token = CancelToken(pointer: cancel)
    let bar = ProgressBar("ntkit.select", total: size, unit: " points", enabled: progress && ProgressBar.stderrIsTerminal)
    let result: SelectionResult
    do {
      result = try DataSelection.run(request, device: device, progress: { bar.update($0.picks, total: $0.size) },
                                     isCancelled: { token.isCancelled })
    } catch {
      bar.finish()
      throw error
    }
    let picks = result.indices.prefix(size)
    for (i, v) in picks.enumerated() { indices[i] = Int64(v) }
    count.pointee = Int64(picks.count)
    setInfo(info, .object([
      ("method", .string(result.method.rawValue)), ("stopped_early", .bool(result.stoppedEarly)),
      ("stop_reason", result.stopReason.map { .string($0) } ?? .null), ("seconds", .number(result.seconds)),
      ("device", .string(device.identifier)), ("warnings", JSONValue(strings: warnings)),
      ("steps", .array(result.steps.map { s in
        .object([("step", .number(Double(s.step))), ("indices", JSONValue(numbers: s.indices.map(Double.init))),
                 ("distances", JSONValue(numbers: s.distances)), ("evaluation_seconds", .number(s.evaluationSeconds)),
                 ("training_seconds", .number(s.trainingSeconds))])
      })),
    ]))
  }
}
