import CFastMLP
import COpenBLAS

/// RND (the CPU fast path of `FastRNDSelector`: dense relu/identity MLP, mse,
/// l2 or l1 distance) over one rank's shard of the pool, rows `range`.
///
/// Holds F(shard) (|shard| × M), the shard's distances and chosen flags, and
/// the replicated training set T, F(T) (size × d and size × M). Scoring runs
/// over the shard's blocks exactly as one process scores those blocks; the
/// arg-max is agreed over ranks; retraining is replicated.
final class ShardedRNDSelector: StepSelector {
  let request: SelectionRequest
  let comm: SelectionCollectives
  let range: Range<Int>
  let net: FastDenseMLP
  let trainer: FastMLPTrainer
  let initialPredictor: [Float]
  let modelHash: UInt64
  let metric: FastRNDSelector.Metric
  let d: Int, m: Int
  let hyper: AdamHyper
  let chunk: Int
  var fShard: [Float]
  var distances: [Float]
  var excluded: [Bool]
  var tx: [Float] = []
  var ty: [Float] = []
  var chosenCount = 0
  private var a: [Float], b: [Float], rows: [Float]

  init(_ request: SelectionRequest, range: Range<Int>, comm: SelectionCollectives) throws {
    self.request = request
    self.comm = comm
    self.range = range
    let unsupported = "ntk-mpi select --method rnd runs the CPU fast path only (a dense relu/identity MLP, distance mse, l2 or l1)"
    guard request.useFastPath else { throw NTKitError.invalidArgument("\(unsupported); --generic is not available") }
    switch request.distance {
    case .metric(.mse): metric = .mse
    case .metric(.l2): metric = .l2
    case .metric(.l1): metric = .l1
    default: throw NTKitError.invalidArgument("\(unsupported); found distance \(request.distance.name)")
    }
    let spec = request.model ?? SelectionRequest.defaultModel(features: request.pool.rowLength)
    let network = try Network(spec: spec)
    guard network.inputSize == request.pool.rowLength else {
      throw NTKitError.shapeMismatch(context: "RND model input", expected: "\(request.pool.rowLength) features (the pool's)",
                                     found: "input shape \(spec.inputShape) (\(network.inputSize) values)")
    }
    guard let net = FastDenseMLP(network: network) else { throw NTKitError.invalidArgument("\(unsupported); this model has other layers") }
    self.net = net
    d = request.pool.rowLength
    m = network.outputSize
    let target = try RNDSelector.weights(request.targetWeights, network: network, seed: request.seed, role: "target")
    let predictor = try RNDSelector.weights(request.predictorWeights, network: network, seed: request.seed, role: "predictor")
    initialPredictor = predictor.values
    modelHash = RNDSelector.modelHash(spec: spec, target: target, predictor: predictor)
    hyper = AdamHyper(learningRate: request.learningRate)
    trainer = FastMLPTrainer(net: net, parameters: predictor.values,
                             capacity: max(1, min(request.size, request.batchSize ?? request.size)))
    chunk = ShardedSelection.blockRows(rows: request.pool.rows, chunkRows: request.chunkRows)
    fShard = [Float](repeating: 0, count: max(range.count * m, 1))
    distances = [Float](repeating: 0, count: max(range.count, 1))
    excluded = [Bool](repeating: false, count: range.count)
    tx.reserveCapacity(request.size * d)
    ty.reserveCapacity(request.size * m)
    a = [Float](repeating: 0, count: chunk * net.maxWidth)
    b = [Float](repeating: 0, count: chunk * net.maxWidth)
    rows = [Float](repeating: 0, count: chunk * d)
    BLASThreads.useDefault()
    _ = CPUConfiguration.current  // NTKIT_ISA for the CFastMLP kernels
    let mm = m
    try target.values.withUnsafeBufferPointer { theta in
      try forEachBlock(theta: theta.baseAddress!) { lo, count, out in
        fShard.withUnsafeMutableBufferPointer { ($0.baseAddress! + (lo - range.lowerBound) * mm).update(from: out, count: count * mm) }
      }
    }
  }

  /// The net over the shard in global blocks of `chunk` rows: body(global lo, count, output).
  private func forEachBlock(theta: UnsafePointer<Float>, _ body: (Int, Int, UnsafePointer<Float>) -> Void) throws {
    var lo = range.lowerBound
    while lo < range.upperBound {
      let count = min(chunk, range.upperBound - lo)
      try rows.withUnsafeMutableBufferPointer { try request.pool.copyRows(lo..<lo + count, into: $0.baseAddress!) }
      let out = rows.withUnsafeBufferPointer { x in
        a.withUnsafeMutableBufferPointer { pa in
          b.withUnsafeMutableBufferPointer { pb in
            net.forwardPingPong(theta: theta, x: x.baseAddress!, n: count, a: pa.baseAddress!, b: pb.baseAddress!)
          }
        }
      }
      body(lo, count, UnsafePointer(out))
      lo += count
    }
  }

  /// This shard's best unchosen point by the stored distances (global index).
  private func localBest() -> (Int, Double)? {
    var best = -1
    var value: Float = -.infinity
    for i in 0..<range.count where !excluded[i] {
      let v = distances[i]
      if best < 0 || v > value { best = i; value = v.isNaN ? -.infinity : v }
    }
    return best < 0 ? nil : (range.lowerBound + best, Double(value))
  }

  private func score() throws {
    let mm = m, code = metric.code, base = range.lowerBound
    try forEachBlock(theta: trainer.theta) { lo, count, out in
      fShard.withUnsafeBufferPointer { f in
        distances.withUnsafeMutableBufferPointer { dist in
          ntk_fm_distances(f.baseAddress! + (lo - base) * mm, out, count, mm, code, dist.baseAddress! + (lo - base))
        }
      }
    }
  }

  private func globalBest() throws -> (index: Int, value: Double)? {
    let local = localBest()
    return try comm.argmax(value: local?.1 ?? -.infinity, index: local?.0)
  }

  private func addToTargetSet(_ i: Int) throws {
    let local = i - range.lowerBound
    let mm = m
    let row = try ShardedSelection.shareRow(i, pool: request.pool, range: range, extra: { dst in
      fShard.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + local * mm, count: mm) }
    }, extraCount: m, request: request, comm: comm)
    if range.contains(i) { excluded[local] = true }
    tx.append(contentsOf: row[0..<d])
    ty.append(contentsOf: row[d...])
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

  /// As `FastRNDSelector.retrain`: warm (or reinit) start, fresh moments,
  /// full batch or seeded mini-batches; identical on every rank.
  private func retrain(step: Int) {
    if request.reinit { trainer.setParameters(initialPredictor) }
    trainer.resetMoments()
    let t = chosenCount
    tx.withUnsafeBufferPointer { x in
      ty.withUnsafeBufferPointer { y in
        if let bs = request.batchSize, bs < t {
          var rng = SeededRandom(seed: request.seed, stream: "rnd batches \(step)")
          var order = Array(0..<t)
          for _ in 0..<request.epochs {
            for i in stride(from: t - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            trainer.fitEpoch(x: x.baseAddress!, y: y.baseAddress!, order: order, batch: bs, hyper: hyper)
          }
        } else {
          trainer.fitFullBatch(x: x.baseAddress!, y: y.baseAddress!, n: t, epochs: request.epochs, hyper: hyper)
        }
      }
    }
  }

  func step(number: Int, count: Int, retrain doRetrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    try score()
    var indices: [Int] = [], values: [Double] = []
    var stop: String?
    for _ in 0..<count {
      guard let best = try globalBest() else { break }
      if let t = request.threshold, best.value <= t {
        stop = "largest distance \(best.value) ≤ threshold \(t)"
        break
      }
      try addToTargetSet(best.index)
      indices.append(best.index)
      values.append(best.value)
    }
    let t1 = monotonicSeconds()
    if doRetrain && stop == nil && !indices.isEmpty { retrain(step: number) }
    return (indices, values, t1 - t0, monotonicSeconds() - t1, stop)
  }

  func predictorState() throws -> [Float]? { trainer.parameters }
}
