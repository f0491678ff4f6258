/// Where a selection pool lives: in memory or memory-mapped from a `.npy` file
/// (float32 or float64, read in chunks so memory stays bounded).
public enum PoolSource: Sendable {
  case tensor(Tensor)
  case mapped(MappedNPY)

  /// Number of pool points.
  public var rows: Int {
    switch self {
    case .tensor(let t): return t.shape.isEmpty ? 0 : t.rows
    case .mapped(let m): return m.rows
    }
  }

  /// Features per point.
  public var rowLength: Int {
    switch self {
    case .tensor(let t): return t.rowLength
    case .mapped(let m): return m.rowLength
    }
  }

  /// A name for error messages.
  public var label: String {
    switch self {
    case .tensor: return "pool"
    case .mapped(let m): return m.path
    }
  }

  /// Copies rows `range` as float32 into `into`; throws when a mapped file
  /// changed under the run (truncated or rewritten).
  public func copyRows(_ range: Range<Int>, into: UnsafeMutablePointer<Float>) throws {
    switch self {
    case .tensor(let t):
      let w = t.rowLength
      t.data.withUnsafeBufferPointer { into.update(from: $0.baseAddress! + range.lowerBound * w, count: range.count * w) }
    case .mapped(let m):
      try m.copyRows(range, into: into)
    }
  }

  /// Throws `.nonFinite` for the first NaN or Inf.
  public func checkFinite() throws {
    switch self {
    case .tensor(let t):
      if let bad = t.data.firstIndex(where: { !$0.isFinite }) {
        let w = max(t.rowLength, 1)
        throw NTKitError.nonFinite(path: "pool", detail: "at row \(bad / w), column \(bad % w) (\(t.data[bad]))")
      }
    case .mapped(let m):
      try m.checkFinite()
    }
  }

  /// Size plus an FNV-1a hash of up to 64 evenly spaced rows (bit patterns):
  /// what a checkpoint records to recognise its pool.
  public func fingerprint() throws -> PoolFingerprint {
    let n = rows, w = rowLength
    var hash = FNV1a()
    let samples = min(n, 64)
    var row = [Float](repeating: 0, count: max(w, 1))
    for s in 0..<samples {
      let i = samples == 1 ? 0 : s * (n - 1) / (samples - 1)
      try row.withUnsafeMutableBufferPointer { try copyRows(i..<i + 1, into: $0.baseAddress!) }
      hash.add(word: UInt64(i))
      for x in row { hash.add(word: UInt64(x.bitPattern)) }
    }
    return PoolFingerprint(rows: n, features: w, hash: hash.value)
  }
}

/// The identity of a pool as a checkpoint records it.
public struct PoolFingerprint: Sendable, Equatable {
  public var rows: Int
  public var features: Int
  public var hash: UInt64
}
