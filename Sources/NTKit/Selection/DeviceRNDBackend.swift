/// RND's backend on any `ComputeDevice` (CPU with OpenBLAS, OpenCL), for
/// every model and distance (Mahalanobis included).
///
/// On the device: F(pool) (n × M floats, unwhitened: the training targets),
/// the distances and chosen flags (n each), T and F(T) (size × d and
/// size × M); Mahalanobis adds F(pool)·L (n × M), the whitening factor L
/// (M × M) and a block of G·L. The pool is scored in blocks of `chunkRows`
/// rows through the predictor's `Propagator`.
final class DeviceRNDBackend: RNDBackend {
  let request: SelectionRequest
  let device: any ComputeDevice
  let network: Network
  let n: Int, d: Int, m: Int
  var rows: Range<Int> { 0..<n }
  let trainer: Trainer
  let scorer: Propagator<Float>
  let streamer: PoolStreamer
  let fCache: DeviceBuffer<Float>
  var whitenedF: DeviceBuffer<Float>?
  var whitening: DeviceBuffer<Float>?
  var whitenedG: DeviceBuffer<Float>?
  let distances: DeviceBuffer<Float>
  let excluded: DeviceBuffer<Float>
  let tx: DeviceBuffer<Float>
  let ty: DeviceBuffer<Float>
  private var count = 0

  init(_ request: SelectionRequest, model: RNDModel, device: any ComputeDevice) throws {
    self.request = request
    self.device = device
    network = model.network
    n = request.pool.rows
    d = request.pool.rowLength
    m = network.outputSize
    let chunk = max(1, min(n, request.chunkRows))
    trainer = try Trainer(network: network, parameters: model.predictor, device: device,
                          capacity: max(1, min(request.size, request.batchSize ?? request.size)))
    scorer = try Propagator<Float>(network: network, parameters: trainer.theta, device: device, capacity: chunk, multiplicity: 1)
    streamer = PoolStreamer(pool: request.pool, device: device, chunkRows: chunk, destination: scorer.input.view)
    fCache = try device.makeBuffer(Float.self, count: n * m)
    distances = try device.makeBuffer(Float.self, count: n)
    excluded = try device.makeBuffer(Float.self, count: n)
    tx = try device.makeBuffer(Float.self, count: request.size * d)
    ty = try device.makeBuffer(Float.self, count: request.size * m)

    // F(pool), once: the target network runs on the scorer's input blocks.
    let targetTheta = try device.upload(model.target.values)
    let targetNet = try Propagator<Float>(network: network, parameters: targetTheta, device: device, capacity: chunk,
                                          multiplicity: 1)
    try streamer.forEachBlock { lo, b in
      try device.copy(scorer.input.view, to: targetNet.input.view, count: b * d)
      try targetNet.forward(n: b)
      try device.copy(targetNet.output, to: fCache.view(at: lo * m), count: b * m)
    }
    if request.distance == .mahalanobis { try setUpWhitening(chunk: chunk) }
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

  func score(step: Int) throws {
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

  func best() throws -> (index: Int, value: Double)? {
    try device.argmax(distances.view, excluded: excluded.view, count: n)
  }

  func trainingPair(_ i: Int) throws -> [Float] {
    var pair = try streamer.row(i)
    pair += try device.download(fCache.view(at: i * m), count: m)
    return pair
  }

  func append(_ i: Int, pair: [Float]) throws {
    try device.fill(excluded.view(at: i), count: 1, value: 1)
    try pair.withUnsafeBufferPointer {
      try device.write(UnsafeBufferPointer(rebasing: $0[0..<d]), to: tx.view(at: count * d))
      try device.write(UnsafeBufferPointer(rebasing: $0[d..<d + m]), to: ty.view(at: count * m))
    }
    count += 1
  }

  func predictor() throws -> [Float] { try trainer.parameters.values }
  func setPredictor(_ values: [Float]) throws { try trainer.setParameters(ModelParameters(values: values)) }
  func resetMoments() throws { try trainer.resetMoments() }

  func fitFullBatch(n t: Int, epochs: Int, hyper: AdamHyper) throws {
    try trainer.fitFullBatchMSE(n: t, inputs: tx.view, targets: ty.view, epochs: epochs, optimizer: .adam(hyper))
  }

  func fitEpoch(order: [Int], batch: Int, hyper: AdamHyper) throws {
    try trainer.fitEpochMSE(n: order.count, batch: batch, order: order, inputs: tx.view, targets: ty.view,
                            optimizer: .adam(hyper))
  }

  func synchronize() throws { try device.synchronize() }
}
