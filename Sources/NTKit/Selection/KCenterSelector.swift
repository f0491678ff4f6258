/// Greedy k-center on the raw features: the first point is drawn from the
/// seed (stream "kcenter"), then each pick is the unchosen point whose l2
/// distance to the nearest chosen point is largest (ties: lowest index).
/// Distances run on the device against a tiled copy of the new center; the
/// running minimum per point stays on the host (pool floats).
final class KCenterSelector: StepSelector {
  let request: SelectionRequest
  let device: any ComputeDevice
  let n: Int, d: Int
  let streamer: PoolStreamer
  let tiled: DeviceBuffer<Float>
  let blockDistances: DeviceBuffer<Float>
  var minDistance: [Float]
  var chosen: [Bool]
  var picks = 0
  var hostBlock: [Float]
  var modelHash: UInt64 { 0 }

  init(_ request: SelectionRequest, device: any ComputeDevice) throws {
    self.request = request
    self.device = device
    n = request.pool.rows
    d = request.pool.rowLength
    // Keep the pool resident when it fits 256 MiB, else stream it in blocks.
    let chunk = max(1, min(n, max(request.chunkRows, (256 << 20) / max(d * 4, 1))))
    let rows = try device.makeBuffer(Float.self, count: chunk * d)
    streamer = PoolStreamer(pool: request.pool, device: device, chunkRows: chunk, destination: rows.view)
    tiled = try device.makeBuffer(Float.self, count: chunk * d)
    blockDistances = try device.makeBuffer(Float.self, count: chunk)
    minDistance = [Float](repeating: .infinity, count: n)
    chosen = [Bool](repeating: false, count: n)
    hostBlock = [Float](repeating: 0, count: chunk)
    _ = rows
  }

  /// Lowers every point's distance to the chosen set with center `c`.
  private func addCenter(_ c: Int) throws {
    chosen[c] = true
    picks += 1
    let center = try streamer.row(c)
    let chunk = streamer.chunkRows
    try center.withUnsafeBufferPointer { try device.write($0, to: tiled.view) }
    var copied = 1
    while copied < chunk {
      let m = min(copied, chunk - copied)
      try device.copy(tiled.view, to: tiled.view(at: copied * d), count: m * d)
      copied += m
    }
    try streamer.forEachBlock { lo, b in
      try device.rowDistances(.l2, a: streamer.destination, b: tiled.view, out: blockDistances.view, n: b, d: d)
      try hostBlock.withUnsafeMutableBufferPointer {
        try device.read(blockDistances.view, into: UnsafeMutableBufferPointer(rebasing: $0[0..<b]))
      }
      for i in 0..<b where hostBlock[i] < minDistance[lo + i] { minDistance[lo + i] = hostBlock[i] }
    }
  }

  private func farthest() -> (Int, Double)? {
    var best = -1
    var value: Float = -.infinity
    for i in 0..<n where !chosen[i] && (best < 0 || minDistance[i] > value) {
      best = i
      value = minDistance[i]
    }
    return best < 0 ? nil : (best, Double(value))
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
        guard let (i, v) = farthest() else { break }
        if let t = request.threshold, v <= t {
          stop = "largest distance \(v) ≤ threshold \(t)"
          break
        }
        pick = i
        distance = v
      }
      indices.append(pick)
      distances.append(distance)
      if retrain || j < count - 1 { try addCenter(pick) } else { chosen[pick] = true; picks += 1 }
    }
    return (indices, distances, monotonicSeconds() - t0, 0, stop)
  }

  func predictorState() throws -> [Float]? { nil }
}
