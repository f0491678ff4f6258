/// RND selection, Algorithm 1 of the paper, written once over an `RNDBackend`.
///
/// Target F and predictor G share one architecture. F is never trained: the
/// backend computes F(pool) once and keeps it. Each step scores every pool
/// point by D(F(p), G(p)), takes the largest among the unchosen (ties: lowest
/// index; k per step), adds it to T and retrains G on ⟨T, F(T)⟩: Adam with
/// moments reset, `epochs` full-batch (or seeded mini-batch) steps, weights
/// warm-started (or restarted with reinit).
///
/// One process: the backend holds the whole pool. `ntk-mpi`: each rank's
/// backend holds its shard, the arg-max is an allreduce (`SelectionCollectives`)
/// and the owner of the winner broadcasts its row and F of it, so every rank
/// retrains the same predictor on the same data.
final class RNDSelector: StepSelector {
  let request: SelectionRequest
  let backend: RNDBackend
  /// Set when the pool is sharded over ranks.
  let comm: SelectionCollectives?
  /// The initial networks, for `modelHash` (computed only for a checkpoint).
  private let model: RNDModel
  var modelHash: UInt64 { model.hash }
  let initialPredictor: [Float]
  let parameterCount: Int
  let hyper: AdamHyper
  private(set) var chosenCount = 0

  /// One process on `device`: the fused CPU backend where it applies (and
  /// `request.useFastPath`), else the device backend.
  convenience init(_ request: SelectionRequest, device: any ComputeDevice) throws {
    let model = try RNDModel(request)
    let n = request.pool.rows
    let backend: RNDBackend = try FusedRNDBackend.make(request, model: model, device: device, rows: 0..<n, workers: nil)
      ?? DeviceRNDBackend(request, model: model, device: device)
    self.init(request, model: model, backend: backend, comm: nil)
  }

  /// One rank's shard `range` of the pool (`ntk-mpi select`): the fused CPU
  /// backend, single-threaded (the ranks are the parallelism).
  convenience init(_ request: SelectionRequest, range: Range<Int>, comm: SelectionCollectives) throws {
    let unsupported = "ntk-mpi select --method rnd runs the CPU fast path only (a dense relu/identity MLP, distance mse, l2 or l1)"
    guard request.useFastPath else { throw NTKitError.invalidArgument("\(unsupported); --generic is not available") }
    guard FusedRNDBackend.metricCode(request.distance) != nil else {
      throw NTKitError.invalidArgument("\(unsupported); found distance \(request.distance.name)")
    }
    let model = try RNDModel(request)
    guard let backend = try FusedRNDBackend.make(request, model: model, device: CPUDevice.shared, rows: range, workers: 1) else {
      throw NTKitError.invalidArgument("\(unsupported); this model has other layers")
    }
    self.init(request, model: model, backend: backend, comm: comm)
  }

  init(_ request: SelectionRequest, model: RNDModel, backend: RNDBackend, comm: SelectionCollectives?) {
    self.request = request
    self.backend = backend
    self.comm = comm
    self.model = model
    initialPredictor = model.predictor.values
    parameterCount = model.network.parameterCount
    hyper = AdamHyper(learningRate: request.learningRate)
  }

  /// Whether the fused CPU backend runs (for benchmarks and tests).
  var isFused: Bool { backend is FusedRNDBackend }

  func restore(_ picks: [Int], predictor: [Float]?) throws {
    for p in picks { try addToTrainingSet(p) }
    if let predictor {
      guard predictor.count == parameterCount else {
        throw NTKitError.invalidArgument("checkpoint predictor has \(predictor.count) parameters, the model \(parameterCount)")
      }
      try backend.setPredictor(predictor)
    }
  }

  /// Pool row i and F(row i) into T (from the rank that holds it when sharded).
  private func addToTrainingSet(_ i: Int) throws {
    let pair: [Float]
    if let comm {
      let rows = backend.rows, d = backend.d, m = backend.m
      let local = rows.contains(i) ? try backend.trainingPair(i) : nil
      // shareRow reads the row itself; F(row) follows it.
      pair = try ShardedSelection.shareRow(i, pool: request.pool, range: rows, extra: { dst in
        local?.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + d, count: m) }
      }, extraCount: m, request: request, comm: comm)
    } else {
      pair = try backend.trainingPair(i)
    }
    try backend.append(i, pair: pair)
    chosenCount += 1
  }

  /// The best unchosen point over the whole pool (an allreduce when sharded).
  private func best() throws -> (index: Int, value: Double)? {
    let local = try backend.best()
    guard let comm else { return local }
    return try comm.argmax(value: local?.value ?? -.infinity, index: local?.index)
  }

  private func retrain(step: Int) throws {
    if request.reinit { try backend.setPredictor(initialPredictor) }
    try backend.resetMoments()
    let t = chosenCount
    if let b = request.batchSize, b < t {
      var rng = SeededRandom(seed: request.seed, stream: "rnd batches \(step)")
      var order = Array(0..<t)
      for _ in 0..<request.epochs {
        for i in stride(from: t - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        try backend.fitEpoch(order: order, batch: b, hyper: hyper)
      }
    } else {
      try backend.fitFullBatch(n: t, epochs: request.epochs, hyper: hyper)
    }
  }

  func step(number: Int, count: Int, retrain doRetrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    // A failure on one rank (a bad distance, a pool read) ends every rank.
    if let comm { try comm.agree { try backend.score(step: number) } } else { try backend.score(step: number) }
    var indices: [Int] = [], values: [Double] = []
    var stop: String?
    for _ in 0..<count {
      guard let best = try best() else { break }
      guard best.value.isFinite else { throw SelectionNumerics.nonFinite(distance: best.value, point: best.index, step: number) }
      if let t = request.threshold, best.value <= t {
        stop = "largest distance \(best.value) ≤ threshold \(t)"
        break
      }
      try addToTrainingSet(best.index)
      indices.append(best.index)
      values.append(best.value)
    }
    let t1 = monotonicSeconds()
    if doRetrain && stop == nil && !indices.isEmpty { try retrain(step: number) }
    try backend.synchronize()
    let t2 = monotonicSeconds()
    return (indices, values, t1 - t0, t2 - t1, stop)
  }

  func predictorState() throws -> [Float]? { try backend.predictor() }
}
