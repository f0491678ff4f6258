/// Training through the C ABI (`ntk train` without the files).
///
///     int32_t ntk_train(void *model, const float *theta /* P, initial */,
///                       const float *x, const int64_t *x_shape, int64_t x_rank,
///                       const void *y, int64_t y_count, int32_t y_is_labels,
///                       const float *xt /* NULL: no test set */, const int64_t *xt_shape, int64_t xt_rank,
///                       const void *yt, int64_t yt_count,
///                       const char *options, float *theta_out /* P */, char **info,
///                       const int32_t *cancel, char *err, size_t errlen);
///       y: float32 N × M targets (mse) or int64 N class labels (y_is_labels = 1, cross_entropy);
///       yt likewise for the test set. options: {"epochs", "lr", "loss", "optimizer", "beta1", "beta2",
///       "eps", "weight_decay", "batch_size", "seed", "device"} (CLI defaults; epochs 500, device auto).
///       info: {"loss", "device", "seconds", "warnings", "epochs": [{"epoch", "train_loss",
///       "train_accuracy", "test_loss", "test_accuracy", "seconds"}…]}.
import NTKit

/// Targets from a caller buffer: float32 values or int64 labels.
private func targets(_ p: UnsafeRawPointer?, _ count: Int64, labels: Bool, name: String) throws -> TrainingTargets {
  guard let p, count > 0 else { throw NTKitError.invalidArgument("\(name) is missing or empty") }
  if labels {
    return .labels(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Int64.self), count: Int(count)).map { Int($0) })
  }
  let v = Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: Int(count)))
  if let bad = v.firstIndex(where: { !$0.isFinite }) { throw NTKitError.nonFinite(path: name, detail: "at flat index \(bad)") }
  return .values(v)
}

@_cdecl("ntk_train")
public func ntk_train(
  _ model: UnsafeMutableRawPointer?, _ theta: UnsafePointer<Float>?,
  _ x: UnsafePointer<Float>?, _ xShape: UnsafePointer<Int64>?, _ xRank: Int64,
  _ y: UnsafeRawPointer?, _ yCount: Int64, _ yIsLabels: Int32,
  _ xt: UnsafePointer<Float>?, _ xtShape: UnsafePointer<Int64>?, _ xtRank: Int64,
  _ yt: UnsafeRawPointer?, _ ytCount: Int64,
  _ options: UnsafePointer<CChar>?, _ thetaOut: UnsafeMutablePointer<Float>?,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    let opts = try ABIOptions(options, context: "train")
    let epochs = try opts.int("epochs") ?? 500
    let lr = try opts.double("lr") ?? 1e-3
    let lossName = try opts.string("loss")
    let optimizer = try OptimizerChoice(parsing: try opts.string("optimizer", default: "adam"))
    let beta1 = try opts.double("beta1") ?? 0.9, beta2 = try opts.double("beta2") ?? 0.999
    let eps = try opts.double("eps") ?? 1e-8, weightDecay = try opts.double("weight_decay") ?? 0
    let batchSize = try opts.int("batch_size")
    let seed = try opts.seed() ?? 0
    var warnings: [String] = []
    let (device, _) = try opts.device(default: "auto", warnings: &warnings)
    try opts.finish()
    try ArgumentRules.atLeast(0, epochs, flag: "train: epochs")
    try ArgumentRules.learningRate(lr, flag: "train: lr")
    guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw NTKitError.invalidArgument("train: beta1 and beta2 must be in [0, 1)") }
    guard eps > 0, weightDecay >= 0 else { throw NTKitError.invalidArgument("train: eps must be > 0 and weight_decay ≥ 0") }
    try ArgumentRules.atLeast(1, batchSize, flag: "train: batch_size")
    guard let thetaOut else { throw NTKitError.invalidArgument("train: output θ is NULL") }
    let params = try h.parameters(theta)
    let inputs = try checkInputs(try hostTensor(x, xShape, Int(xRank), name: "x"), h.network, name: "x")
    let train = try targets(y, yCount, labels: yIsLabels != 0, name: "y")
    if let lossName, try Loss(parsing: lossName) != train.loss {
      throw NTKitError.invalidArgument(
        "train: loss \(lossName) needs \(train.loss == .mse ? "integer class labels" : "float targets"), but y holds \(train.loss == .mse ? "floats" : "integer labels")")
    }
    var test: (inputs: Tensor, targets: TrainingTargets)?
    if let xt {
      let tx = try checkInputs(try hostTensor(xt, xtShape, Int(xtRank), name: "test x"), h.network, name: "test x")
      test = (tx, try targets(yt, ytCount, labels: yIsLabels != 0, name: "test y"))
    }
    let opt = optimizer.make(AdamHyper(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay))
    let token = CancelToken(pointer: cancel)
    try token.check()
    let trainer = try Trainer(network: h.network, parameters: params, device: device,
                              capacity: min(batchSize ?? inputs.rows, inputs.rows))
    let history = try trainer.train(inputs: inputs, targets: train, epochs: epochs, batchSize: batchSize, optimizer: opt,
                                    seed: seed, test: test, isCancelled: { token.isCancelled })
    for (i, v) in try trainer.parameters.values.enumerated() { thetaOut[i] = v }
    func num(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
    setInfo(info, .object([
      ("loss", .string(history.loss.rawValue)), ("device", .string(device.identifier)),
      ("seconds", .number(history.seconds)), ("warnings", JSONValue(strings: warnings)),
      ("epochs", .array(history.epochs.map { e in
        .object([("epoch", .number(Double(e.epoch))), ("train_loss", num(e.trainLoss)), ("train_accuracy", num(e.trainAccuracy)),
                 ("test_loss", num(e.testLoss)), ("test_accuracy", num(e.testAccuracy)), ("seconds", .number(e.seconds))])
      })),
    ]))
  }
}
