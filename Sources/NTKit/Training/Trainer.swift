/// Gradient training of a network on one device, in float32.
///
/// Every buffer (parameters, gradients, Adam moments, activations, the
/// training and test sets) lives on the device and is allocated once per
/// `train` call at most; an optimizer step allocates nothing and moves at
/// most one loss scalar back to the host (none when losses are not recorded).
/// Cross-entropy computes its softmax on the host (n × M logits per batch).
public final class Trainer {
  public let network: Network
  public let device: any ComputeDevice
  /// The largest batch (and evaluation block) the buffers hold; grows when a
  /// `train` call needs a larger full batch.
  public private(set) var capacity: Int

  /// θ on the device, in `ModelParameters` order.
  let theta: DeviceBuffer<Float>
  let gradient: DeviceBuffer<Float>
  let moment1: DeviceBuffer<Float>
  let moment2: DeviceBuffer<Float>
  /// Adam's step counter (1-based once a step is taken).
  var adamSteps = 0
  private(set) var propagator: Propagator<Float>
  /// Output cotangent seed, capacity × M.
  private var seed: DeviceBuffer<Float>
  /// Batch targets gathered for mini-batches, capacity × M.
  private var batchTargets: DeviceBuffer<Float>
  /// Per-row losses, capacity.
  private var rowLoss: DeviceBuffer<Float>
  /// [0]: epoch accumulator, [1]: batch sum.
  private let lossScalars: DeviceBuffer<Float>
  /// Host staging for cross-entropy logits and cotangents, capacity × M.
  private var hostLogits: [Float]
  private var hostSeed: [Float]

  /// Sets up buffers for batches of up to `capacity` samples, starting from `parameters`.
  public init(network: Network, parameters: ModelParameters, device: any ComputeDevice, capacity: Int) throws {
    guard parameters.values.count == network.parameterCount else {
      throw NTKitError.shapeMismatch(context: "initial parameters", expected: "\(network.parameterCount) values",
                                     found: "\(parameters.values.count)")
    }
    guard capacity >= 1 else { throw NTKitError.invalidArgument("trainer capacity must be at least 1, found \(capacity)") }
    self.network = network
    self.device = device
    self.capacity = capacity
    let p = network.parameterCount
    theta = try device.upload(parameters.values)
    gradient = try device.makeBuffer(Float.self, count: p)
    moment1 = try device.makeBuffer(Float.self, count: p)
    moment2 = try device.makeBuffer(Float.self, count: p)
    lossScalars = try device.makeBuffer(Float.self, count: 2)
    propagator = try Propagator<Float>(network: network, parameters: theta, device: device, capacity: capacity, multiplicity: 1)
    let m = network.outputSize
    seed = try device.makeBuffer(Float.self, count: capacity * m)
    batchTargets = try device.makeBuffer(Float.self, count: capacity * m)
    rowLoss = try device.makeBuffer(Float.self, count: capacity)
    hostLogits = [Float](repeating: 0, count: capacity * m)
    hostSeed = [Float](repeating: 0, count: capacity * m)
  }

  /// The current parameters, back on the host.
  public var parameters: ModelParameters {
    get throws { ModelParameters(values: try device.download(theta.view, count: network.parameterCount)) }
  }

  /// Replaces the parameters (moments are left alone; see `resetMoments`).
  public func setParameters(_ parameters: ModelParameters) throws {
    guard parameters.values.count == network.parameterCount else {
      throw NTKitError.shapeMismatch(context: "parameters", expected: "\(network.parameterCount) values",
                                     found: "\(parameters.values.count)")
    }
    try parameters.values.withUnsafeBufferPointer { try device.write($0, to: theta.view) }
  }

  /// Zeroes the Adam moments and restarts its step count (bias correction from step 1).
  public func resetMoments() throws {
    try device.fill(moment1.view, count: network.parameterCount, value: 0)
    try device.fill(moment2.view, count: network.parameterCount, value: 0)
    adamSteps = 0
  }

  /// Reallocates the batch buffers for at least `needed` samples (never shrinks).
  func ensureCapacity(_ needed: Int) throws {
    guard needed > capacity else { return }
    capacity = needed
    let m = network.outputSize
    propagator = try Propagator<Float>(network: network, parameters: theta, device: device, capacity: capacity, multiplicity: 1)
    seed = try device.makeBuffer(Float.self, count: capacity * m)
    batchTargets = try device.makeBuffer(Float.self, count: capacity * m)
    rowLoss = try device.makeBuffer(Float.self, count: capacity)
    hostLogits = [Float](repeating: 0, count: capacity * m)
    hostSeed = [Float](repeating: 0, count: capacity * m)
  }

  /// Trains for `epochs` epochs and returns the per-epoch history.
  ///
  /// - Parameters:
  ///   - targets: `.values` (N × M, mse) or `.labels` (N, cross-entropy).
  ///   - batchSize: samples per step; nil (or ≥ N) is full batch, in data order.
  ///     Mini-batches visit a fresh seeded permutation every epoch.
  ///   - seed: the shuffle seed (stream "shuffle").
  ///   - resetMoments: zero the Adam moments first (else they carry over from the last call).
  ///   - test: an optional test set, evaluated after every `evaluateEvery`-th
  ///     epoch and after the last one (other epochs record no test loss).
  ///   - recordTrainLoss: false skips the loss read-back (history then has no train loss).
  public func train(inputs: Tensor, targets: TrainingTargets, epochs: Int, batchSize: Int? = nil,
                    optimizer: OptimizerKind = .adamDefault, seed: UInt64 = 0, resetMoments: Bool = true,
                    test: (inputs: Tensor, targets: TrainingTargets)? = nil, evaluateEvery: Int = 1,
                    recordTrainLoss: Bool = true, onEpoch: ((EpochRecord) -> Void)? = nil, isCancelled: (() -> Bool)? = nil) throws -> TrainingHistory {
    let n = inputs.rows, m = network.outputSize
    try checkInputs(inputs, context: "training")
    guard n >= 1 else { throw NTKitError.invalidArgument("the training set is empty") }
    try targets.validate(rows: n, outputs: m, context: "training")
    guard epochs >= 0 else { throw NTKitError.invalidArgument("epochs must be ≥ 0, found \(epochs)") }
    if let b = batchSize, b < 1 { throw NTKitError.invalidArgument("batch size must be at least 1, found \(b)") }
    guard evaluateEvery >= 1 else { throw NTKitError.invalidArgument("evaluate-every must be at least 1, found \(evaluateEvery)") }
    if let test {
      try checkInputs(test.inputs, context: "test")
      try test.targets.validate(rows: test.inputs.rows, outputs: m, context: "test")
      guard test.targets.loss == targets.loss else {
        throw NTKitError.invalidArgument("the test targets must be of the same kind as the training targets")
      }
    }
    let batch = min(batchSize ?? n, n)
    if resetMoments, case .values(let y) = targets, case .adam(let hyper) = optimizer,
       let fast = fastMLP(capacity: batch) {
      return try trainFast(fast, inputs: inputs, targets: y, epochs: epochs, batch: batch, hyper: hyper, seed: seed,
                           test: test, recordTrainLoss: recordTrainLoss, onEpoch: onEpoch, isCancelled: isCancelled)
    }
    try ensureCapacity(batch)
    // The data sets, resident for the whole run.
    let trainX = try device.upload(inputs.data)
    var trainY: DeviceBuffer<Float>? = nil
    if case .values(let v) = targets { trainY = try device.upload(v) }
    var testX: DeviceBuffer<Float>? = nil, testY: DeviceBuffer<Float>? = nil
    if let test {
      testX = try device.upload(test.inputs.data)
      if case .values(let v) = test.targets { testY = try device.upload(v) }
    }
    if resetMoments { try self.resetMoments() }
    var order = Array(0..<n)
    var rng = SeededRandom(seed: seed, stream: "shuffle")
    var labels: [Int] = []
    if case .labels(let l) = targets { labels = l }
    var history = TrainingHistory(loss: targets.loss)
    for epoch in stride(from: 1, through: epochs, by: 1) {
      // SIGINT/SIGTERM/SIGHUP stop training between epochs (exit 130, nothing written).
      FaultInjection.pause("compute")
      try Interrupt.check()
      if isCancelled?() == true { throw NTKitError.interrupted }
      let start = monotonicSeconds()
      if batch < n {
        for i in stride(from: n - 1, to: 0, by: -1) {
          let j = Int(rng.next() % UInt64(i + 1))
          order.swapAt(i, j)
        }
      }
      let stats = try runEpoch(n: n, batch: batch, order: batch < n ? order : nil, inputs: trainX.view,
                               targets: trainY?.view, labels: labels, optimizer: optimizer, record: recordTrainLoss)
      var record = EpochRecord(epoch: epoch, trainLoss: stats.loss, trainAccuracy: stats.accuracy,
                               testLoss: nil, testAccuracy: nil, seconds: 0)
      if let test, let testX, epoch % evaluateEvery == 0 || epoch == epochs {
        var testLabels: [Int] = []
        if case .labels(let l) = test.targets { testLabels = l }
        let r = try evaluateResident(n: test.inputs.rows, inputs: testX.view, targets: testY?.view, labels: testLabels)
        record.testLoss = r.loss
        record.testAccuracy = r.accuracy
      }
      record.seconds = monotonicSeconds() - start
      try history.append(record, onEpoch: onEpoch)
    }
    return history
  }

  /// Loss (and accuracy for labels) of the current parameters on a data set.
  public func evaluate(inputs: Tensor, targets: TrainingTargets) throws -> (loss: Double, accuracy: Double?) {
    try checkInputs(inputs, context: "evaluation")
    try targets.validate(rows: inputs.rows, outputs: network.outputSize, context: "evaluation")
    guard inputs.rows > 0 else { throw NTKitError.invalidArgument("the evaluation set is empty") }
    let x = try device.upload(inputs.data)
    var y: DeviceBuffer<Float>? = nil
    var labels: [Int] = []
    switch targets {
    case .values(let v): y = try device.upload(v)
    case .labels(let l): labels = l
    }
    return try evaluateResident(n: inputs.rows, inputs: x.view, targets: y?.view, labels: labels)
  }

  private func checkInputs(_ inputs: Tensor, context: String) throws {
    guard inputs.shape.count >= 1, inputs.rowLength == network.inputSize else {
      throw NTKitError.shapeMismatch(
        context: "\(context) inputs", expected: "[N, \(network.spec.inputShape.map(String.init).joined(separator: ", "))]",
        found: "\(inputs.shape)")
    }
    if let bad = inputs.data.firstIndex(where: { !$0.isFinite }) {
      throw NTKitError.nonFinite(path: "\(context) inputs", detail: "at row \(bad / max(network.inputSize, 1))")
    }
  }

  // MARK: Resident-data core (also used by RND selection)

  /// Full-batch training on the first `n` rows of device-resident inputs and
  /// mse targets, `epochs` steps, no loss read-back: the RND retrain.
  func fitFullBatchMSE(n: Int, inputs: BufferView<Float>, targets: BufferView<Float>, epochs: Int,
                       optimizer: OptimizerKind) throws {
    try ensureCapacity(n)
    try device.copy(inputs, to: propagator.input.view, count: n * network.inputSize)
    for _ in 0..<epochs {
      try step(n: n, targets: targets, labels: nil, optimizer: optimizer, record: false, lossWeight: 0)
    }
  }

  /// Mini-batch training of one epoch on `n` device-resident rows (mse targets)
  /// in the order `order` (a permutation of 0..<n), batches of `batch` rows.
  func fitEpochMSE(n: Int, batch: Int, order: [Int], inputs: BufferView<Float>, targets: BufferView<Float>,
                   optimizer: OptimizerKind) throws {
    _ = try runEpoch(n: n, batch: batch, order: order, inputs: inputs, targets: targets, labels: [],
                     optimizer: optimizer, record: false)
  }

  /// One epoch over n resident rows; returns the mean loss (and accuracy) when `record`.
  private func runEpoch(n: Int, batch: Int, order: [Int]?, inputs: BufferView<Float>, targets: BufferView<Float>?,
                        labels: [Int], optimizer: OptimizerKind, record: Bool) throws -> (loss: Double?, accuracy: Double?) {
    let d = network.inputSize, m = network.outputSize
    let mse = targets != nil
    if record && mse { try device.fill(lossScalars.view, count: 1, value: 0) }
    var hostLoss = 0.0, correct = 0
    var batchLabels: [Int] = []
    var lo = 0
    while lo < n {
      let b = min(batch, n - lo)
      let batchTargetsView: BufferView<Float>?
      if let order {
        for r in 0..<b {
          let i = order[lo + r]
          try device.copy(inputs.advanced(by: i * d), to: propagator.input.view(at: r * d), count: d)
          if let targets { try device.copy(targets.advanced(by: i * m), to: batchTargets.view(at: r * m), count: m) }
        }
        batchTargetsView = mse ? batchTargets.view : nil
        if !mse { batchLabels = (0..<b).map { labels[order[lo + $0]] } }
      } else {
        try device.copy(inputs.advanced(by: lo * d), to: propagator.input.view, count: b * d)
        batchTargetsView = targets?.advanced(by: lo * m)
        if !mse { batchLabels = Array(labels[lo..<lo + b]) }
      }
      let r = try step(n: b, targets: batchTargetsView, labels: mse ? nil : batchLabels, optimizer: optimizer,
                       record: record, lossWeight: 1 / Float(n))
      hostLoss += r.loss * Double(b)
      correct += r.correct
      lo += b
    }
    guard record else { return (nil, nil) }
    if mse {
      let total = try device.download(lossScalars.view, count: 1)[0]
      return (Double(total), nil)
    }
    return (hostLoss / Double(n), Double(correct) / Double(n))
  }

  /// One optimizer step on the n rows already in the propagator's input.
  /// mse: `targets` (n × M on the device); when `record`, adds `lossWeight`·Σ row mse
  /// to the device loss accumulator. Cross-entropy: `labels`, host softmax; returns
  /// the batch's mean loss and correct count.
  @discardableResult
  private func step(n: Int, targets: BufferView<Float>?, labels: [Int]?, optimizer: OptimizerKind, record: Bool,
                    lossWeight: Float) throws -> (loss: Double, correct: Int) {
    let m = network.outputSize
    let p = propagator
    try p.forward(n: n)
    var scale: Float
    var result = (loss: 0.0, correct: 0)
    if let targets {
      if record {
        try device.rowDistances(.mse, a: p.output, b: targets, out: rowLoss.view, n: n, d: m)
        try device.columnSums(rowLoss.view, rows: n, cols: 1, scale: lossWeight, into: lossScalars.view(at: 1))
        try device.axpy(1, lossScalars.view(at: 1), lossScalars.view, count: 1)
      }
      try device.copy(p.output, to: seed.view, count: n * m)
      try device.axpy(-1, targets, seed.view, count: n * m)
      scale = 2 / Float(n * m)
    } else {
      let labels = labels!
      result = try softmaxCrossEntropySeed(n: n, labels: labels, computeLoss: record)
      scale = 1 / Float(n)
    }
    try p.backward(n: n, seed: seed.view) { k, a, g in
      let geo = a.geometry
      try device.gemm(GemmOp(transA: true, m: geo.patch, n: geo.outC, k: n * geo.positions, alpha: Float(a.weightScale) * scale,
                             a: p.patches(k), lda: geo.patch, b: g, ldb: geo.outC,
                             beta: 0, c: gradient.view(at: a.kernelOffset), ldc: geo.outC))
      if a.hasBias {
        try device.columnSums(g, rows: n * geo.positions, cols: geo.outC, scale: Float(a.biasScale) * scale,
                              into: gradient.view(at: a.biasOffset))
      }
    }
    let count = network.parameterCount
    switch optimizer {
    case .adam(let hyper):
      adamSteps += 1
      try device.adamStep(hyper, step: adamSteps, parameters: theta.view, gradients: gradient.view,
                          m: moment1.view, v: moment2.view, count: count)
    case .sgd(let lr):
      try device.axpy(Float(-lr), gradient.view, theta.view, count: count)
    }
    return result
  }

  /// Reads the logits of n rows, writes the unscaled cross-entropy cotangent
  /// softmax(z) − onehot(label) into `seed`, and returns the mean loss and
  /// the number of rows whose arg-max logit is the label.
  private func softmaxCrossEntropySeed(n: Int, labels: [Int], computeLoss: Bool) throws -> (loss: Double, correct: Int) {
    let m = network.outputSize
    try hostLogits.withUnsafeMutableBufferPointer {
      try device.read(propagator.output, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n * m]))
    }
    var loss = 0.0, correct = 0
    hostLogits.withUnsafeBufferPointer { z in
      hostSeed.withUnsafeMutableBufferPointer { g in
        for i in 0..<n {
          let r = softmaxRow(z.baseAddress! + i * m, m, label: labels[i], gradient: g.baseAddress! + i * m)
          loss += r.loss
          if r.correct { correct += 1 }
        }
      }
    }
    try hostSeed.withUnsafeBufferPointer { try device.write(UnsafeBufferPointer(rebasing: $0[0..<n * m]), to: seed.view) }
    return (loss / Double(n), correct)
  }

  /// Mean loss (and accuracy) over n resident rows, in blocks of `capacity`.
  private func evaluateResident(n: Int, inputs: BufferView<Float>, targets: BufferView<Float>?,
                                labels: [Int]) throws -> (loss: Double, accuracy: Double?) {
    let d = network.inputSize, m = network.outputSize
    var total = 0.0, correct = 0
    var lo = 0
    while lo < n {
      let b = min(capacity, n - lo)
      try device.copy(inputs.advanced(by: lo * d), to: propagator.input.view, count: b * d)
      try propagator.forward(n: b)
      if let targets {
        try device.rowDistances(.mse, a: propagator.output, b: targets.advanced(by: lo * m), out: rowLoss.view, n: b, d: m)
        try device.columnSums(rowLoss.view, rows: b, cols: 1, scale: 1, into: lossScalars.view(at: 1))
        total += Double(try device.download(lossScalars.view(at: 1), count: 1)[0])
      } else {
        try hostLogits.withUnsafeMutableBufferPointer {
          try device.read(propagator.output, into: UnsafeMutableBufferPointer(rebasing: $0[0..<b * m]))
        }
        hostLogits.withUnsafeBufferPointer { z in
          hostSeed.withUnsafeMutableBufferPointer { g in
            for i in 0..<b {
              let r = softmaxRow(z.baseAddress! + i * m, m, label: labels[lo + i], gradient: g.baseAddress!)
              total += r.loss
              if r.correct { correct += 1 }
            }
          }
        }
      }
      lo += b
    }
    return (total / Double(n), targets == nil ? Double(correct) / Double(n) : nil)
  }
}

/// Softmax cross-entropy of one row of `m` logits against `label`: writes
/// softmax(z) − onehot into `gradient`; the loss is log Σ e^z − z_label (stable).
@inline(__always)
func softmaxRow(_ z: UnsafePointer<Float>, _ m: Int, label: Int, gradient: UnsafeMutablePointer<Float>) -> (loss: Double, correct: Bool) {
  var maxZ = Double(z[0]), argmax = 0
  for a in 1..<max(m, 1) where Double(z[a]) > maxZ { maxZ = Double(z[a]); argmax = a }
  var sum = 0.0
  for a in 0..<m { sum += libm_exp(Double(z[a]) - maxZ) }
  let logSum = libm_log(sum) + maxZ
  for a in 0..<m {
    let pa = libm_exp(Double(z[a]) - logSum)
    gradient[a] = Float(pa - (a == label ? 1 : 0))
  }
  return (logSum - Double(z[label]), argmax == label)
}
