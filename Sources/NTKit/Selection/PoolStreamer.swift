/// Moves pool rows onto the device in blocks of at most `chunkRows`: once,
/// when the whole pool fits one block, else block by block on every pass.
final class PoolStreamer {
  let pool: PoolSource
  let device: any ComputeDevice
  let chunkRows: Int
  /// Device rows (chunkRows × d) the blocks land in.
  let destination: BufferView<Float>
  private var staging: [Float]
  private var loaded = false

  init(pool: PoolSource, device: any ComputeDevice, chunkRows: Int, destination: BufferView<Float>) {
    self.pool = pool
    self.device = device
    self.chunkRows = max(1, min(chunkRows, pool.rows))
    self.destination = destination
    staging = [Float](repeating: 0, count: self.chunkRows * pool.rowLength)
  }

  /// True when one block holds the whole pool (loaded once, kept).
  var isResident: Bool { chunkRows >= pool.rows }

  /// Calls `body(lo, count)` for each block after its rows are in `destination`.
  func forEachBlock(_ body: (Int, Int) throws -> Void) throws {
    let n = pool.rows, d = pool.rowLength
    var lo = 0
    while lo < n {
      let b = min(chunkRows, n - lo)
      if !(isResident && loaded) {
        try staging.withUnsafeMutableBufferPointer { buffer in
          try pool.copyRows(lo..<lo + b, into: buffer.baseAddress!)
          try device.write(UnsafeBufferPointer(rebasing: buffer[0..<b * d]), to: destination)
        }
        loaded = true
      }
      try body(lo, b)
      lo += b
    }
  }

  /// One pool row, on the host.
  func row(_ i: Int) throws -> [Float] {
    var out = [Float](repeating: 0, count: pool.rowLength)
    try out.withUnsafeMutableBufferPointer { try pool.copyRows(i..<i + 1, into: $0.baseAddress!) }
    return out
  }
}
