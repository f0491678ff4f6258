/// The collective operations a sharded selection needs (MPI in `ntk-mpi`);
/// every rank calls them in the same order.
public protocol SelectionCollectives: AnyObject {
  var rank: Int { get }
  var size: Int { get }
  /// The largest value over all ranks, ties to the lowest index (NaN as −∞);
  /// nil when no rank has a candidate.
  func argmax(value: Double, index: Int?) throws -> (index: Int, value: Double)?
  /// `values` from `root` to every rank (same count everywhere).
  func broadcast(_ values: inout [Float], root: Int) throws
  /// Runs `body` here, then agrees: a failure on any rank throws on every rank.
  func agree<T>(_ body: () throws -> T) throws -> T
  /// True on every rank when `local` is true on any rank.
  func any(_ local: Bool) throws -> Bool
}

/// Data selection with the pool sharded by rows over ranks: `ntk-mpi select`.
///
/// Rank r owns whole scoring blocks (`blockRows` rows, as `ntk select`
/// scores them) and only ever reads its own rows: it caches F(its rows),
/// scores them each step, and the winner is agreed with an arg-max allreduce
/// (ties: lowest global index). The owner broadcasts the chosen row and F of
/// it (d + M floats), and every rank retrains the predictor identically
/// (single-threaded, same data, same order), so the picks equal those of one
/// `ntk select` process for rnd, kcenter and random. The checkpoint is written
/// by rank 0 only and read by every rank on resume.
public enum ShardedSelection {
  /// Rows per scoring block: `ntk select`'s RND block size for this pool.
  public static func blockRows(rows n: Int, chunkRows: Int) -> Int { max(1, min(n, min(chunkRows, 2048))) }

  /// The rows of `rank`: an even share of the whole blocks, possibly empty.
  public static func shard(rows n: Int, chunkRows: Int, ranks: Int, rank: Int) -> Range<Int> {
    let b = blockRows(rows: n, chunkRows: chunkRows)
    let blocks = (n + b - 1) / b
    let lo = blocks * rank / ranks, hi = blocks * (rank + 1) / ranks
    return min(n, lo * b)..<min(n, hi * b)
  }

  /// Runs `request` with this rank's shard; `request.pool` is the whole pool
  /// (a mapped `.npy` is only paged in over this rank's rows, plus the 64
  /// fingerprint rows). Every rank gets the same result.
  public static func run(_ request: SelectionRequest, collectives comm: SelectionCollectives,
                         checkpointWriter isWriter: Bool,
                         progress: ((SelectionProgress) -> Void)? = nil,
                         isInterrupted: @escaping () -> Bool) throws -> SelectionResult {
    let start = monotonicSeconds()
    try comm.agree { try request.validateArguments() }
    let n = request.pool.rows
    let range = shard(rows: n, chunkRows: request.chunkRows, ranks: comm.size, rank: comm.rank)
    try comm.agree { try checkFinite(request.pool, range) }
    let selector: StepSelector = try comm.agree {
      switch request.method {
      case .rnd: return try RNDSelector(request, range: range, comm: comm)
      case .random: return RandomSelector(request)
      case .kCenter: return KCenterSelector(request, range: range, comm: comm)
      }
    }
    return try DataSelection.drive(
      selector, request: request, fingerprint: request.pool.fingerprint(), start: start,
      progress: progress, isCancelled: { (try? comm.any(isInterrupted())) ?? true },
      writeCheckpoint: { state in
        try comm.agree { if isWriter, let path = request.checkpointPath { try state.write(path) } }
      })
  }

  /// NaN/Inf in rows `range` (as float32), named by global row and column.
  static func checkFinite(_ pool: PoolSource, _ range: Range<Int>) throws {
    let w = pool.rowLength
    let block = max(1, 65_536 / max(w, 1))
    var buffer = [Float](repeating: 0, count: block * w)
    var lo = range.lowerBound
    while lo < range.upperBound {
      let b = min(block, range.upperBound - lo)
      try buffer.withUnsafeMutableBufferPointer { try pool.copyRows(lo..<lo + b, into: $0.baseAddress!) }
      if let bad = buffer[0..<(b * w)].firstIndex(where: { !$0.isFinite }) {
        let i = lo * w + bad, width = max(w, 2)
        throw NTKitError.nonFinite(path: pool.label,
                                   detail: "first at row \(i / width), column \(i % width) (0-based): \(buffer[bad])")
      }
      lo += b
    }
  }

  /// The rank whose shard holds global row `i`.
  static func owner(of i: Int, rows n: Int, chunkRows: Int, ranks: Int) -> Int {
    let b = blockRows(rows: n, chunkRows: chunkRows)
    let blocks = (n + b - 1) / b
    let block = i / b
    // shard(r) covers blocks [blocks·r/P, blocks·(r+1)/P)
    var r = min(ranks - 1, block * ranks / max(blocks, 1))
    while r > 0 && blocks * r / ranks > block { r -= 1 }
    while r < ranks - 1 && blocks * (r + 1) / ranks <= block { r += 1 }
    return r
  }

  /// Row `i` (float32) and `extra` values, from its owner to every rank.
  static func shareRow(_ i: Int, pool: PoolSource, range: Range<Int>, extra: (UnsafeMutablePointer<Float>) -> Void,
                       extraCount: Int, request: SelectionRequest, comm: SelectionCollectives) throws -> [Float] {
    let d = pool.rowLength
    var row = [Float](repeating: 0, count: d + extraCount)
    if range.contains(i) {
      try row.withUnsafeMutableBufferPointer {
        try pool.copyRows(i..<i + 1, into: $0.baseAddress!)
        extra($0.baseAddress! + d)
      }
    }
    let root = owner(of: i, rows: pool.rows, chunkRows: request.chunkRows, ranks: comm.size)
    try comm.broadcast(&row, root: root)
    return row
  }
}
