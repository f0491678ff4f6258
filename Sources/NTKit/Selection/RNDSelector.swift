/// RND selection, Algorithm 1 of the paper.
///
/// Target F and predictor G share one architecture. F is never trained:
/// F(pool) is computed once and cached on the device (pool × M floats). Each
/// step scores every pool point by D(F(p), G(p)) in blocks, takes the largest
/// among the unchosen (ties: lowest index; k per step), adds it to T and
/// retrains G on ⟨T, F(T)⟩: Adam with moments reset, `epochs` full-batch (or
/// seeded mini-batch) steps, weights warm-started (or restarted with reinit).
final class RNDSelector: StepSelector {
  let request: SelectionRequest
  let device: any ComputeDevice
  let network: Network
  let initialPredictor: ModelParameters
  let modelHash: UInt64
  let n: Int, d: Int, m: Int
  let trainer: Trainer
  let scorer: Propagator<Float>
  let streamer: PoolStreamer
  /// F(pool), n × M (unwhitened: the training targets).
  let fCache: DeviceBuffer<Float>
  /// Mahalanobis: F(pool)·L, the whitening factor L, and a block of G·L.
  var whitenedF: DeviceBuffer<Float>?
  var whitening: DeviceBuffer<Float>?
  var whitenedG: DeviceBuffer<Float>?
  let distances: DeviceBuffer<Float>
  let excluded: DeviceBuffer<Float>
  /// T and F(T) on the device, size × d and size × M.
  let tx: DeviceBuffer<Float>
  let ty: DeviceBuffer<Float>
  var chosenCount = 0
  let hyper: AdamHyper

  init(_ request: SelectionRequest, device: any ComputeDevice) throws {
    self.request = request
    self.device = device
    n = request.pool.rows
    d = request.pool.rowLength
    let spec = request.model ?? SelectionRequest.defaultModel(features: d)
    network = try Network(spec: spec)
    guard network.inputSize == d else {
      throw NTKitError.shapeMismatch(context: "RND model input", expected: "\(d) features (the pool's)",
                                     found: "input shape \(spec.inputShape) (\(network.inputSize) values)")
    }
    m = network.outputSize
    let target = try RNDSelector.weights(request.targetWeights, network: network, seed: request.seed, role: "target")
    initialPredictor = try RNDSelector.weights(request.predictorWeights, network: network, seed: request.seed, role: "predictor")
    modelHash = RNDSelector.modelHash(spec: spec, target: target, predictor: initialPredictor)
    hyper = AdamHyper(learningRate: request.learningRate)

    let chunk = max(1, min(n, request.chunkRows))
    trainer = try Trainer(network: network, parameters: initialPredictor, device: device,
                          capacity: max(1, min(request.size, request.batchSize ?? request.size)))
    scorer = try Propagator<Float>(network: network, parameters: trainer.theta, device: device, capacity: chunk, multiplicity: 1)
    streamer = PoolStreamer(pool: request.pool, device: device, chunkRows: chunk, destination: scorer.input.view)
    fCache = try device.makeBuffer(Float.self, count: n * m)
    distances = try device.makeBuffer(Float.self, count: n)
    excluded = try device.makeBuffer(Float.self, count: n)
    tx = try device.makeBuffer(Float.self, count: request.size * d)
    ty = try device.makeBuffer(Float.self, count: request.size * m)

    // F(pool), once: the target network runs on the scorer's input blocks.
    let targetTheta = try device.upload(target.values)
    let targetNet = try Propagator<Float>(network: network, parameters: targetTheta, device: device, capacity: chunk,
                                          multiplicity: 1)
    try streamer.forEachBlock { lo, b in
      try device.copy(scorer.input.view, to: targetNet.input.view, count: b * d)
      try targetNet.forward(n: b)
      try device.copy(targetNet.output, to: fCache.view(at: lo * m), count: b * m)
    }
    if request.distance == .mahalanobis { try setUpWhitening(chunk: chunk) }
  }

  /// Hash of the spec and both initial networks (what a checkpoint records).
  static func modelHash(spec: ModelSpec, target: ModelParameters, predictor: ModelParameters) -> UInt64 {
    var h = FNV1a()
    for byte in "\(spec)".utf8 { h.add(word: UInt64(byte)) }
    for x in target.values { h.add(word: UInt64(x.bitPattern)) }
    for x in predictor.values { h.add(word: UInt64(x.bitPattern)) }
    return h.value
  }

  static func weights(_ source: InitialWeights, network: Network, seed: UInt64, role: String) throws -> ModelParameters {
    switch source {
    case .seeded:
      var rng = SeededRandom(seed: seed, stream: "rnd \(role)")
      return ModelParameters(initializing: network, seed: rng.next())
    case .parameters(let p):
      guard p.values.count == network.parameterCount else {
        throw NTKitError.shapeMismatch(context: "\(role) initial weights", expected: "\(network.parameterCount) parameters (the model's)",
                                       found: "\(p.values.count)")
      }
      if let bad = p.values.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: "\(role) initial weights", detail: "at flat index \(bad)")
      }
      return p
    case .file(let path):
      return try ModelParameters.load(path, network: network)
    }
  }

  /// Covariance of F(pool) (population, float64, block by block), its
  /// whitening factor L, and F(pool)·L.
  private func setUpWhitening(chunk: Int) throws {
    var mean = [Double](repeating: 0, count: m)
    var cross = [Double](repeating: 0, count: m * m)
    var host = [Float](repeating: 0, count: chunk * m)
    var lo = 0
    while lo < n {
      let b = min(chunk, n - lo)
      try host.withUnsafeMutableBufferPointer {
        try device.read(fCache.view(at: lo * m), into: UnsafeMutableBufferPointer(rebasing: $0[0..<b * m]))
      }
      for i in 0..<b {
        for a in 0..<m {
          let x = Double(host[i * m + a])
          mean[a] += x
          for c in 0...a { cross[a * m + c] += x * Double(host[i * m + c]) }
        }
      }
      lo += b
    }
    let count = Double(n)
    for a in 0..<m { mean[a] /= count }
    var cov = [Double](repeating: 0, count: m * m)
    for a in 0..<m {
      for c in 0...a {
        let v = cross[a * m + c] / count - mean[a] * mean[c]
        cov[a * m + c] = v
        cov[c * m + a] = v
      }
    }
    let l = try MahalanobisWhitening.factor(covariance: cov, m)
    let lBuffer = try device.upload(l.map { Float($0) })
    let wf = try device.makeBuffer(Float.self, count: n * m)
    try device.gemm(GemmOp(m: n, n: m, k: m, a: fCache.view, lda: m, b: lBuffer.view, ldb: m, c: wf.view, ldc: m))
    whitening = lBuffer
    whitenedF = wf
    whitenedG = try device.makeBuffer(Float.self, count: chunk * m)
  }

  func restore(_ picks: [Int], predictor: [Float]?) throws {
    for p in picks { try addToTargetSet(p) }
    if let predictor {
      guard predictor.count == network.parameterCount else {
        throw NTKitError.invalidArgument("checkpoint predictor has \(predictor.count) parameters, the model \(network.parameterCount)")
      }
      try trainer.setParameters(ModelParameters(values: predictor))
    }
  }

  private func addToTargetSet(_ i: Int) throws {
    try device.fill(excluded.view(at: i), count: 1, value: 1)
    let row = try streamer.row(i)
    try row.withUnsafeBufferPointer { try device.write($0, to: tx.view(at: chosenCount * d)) }
    try device.copy(fCache.view(at: i * m), to: ty.view(at: chosenCount * m), count: m)
    chosenCount += 1
  }

  /// D(F(p), G(p)) for every pool point into `distances`.
  private func score() throws {
    try streamer.forEachBlock { lo, b in
      try scorer.forward(n: b)
      switch request.distance {
      case .metric(let metric):
        try device.rowDistances(metric, a: fCache.view(at: lo * m), b: scorer.output, out: distances.view(at: lo), n: b, d: m)
      case .mahalanobis:
        try device.gemm(GemmOp(m: b, n: m, k: m, a: scorer.output, lda: m, b: whitening!.view, ldb: m,
                               c: whitenedG!.view, ldc: m))
        try device.rowDistances(.l2, a: whitenedF!.view(at: lo * m), b: whitenedG!.view, out: distances.view(at: lo),
                                n: b, d: m)
      }
    }
  }

  private func retrain(step: Int) throws {
    if request.reinit { try trainer.setParameters(initialPredictor) }
    try trainer.resetMoments()
    let t = chosenCount
    let optimizer = OptimizerKind.adam(hyper)
    if let b = request.batchSize, b < t {
      var rng = SeededRandom(seed: request.seed, stream: "rnd batches \(step)")
      var order = Array(0..<t)
      for _ in 0..<request.epochs {
        for i in stride(from: t - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        try trainer.fitEpochMSE(n: t, batch: b, order: order, inputs: tx.view, targets: ty.view, optimizer: optimizer)
      }
    } else {
      try trainer.fitFullBatchMSE(n: t, inputs: tx.view, targets: ty.view, epochs: request.epochs, optimizer: optimizer)
    }
  }

  func step(number: Int, count: Int, retrain doRetrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    try score()
    var indices: [Int] = [], values: [Double] = []
    var stop: String?
    for _ in 0..<count {
      guard let best = try device.argmax(distances.view, excluded: excluded.view, count: n) else { break }
      guard best.value.isFinite else { throw SelectionNumerics.nonFinite(distance: best.value, point: best.index, step: number) }
      if let t = request.threshold, best.value <= t {
        stop = "largest distance \(best.value) ≤ threshold \(t)"
        break
      }
      try addToTargetSet(best.index)
      indices.append(best.index)
      values.append(best.value)
    }
    let t1 = monotonicSeconds()
    if doRetrain && stop == nil && !indices.isEmpty { try retrain(step: number) }
    try device.synchronize()
    let t2 = monotonicSeconds()
    return (indices, values, t1 - t0, t2 - t1, stop)
  }

  func predictorState() throws -> [Float]? { try trainer.parameters.values }
}
