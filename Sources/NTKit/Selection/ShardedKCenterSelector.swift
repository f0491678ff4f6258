/// Greedy k-center (as `KCenterSelector`) over one rank's shard, rows
/// `range`: the running distance to the nearest center is kept for the
/// shard's rows only; each new center's row is broadcast by its owner and
/// the farthest point is agreed over ranks (ties: lowest global index).
final class ShardedKCenterSelector: StepSelector {
  let request: SelectionRequest
  let comm: SelectionCollectives
  let range: Range<Int>
  let n: Int, d: Int
  var minDistance: [Float]
  var chosen: [Bool]
  var picks = 0
  var block: [Float]
  let blockRows: Int
  var modelHash: UInt64 { 0 }

  init(_ request: SelectionRequest, range: Range<Int>, comm: SelectionCollectives) {
    self.request = request
    self.comm = comm
    self.range = range
    n = request.pool.rows
    d = request.pool.rowLength
    minDistance = [Float](repeating: .infinity, count: range.count)
    chosen = [Bool](repeating: false, count: range.count)
    blockRows = max(1, min(range.count, 65_536 / max(d, 1)))
    block = [Float](repeating: 0, count: blockRows * d)
  }

  private func addCenter(_ c: Int) throws {
    if range.contains(c) { chosen[c - range.lowerBound] = true }
    picks += 1
    let center = try ShardedSelection.shareRow(c, pool: request.pool, range: range, extra: { _ in }, extraCount: 0,
                                               request: request, comm: comm)
    var lo = range.lowerBound
    while lo < range.upperBound {
      let b = min(blockRows, range.upperBound - lo)
      try block.withUnsafeMutableBufferPointer { try request.pool.copyRows(lo..<lo + b, into: $0.baseAddress!) }
      block.withUnsafeBufferPointer { rows in
        center.withUnsafeBufferPointer { c in
          for i in 0..<b {
            let v = Float(rowDistance(.l2, rows.baseAddress! + i * d, c.baseAddress!, d))
            let k = lo - range.lowerBound + i
            if v < minDistance[k] { minDistance[k] = v }
          }
        }
      }
      lo += b
    }
  }

  private func farthest() throws -> (Int, Double)? {
    var best = -1
    var value: Float = -.infinity
    for i in 0..<range.count where !chosen[i] && (best < 0 || minDistance[i] > value) {
      best = i
      value = minDistance[i]
    }
    let r = try comm.argmax(value: Double(value), index: best < 0 ? nil : range.lowerBound + best)
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
      if retrain || j < count - 1 {
        try addCenter(pick)
      } else {
        if range.contains(pick) { chosen[pick - range.lowerBound] = true }
        picks += 1
      }
    }
    return (indices, distances, monotonicSeconds() - t0, 0, stop)
  }

  func predictorState() throws -> [Float]? { nil }
}
