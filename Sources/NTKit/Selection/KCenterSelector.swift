/// Greedy k-center on the raw features: the first point is drawn from the
/// seed (stream "kcenter"), then each pick is the unchosen point whose l2
/// distance to the nearest chosen point is largest (ties: lowest index).
///
/// The running minimum per point stays on the host for the rows this
/// selector holds: the whole pool (distances on the device,
/// `DeviceKCenterDistances`), or one rank's shard in `ntk-mpi` (on the host,
/// `HostKCenterDistances`; each new center's row is broadcast by its owner
/// and the farthest point is agreed over ranks, ties to the lowest global index).
final class KCenterSelector: StepSelector {
  let request: SelectionRequest
  let rows: Range<Int>
  /// Set when the pool is sharded over ranks.
  let comm: SelectionCollectives?
  let distances: KCenterDistances
  let n: Int
  var minDistance: [Float]
  var chosen: [Bool]
  var picks = 0
  var modelHash: UInt64 { 0 }

  /// One process on `device`.
  convenience init(_ request: SelectionRequest, device: any ComputeDevice) throws {
    self.init(request, rows: 0..<request.pool.rows, comm: nil, distances: try DeviceKCenterDistances(request, device: device))
  }

  /// One rank's shard `range` of the pool (`ntk-mpi select`).
  convenience init(_ request: SelectionRequest, range: Range<Int>, comm: SelectionCollectives) {
    self.init(request, rows: range, comm: comm, distances: HostKCenterDistances(pool: request.pool, range: range))
  }

  init(_ request: SelectionRequest, rows: Range<Int>, comm: SelectionCollectives?, distances: KCenterDistances) {
    self.request = request
    self.rows = rows
    self.comm = comm
    self.distances = distances
    n = request.pool.rows
    minDistance = [Float](repeating: .infinity, count: rows.count)
    chosen = [Bool](repeating: false, count: rows.count)
  }

  private func markChosen(_ c: Int) {
    if rows.contains(c) { chosen[c - rows.lowerBound] = true }
    picks += 1
  }

  /// Lowers every held point's distance to the chosen set with center `c`.
  private func addCenter(_ c: Int) throws {
    markChosen(c)
    let center: [Float]
    if let comm {
      center = try ShardedSelection.shareRow(c, pool: request.pool, range: rows, extra: { _ in }, extraCount: 0,
                                             request: request, comm: comm)
    } else {
      var row = [Float](repeating: 0, count: request.pool.rowLength)
      try row.withUnsafeMutableBufferPointer { try request.pool.copyRows(c..<c + 1, into: $0.baseAddress!) }
      center = row
    }
    try distances.lower(&minDistance, center: center)
  }

  /// The farthest unchosen point (an allreduce when sharded).
  private func farthest() throws -> (Int, Double)? {
    var best = -1
    var value: Float = -.infinity
    for i in 0..<rows.count where !chosen[i] && (best < 0 || minDistance[i] > value) {
      best = i
      value = minDistance[i]
    }
    guard let comm else { return best < 0 ? nil : (best, Double(value)) }
    let r = try comm.argmax(value: Double(value), index: best < 0 ? nil : rows.lowerBound + best)
    return r.map { ($0.index, $0.value) }
  }

  func restore(_ picks: [Int], predictor: [Float]?) throws {
    for p in picks { try addCenter(p) }
  }

  func step(number: Int, count: Int, retrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    var indices: [Int] = [], distances: [Double] = []
    var stop: String?
    for j in 0..<count {
      let pick: Int, distance: Double
      if picks == 0 {
        var rng = SeededRandom(seed: request.seed, stream: "kcenter")
        pick = Int(rng.next() % UInt64(n))
        distance = 0
      } else {
        guard let (i, v) = try farthest() else { break }
        if let t = request.threshold, v <= t {
          stop = "largest distance \(v) ≤ threshold \(t)"
          break
        }
        pick = i
        distance = v
      }
      indices.append(pick)
      distances.append(distance)
      if retrain || j < count - 1 { try addCenter(pick) } else { markChosen(pick) }
    }
    return (indices, distances, monotonicSeconds() - t0, 0, stop)
  }

  func predictorState() throws -> [Float]? { nil }
}
