/// k-center's one pool pass per new center: lower each row's distance to the
/// chosen set (l2) with the center's row. `KCenterSelector` runs it over the
/// rows it holds (the pool, or one rank's shard).
protocol KCenterDistances: AnyObject {
  /// minDistance[k] = min(minDistance[k], l2(row rows.lowerBound + k, center)).
  func lower(_ minDistance: inout [Float], center: [Float]) throws
}

/// On a device: the rows in blocks (resident when they fit 256 MiB) against a
/// tiled copy of the center (chunk × d); the minimum stays on the host.
final class DeviceKCenterDistances: KCenterDistances {
  let device: any ComputeDevice
  let d: Int
  let streamer: PoolStreamer
  let tiled: DeviceBuffer<Float>
  let blockDistances: DeviceBuffer<Float>
  var hostBlock: [Float]

  init(_ request: SelectionRequest, device: any ComputeDevice) throws {
    self.device = device
    let n = request.pool.rows
    d = request.pool.rowLength
    let chunk = max(1, min(n, max(request.chunkRows, (256 << 20) / max(d * 4, 1))))
    let rows = try device.makeBuffer(Float.self, count: chunk * d)
    streamer = PoolStreamer(pool: request.pool, device: device, chunkRows: chunk, destination: rows.view)
    tiled = try device.makeBuffer(Float.self, count: chunk * d)
    blockDistances = try device.makeBuffer(Float.self, count: chunk)
    hostBlock = [Float](repeating: 0, count: chunk)
  }

  func lower(_ minDistance: inout [Float], center: [Float]) throws {
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
}

/// On the host, over pool rows `range` read in blocks (what one `ntk-mpi`
/// rank holds); the same `rowDistance` as the CPU device.
final class HostKCenterDistances: KCenterDistances {
  let pool: PoolSource
  let range: Range<Int>
  let d: Int
  let blockRows: Int
  var block: [Float]

  init(pool: PoolSource, range: Range<Int>) {
    self.pool = pool
    self.range = range
    d = pool.rowLength
    blockRows = max(1, min(range.count, 65_536 / max(d, 1)))
    block = [Float](repeating: 0, count: blockRows * d)
  }

  func lower(_ minDistance: inout [Float], center: [Float]) throws {
    var lo = range.lowerBound
    while lo < range.upperBound {
      let b = min(blockRows, range.upperBound - lo)
      try block.withUnsafeMutableBufferPointer { try pool.copyRows(lo..<lo + b, into: $0.baseAddress!) }
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
}
