/// Which output tiles of an NTK Gram matrix are computed, in which order,
/// and how they are spread over `ranks` workers (MPI ranks of `ntk-mpi
/// gram`), balanced by cost. `NTKGram` walks the tiles of one worker in
/// tile order (row-major); `DistributedGram` gives each rank its own.
///
/// The N₁ × N₂ sample grid is cut into square tiles of `tileSize` samples
/// (the last row/column of tiles is smaller). For a symmetric Gram
/// (X₂ = X₁) only tiles on or above the diagonal are listed; the owner of an
/// off-diagonal tile also writes its mirror. A tile's cost is its pairs
/// (half, plus the diagonal, for a diagonal tile) times the FLOPs per pair,
/// plus the feature work of its samples; tiles go greedily, largest first, to
/// the least loaded rank (ties: lowest rank, then lowest tile index), so every
/// rank computes the same schedule without talking to the others.
public struct GramTileSchedule: Sendable, Equatable {
  public struct Tile: Sendable, Equatable {
    /// Sample rows (of X₁) and columns (of X₂) of the tile.
    public var rows: Range<Int>
    public var columns: Range<Int>
    /// Position in the tile grid: row and column block indices.
    public var row: Int
    public var column: Int
    /// On the diagonal of a symmetric Gram: computed whole, not mirrored.
    public var isDiagonal: Bool
    /// Above the diagonal of a symmetric Gram: its transpose is written too.
    public var isMirrored: Bool
    /// Estimated FLOPs.
    public var cost: Double
  }

  public let tileSize: Int
  public let ranks: Int
  /// Every tile, row-major over the tile grid.
  public let tiles: [Tile]
  /// `owner[t]` is the rank that computes `tiles[t]`.
  public let owner: [Int]

  public init(n1: Int, n2: Int, symmetric: Bool, tileSize: Int, ranks: Int,
              flopsPerPair: Double, flopsPerSample: Double) {
    precondition(n1 > 0 && n2 > 0 && tileSize > 0 && ranks > 0, "GramTileSchedule: sizes must be positive")
    precondition(!symmetric || n1 == n2, "GramTileSchedule: a symmetric Gram is square")
    self.tileSize = tileSize
    self.ranks = ranks
    var tiles: [Tile] = []
    for i0 in stride(from: 0, to: n1, by: tileSize) {
      for j0 in stride(from: symmetric ? i0 : 0, to: n2, by: tileSize) {
        let r = i0..<min(n1, i0 + tileSize), c = j0..<min(n2, j0 + tileSize)
        let diagonal = symmetric && i0 == j0
        let pairs = diagonal ? Double(r.count) * Double(r.count + 1) / 2 : Double(r.count) * Double(c.count)
        let samples = diagonal ? Double(r.count) : Double(r.count + c.count)
        tiles.append(Tile(rows: r, columns: c, row: i0 / tileSize, column: j0 / tileSize, isDiagonal: diagonal, isMirrored: symmetric && !diagonal,
                          cost: pairs * flopsPerPair + samples * flopsPerSample))
      }
    }
    self.tiles = tiles
    let order = tiles.indices.sorted { a, b in
      tiles[a].cost != tiles[b].cost ? tiles[a].cost > tiles[b].cost : a < b
    }
    var load = [Double](repeating: 0, count: ranks)
    var owner = [Int](repeating: 0, count: tiles.count)
    for t in order {
      var best = 0
      for r in 1..<ranks where load[r] < load[best] { best = r }
      owner[t] = best
      load[best] += tiles[t].cost
    }
    self.owner = owner
  }

  /// Every tile for one worker, in tile order (no costs: nothing to balance).
  public init(n1: Int, n2: Int, symmetric: Bool, tileSize: Int) {
    self.init(n1: n1, n2: n2, symmetric: symmetric, tileSize: tileSize, ranks: 1, flopsPerPair: 0, flopsPerSample: 0)
  }

  /// Sample blocks of the rows (X₁) and columns (X₂), `tileSize` each, the last one smaller.
  public static func blocks(_ n: Int, tileSize: Int) -> [Range<Int>] {
    stride(from: 0, to: n, by: tileSize).map { $0..<min(n, $0 + tileSize) }
  }

  /// `dst[j·rows + i] = src[i·columns + j]`: the transpose of a rows × columns
  /// tile (the mirror of an off-diagonal tile of a symmetric Gram).
  @inlinable
  public static func transpose<T>(_ src: UnsafeBufferPointer<T>, rows: Int, columns: Int,
                                  into dst: UnsafeMutableBufferPointer<T>) {
    for i in 0..<rows { for j in 0..<columns { dst[j * rows + i] = src[i * columns + j] } }
  }

  /// The tiles of `rank`, in tile order.
  public func tiles(of rank: Int) -> [Tile] { tiles.indices.filter { owner[$0] == rank }.map { tiles[$0] } }

  /// Estimated FLOPs per rank.
  public var loads: [Double] {
    var load = [Double](repeating: 0, count: ranks)
    for (t, r) in owner.enumerated() { load[r] += tiles[t].cost }
    return load
  }

  /// The largest number of tiles any rank has (collective write rounds).
  public var rounds: Int {
    var count = [Int](repeating: 0, count: ranks)
    for r in owner { count[r] += 1 }
    return count.max() ?? 0
  }

  /// A tile size for `n` samples: at most 2048, small enough that a tile and
  /// its transpose (`bytesPerPair` each per sample pair) take at most a
  /// quarter of `budget`, and halved (down to 64) until there are at least
  /// 4 tiles per rank to balance.
  public static func defaultTileSize(n1: Int, n2: Int, symmetric: Bool, ranks: Int, bytesPerPair: Int, budget: Int) -> Int {
    var t = 2048
    while t > 16 && 2 * t * t * bytesPerPair > budget / 4 { t /= 2 }
    func count(_ t: Int) -> Int {
      let a = (n1 + t - 1) / t, b = (n2 + t - 1) / t
      return symmetric ? a * (a + 1) / 2 : a * b
    }
    while t > 64 && count(t) < 4 * ranks { t /= 2 }
    return max(1, t)
  }
}
