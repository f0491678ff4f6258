import CFastMLP
import COpenBLAS
import Dispatch

/// RND selection on the CPU device for dense MLPs (`FastDenseMLP`) with the
/// mse, l2 or l1 distance: the same algorithm and results as `RNDSelector`
/// (up to float32 summation order), with host buffers allocated once, no
/// protocol calls in the loop, no BLAS (the CFastMLP kernels) and the pool
/// scored in blocks that workers take in turn. The picks are the same bits on
/// every x86-64 CPU, `NTKIT_ISA` and `NTKIT_THREADS` (issue 12): every block's
/// sums run in a fixed order, and the arg-max takes the lowest index on ties.
final class FastRNDSelector: StepSelector {
  enum Metric {
    case mse, l2, l1
    var code: Int32 { self == .mse ? 0 : self == .l2 ? 1 : 2 }
  }

  let request: SelectionRequest
  let net: FastDenseMLP
  let trainer: FastMLPTrainer
  let initialPredictor: [Float]
  let modelHash: UInt64
  let metric: Metric
  let n: Int, d: Int, m: Int
  let hyper: AdamHyper
  /// Rows per scoring block and the number of threads scoring blocks.
  let chunk: Int
  let workers: Int
  /// F(pool), n × M; distances, n; excluded flags, n.
  let fPool: UnsafeMutablePointer<Float>
  let distances: UnsafeMutablePointer<Float>
  let excluded: UnsafeMutablePointer<UInt8>
  /// T and F(T), size × d and size × M.
  let tx: UnsafeMutablePointer<Float>
  let ty: UnsafeMutablePointer<Float>
  var chosenCount = 0
  /// Per worker: two ping-pong activation blocks and a staging block for the pool rows.
  private let scratch: [(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>)]
  /// The pool's float32 elements when they can be read in place (`<f4` mapped or in memory).
  private let direct: UnsafePointer<Float>?
  private let keepAlive: [Float]

  /// nil when the fast path does not apply (another device, layer or distance).
  static func make(_ request: SelectionRequest, device: any ComputeDevice) throws -> FastRNDSelector? {
    guard request.useFastPath, device is CPUDevice else { return nil }
    let metric: Metric
    switch request.distance {
    case .metric(.mse): metric = .mse
    case .metric(.l2): metric = .l2
    case .metric(.l1): metric = .l1
    default: return nil
    }
    let spec = request.model ?? SelectionRequest.defaultModel(features: request.pool.rowLength)
    let network = try Network(spec: spec)
    guard network.inputSize == request.pool.rowLength, let net = FastDenseMLP(network: network) else { return nil }
    return try FastRNDSelector(request, network: network, spec: spec, net: net, metric: metric)
  }

  private init(_ request: SelectionRequest, network: Network, spec: ModelSpec, net: FastDenseMLP, metric: Metric) throws {
    self.request = request
    self.net = net
    self.metric = metric
    n = request.pool.rows
    d = request.pool.rowLength
    m = network.outputSize
    let target = try RNDSelector.weights(request.targetWeights, network: network, seed: request.seed, role: "target")
    let predictor = try RNDSelector.weights(request.predictorWeights, network: network, seed: request.seed, role: "predictor")
    initialPredictor = predictor.values
    modelHash = RNDSelector.modelHash(spec: spec, target: target, predictor: predictor)
    hyper = AdamHyper(learningRate: request.learningRate)
    trainer = FastMLPTrainer(net: net, parameters: predictor.values,
                             capacity: max(1, min(request.size, request.batchSize ?? request.size)))
    chunk = max(1, min(n, min(request.chunkRows, 2048)))
    let blocks = (n + chunk - 1) / chunk
    // Below ~4k rows a step is too short to pay for waking a second thread.
    workers = n >= 4_096 ? max(1, min(CPUThreads.count, blocks)) : 1
    fPool = .allocate(capacity: n * m)
    distances = .allocate(capacity: n)
    excluded = .allocate(capacity: n)
    excluded.initialize(repeating: 0, count: n)
    tx = .allocate(capacity: request.size * d)
    ty = .allocate(capacity: request.size * m)
    let width = net.maxWidth, c = chunk, dd = d
    scratch = (0..<workers).map { _ in
      (UnsafeMutablePointer<Float>.allocate(capacity: c * width), UnsafeMutablePointer<Float>.allocate(capacity: c * width),
       UnsafeMutablePointer<Float>.allocate(capacity: c * dd))
    }
    switch request.pool {
    case .mapped:
      // Mapped pools are copied through guarded reads (a file truncated
      // under the map is an error, not a bus error), never read in place.
      direct = nil
      keepAlive = []
    case .tensor(let t):
      keepAlive = t.data
      direct = nil
    }
    BLASThreads.useDefault()
    _ = CPUConfiguration.current  // NTKIT_ISA for the CFastMLP kernels
    // F(pool), once.
    let fp = fPool, mm = m
    try target.values.withUnsafeBufferPointer { theta in
      try forEachBlock(theta: theta.baseAddress!) { lo, b, out, _ in
        (fp + lo * mm).update(from: out, count: b * mm)
      }
    }
  }

  deinit {
    fPool.deallocate(); distances.deallocate(); excluded.deallocate(); tx.deallocate(); ty.deallocate()
    for s in scratch { s.a.deallocate(); s.b.deallocate(); s.rows.deallocate() }
  }

  /// Runs the net with `theta` over the pool in blocks (in parallel when
  /// `workers` > 1) and calls `body(lo, count, output, worker)` per block.
  private func forEachBlock(theta: UnsafePointer<Float>,
                            _ body: (Int, Int, UnsafePointer<Float>, Int) -> Void) throws {
    let blocks = (n + chunk - 1) / chunk
    // Workers take the next block from a shared counter (no static split: a
    // worker whose core is busy elsewhere simply scores fewer blocks). Each
    // block's output does not depend on the worker that scored it.
    let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    next.initialize(to: 0)
    // The read error of each worker with its block (a pool file changed under the run);
    // the one of the lowest block is thrown.
    let failures = UnsafeMutablePointer<(Int, NTKitError)?>.allocate(capacity: workers)
    failures.initialize(repeating: nil, count: workers)
    defer { failures.deinitialize(count: workers); failures.deallocate(); next.deallocate() }
    func run(_ w: Int) {
      let s = self.scratch[w]
      while true {
        let blk = workers == 1 ? next.pointee : ntk_fm_next_block(next)
        if workers == 1 { next.pointee += 1 }
        guard blk < blocks, failures[w] == nil else { return }
        let lo = blk * self.chunk
        let b = min(self.chunk, self.n - lo)
        let x: UnsafePointer<Float>
        if let direct = self.direct {
          x = direct + lo * self.d
        } else if !self.keepAlive.isEmpty {
          x = self.keepAlive.withUnsafeBufferPointer { $0.baseAddress! } + lo * self.d
        } else {
          do {
            try self.request.pool.copyRows(lo..<lo + b, into: s.rows)
          } catch {
            failures[w] = (blk, (error as? NTKitError) ?? .io(path: self.request.pool.label, reason: "\(error)"))
            return
          }
          x = UnsafePointer(s.rows)
        }
        let out = self.net.forwardPingPong(theta: theta, x: x, n: b, a: s.a, b: s.b)
        body(lo, b, UnsafePointer(out), w)
      }
    }
    if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
    if let first = (0..<workers).compactMap({ failures[$0] }).min(by: { $0.0 < $1.0 }) { throw first.1 }
  }

  /// Scores every pool point into `distances`; returns the best unchosen (ties: lowest index).
  private func score(step: Int) throws -> (index: Int, value: Float)? {
    let bests = UnsafeMutablePointer<(Int, Float)>.allocate(capacity: workers)
    defer { bests.deallocate() }
    bests.initialize(repeating: (-1, -.infinity), count: workers)
    let fp = fPool, dist = distances, ex = excluded, mm = m, metric = self.metric
    try forEachBlock(theta: trainer.theta) { lo, b, out, w in
      var best = bests[w]
      ntk_fm_distances(fp + lo * mm, out, b, mm, metric.code, dist + lo)
      for i in lo..<lo + b where ex[i] == 0 {
        let v = dist[i]
        if best.0 < 0 || v > best.1 { best = (i, v.isNaN ? -.infinity : v) }
      }
      bests[w] = best
    }
    for i in 0..<n where ex[i] == 0 && !dist[i].isFinite {
      throw SelectionNumerics.nonFinite(distance: Double(dist[i]), point: i, step: step)
    }
    var best: (Int, Float) = (-1, -.infinity)
    for w in 0..<workers {
      let c = bests[w]
      guard c.0 >= 0 else { continue }
      if best.0 < 0 || c.1 > best.1 || (c.1 == best.1 && c.0 < best.0) { best = c }
    }
    return best.0 < 0 ? nil : best
  }

  /// The best unchosen point by the stored distances (for the 2nd..kth pick of a step).
  private func rescan() -> (index: Int, value: Float)? {
    var best = -1
    var value: Float = -.infinity
    for i in 0..<n where excluded[i] == 0 {
      let v = distances[i]
      if best < 0 || v > value { best = i; value = v.isNaN ? -.infinity : v }
    }
    return best < 0 ? nil : (best, value)
  }

  private func addToTargetSet(_ i: Int) throws {
    excluded[i] = 1
    try request.pool.copyRows(i..<i + 1, into: tx + chosenCount * d)
    (ty + chosenCount * m).update(from: fPool + i * m, count: m)
    chosenCount += 1
  }

  func restore(_ picks: [Int], predictor: [Float]?) throws {
    for p in picks { try addToTargetSet(p) }
    if let predictor {
      guard predictor.count == net.parameterCount else {
        throw NTKitError.invalidArgument("checkpoint predictor has \(predictor.count) parameters, the model \(net.parameterCount)")
      }
      trainer.setParameters(predictor)
    }
  }

  private func retrain(step: Int) {
    if request.reinit { trainer.setParameters(initialPredictor) }
    trainer.resetMoments()
    let t = chosenCount
    if let b = request.batchSize, b < t {
      var rng = SeededRandom(seed: request.seed, stream: "rnd batches \(step)")
      var order = Array(0..<t)
      for _ in 0..<request.epochs {
        for i in stride(from: t - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        trainer.fitEpoch(x: tx, y: ty, order: order, batch: b, hyper: hyper)
      }
    } else {
      trainer.fitFullBatch(x: tx, y: ty, n: t, epochs: request.epochs, hyper: hyper)
    }
  }

  func step(number: Int, count: Int, retrain doRetrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    var candidate = try score(step: number)
    var indices: [Int] = [], values: [Double] = []
    var stop: String?
    for pick in 0..<count {
      if pick > 0 { candidate = rescan() }
      guard let best = candidate else { break }
      if let t = request.threshold, Double(best.value) <= t {
        stop = "largest distance \(Double(best.value)) ≤ threshold \(t)"
        break
      }
      try addToTargetSet(best.index)
      indices.append(best.index)
      values.append(Double(best.value))
    }
    let t1 = monotonicSeconds()
    if doRetrain && stop == nil && !indices.isEmpty { retrain(step: number) }
    let t2 = monotonicSeconds()
    return (indices, values, t1 - t0, t2 - t1, stop)
  }

  func predictorState() throws -> [Float]? { trainer.parameters }
}
