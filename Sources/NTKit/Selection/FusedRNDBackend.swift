import CFastMLP
import Dispatch

/// RND's backend on the CPU for dense MLPs (`FastDenseMLP`: relu,
/// leaky-relu or identity) with the mse, l1 or l2 distance: host buffers
/// allocated once, no protocol calls in the loop, no BLAS (the CFastMLP
/// kernels), and the rows scored in blocks that workers take in turn. The
/// picks are the same bits on every x86-64 CPU, `NTKIT_ISA` and
/// `NTKIT_THREADS` (issue 12): every block's sums run in a fixed order, and
/// the arg-max takes the lowest index on ties.
///
/// Holds, for its rows (the pool or one rank's shard, starting on a block
/// boundary): F(rows) (|rows| × M), distances (|rows|) and chosen flags
/// (|rows|); and T, F(T) (size × d and size × M).
final class FusedRNDBackend: RNDBackend {
  let request: SelectionRequest
  let rows: Range<Int>
  let net: FastDenseMLP
  let trainer: FastMLPTrainer
  let metric: Int32
  let d: Int, m: Int
  /// Rows per scoring block (`ShardedSelection.blockRows`) and the threads scoring blocks.
  let chunk: Int
  let workers: Int
  private let fRows: UnsafeMutablePointer<Float>
  private let distances: UnsafeMutablePointer<Float>
  private let excluded: UnsafeMutablePointer<UInt8>
  private let tx: UnsafeMutablePointer<Float>
  private let ty: UnsafeMutablePointer<Float>
  private var count = 0
  /// The best unchosen row found while scoring (local index), valid until a row of `rows` is chosen.
  private var scoredBest: (index: Int, value: Float)??
  /// Per worker: two ping-pong activation blocks and a staging block for the pool rows.
  private let scratch: [(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>)]
  /// An in-memory pool's elements (read in place); a mapped pool is copied through guarded reads
  /// (a file truncated under the map is an error, not a bus error).
  private let inMemory: [Float]

  /// The kernels' code for `distance` (`NTK_METRIC_*`), nil when this backend does not compute it.
  static func metricCode(_ distance: SelectionDistance) -> Int32? {
    switch distance {
    case .metric(let metric) where metric == .mse || metric == .l1 || metric == .l2: return metric.code
    default: return nil
    }
  }

  /// nil when this backend does not apply (another device, layer or distance,
  /// or `request.useFastPath` off). `workers` nil: as many as help.
  static func make(_ request: SelectionRequest, model: RNDModel, device: any ComputeDevice, rows: Range<Int>,
                   workers: Int?) throws -> FusedRNDBackend? {
    guard request.useFastPath, device.capabilities.fusedHostKernels, let metric = metricCode(request.distance),
          let net = FastDenseMLP(network: model.network) else { return nil }
    return try FusedRNDBackend(request, model: model, net: net, metric: metric, rows: rows, workers: workers)
  }

  private init(_ request: SelectionRequest, model: RNDModel, net: FastDenseMLP, metric: Int32, rows: Range<Int>,
               workers: Int?) throws {
    self.request = request
    self.rows = rows
    self.net = net
    self.metric = metric
    d = request.pool.rowLength
    m = model.network.outputSize
    let size = request.size
    trainer = FastMLPTrainer(net: net, parameters: model.predictor.values,
                             capacity: max(1, min(size, request.batchSize ?? size)))
    chunk = ShardedSelection.blockRows(rows: request.pool.rows, chunkRows: request.chunkRows)
    let blocks = (rows.count + chunk - 1) / chunk
    // Below ~4k rows a step is too short to pay for waking a second thread.
    self.workers = workers ?? (rows.count >= 4_096 ? max(1, min(CPUThreads.count, blocks)) : 1)
    let k = rows.count
    fRows = .allocate(capacity: max(k * m, 1))
    distances = .allocate(capacity: max(k, 1))
    excluded = .allocate(capacity: max(k, 1))
    excluded.initialize(repeating: 0, count: max(k, 1))
    tx = .allocate(capacity: size * d)
    ty = .allocate(capacity: size * m)
    let width = net.maxWidth, c = chunk, dd = d
    scratch = (0..<self.workers).map { _ in
      (UnsafeMutablePointer<Float>.allocate(capacity: c * width), UnsafeMutablePointer<Float>.allocate(capacity: c * width),
       UnsafeMutablePointer<Float>.allocate(capacity: c * dd))
    }
    if case .tensor(let t) = request.pool { inMemory = t.data } else { inMemory = [] }
    _ = CPUConfiguration.current  // NTKIT_ISA for the CFastMLP kernels
    // F(rows), once.
    let f = fRows, mm = m, base = rows.lowerBound
    try model.target.values.withUnsafeBufferPointer { theta in
      try forEachBlock(theta: theta.baseAddress!) { lo, b, out, _ in
        (f + (lo - base) * mm).update(from: out, count: b * mm)
      }
    }
  }

  deinit {
    fRows.deallocate(); distances.deallocate(); excluded.deallocate(); tx.deallocate(); ty.deallocate()
    for s in scratch { s.a.deallocate(); s.b.deallocate(); s.rows.deallocate() }
  }

  /// Runs the net with `theta` over `rows` in blocks of `chunk` (in parallel
  /// when `workers` > 1) and calls `body(global lo, count, output, worker)` per block.
  private func forEachBlock(theta: UnsafePointer<Float>,
                            _ body: (Int, Int, UnsafePointer<Float>, Int) -> Void) throws {
    let blocks = (rows.count + chunk - 1) / chunk
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
        let lo = rows.lowerBound + blk * self.chunk
        let b = min(self.chunk, rows.upperBound - lo)
        let x: UnsafePointer<Float>
        if !self.inMemory.isEmpty {
          x = self.inMemory.withUnsafeBufferPointer { $0.baseAddress! } + lo * self.d
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

  /// Scores every row into `distances` and keeps the best unchosen (ties: lowest index).
  func score(step: Int) throws {
    let bests = UnsafeMutablePointer<(Int, Float)>.allocate(capacity: workers)
    defer { bests.deallocate() }
    bests.initialize(repeating: (-1, -.infinity), count: workers)
    let f = fRows, dist = distances, ex = excluded, mm = m, code = metric, base = rows.lowerBound
    try forEachBlock(theta: trainer.theta) { lo, b, out, w in
      var best = bests[w]
      let l = lo - base
      ntk_fm_distances(f + l * mm, out, b, mm, code, dist + l)
      for i in l..<l + b where ex[i] == 0 {
        let v = dist[i]
        if best.0 < 0 || v > best.1 { best = (i, v.isNaN ? -.infinity : v) }
      }
      bests[w] = best
    }
    for i in 0..<rows.count where ex[i] == 0 && !dist[i].isFinite {
      throw SelectionNumerics.nonFinite(distance: Double(dist[i]), point: base + i, step: step)
    }
    var best: (Int, Float) = (-1, -.infinity)
    for w in 0..<workers {
      let c = bests[w]
      guard c.0 >= 0 else { continue }
      if best.0 < 0 || c.1 > best.1 || (c.1 == best.1 && c.0 < best.0) { best = c }
    }
    scoredBest = .some(best.0 < 0 ? nil : (best.0, best.1))
  }

  func best() throws -> (index: Int, value: Double)? {
    if let cached = scoredBest {
      return cached.map { (rows.lowerBound + $0.index, Double($0.value)) }
    }
    // The best unchosen row by the stored distances (the 2nd..kth pick of a step).
    var best = -1
    var value: Float = -.infinity
    for i in 0..<rows.count where excluded[i] == 0 {
      let v = distances[i]
      if best < 0 || v > value { best = i; value = v.isNaN ? -.infinity : v }
    }
    return best < 0 ? nil : (rows.lowerBound + best, Double(value))
  }

  func trainingPair(_ i: Int) throws -> [Float] {
    var pair = [Float](repeating: 0, count: d + m)
    try pair.withUnsafeMutableBufferPointer { p in
      try request.pool.copyRows(i..<i + 1, into: p.baseAddress!)
      (p.baseAddress! + d).update(from: fRows + (i - rows.lowerBound) * m, count: m)
    }
    return pair
  }

  func append(_ i: Int, pair: [Float]) throws {
    if rows.contains(i) {
      excluded[i - rows.lowerBound] = 1
      scoredBest = nil
    }
    pair.withUnsafeBufferPointer { p in
      (tx + count * d).update(from: p.baseAddress!, count: d)
      (ty + count * m).update(from: p.baseAddress! + d, count: m)
    }
    count += 1
  }

  func predictor() throws -> [Float] { trainer.parameters }

  func setPredictor(_ values: [Float]) throws { trainer.setParameters(values) }

  func resetMoments() throws { trainer.resetMoments() }

  func fitFullBatch(n: Int, epochs: Int, hyper: AdamHyper) throws {
    trainer.fitFullBatch(x: tx, y: ty, n: n, epochs: epochs, hyper: hyper)
  }

  func fitEpoch(order: [Int], batch: Int, hyper: AdamHyper) throws {
    trainer.fitEpoch(x: tx, y: ty, order: order, batch: batch, hyper: hyper)
  }

  func synchronize() throws {}
}
