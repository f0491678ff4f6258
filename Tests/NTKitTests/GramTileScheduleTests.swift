import XCTest
@testable import NTKit

/// The pure distribution logic of ntk-mpi: tiles of the Gram matrix over
/// ranks (GramTileSchedule) and pool shards (ShardedSelection.shard/owner).
final class GramTileScheduleTests: XCTestCase {
  func testUpperTriangleCoveredOnceAndBalanced() {
    for (n, t, p) in [(101, 16, 4), (20, 16, 4), (1000, 128, 2), (7, 3, 5)] {
      let s = GramTileSchedule(n1: n, n2: n, symmetric: true, tileSize: t, ranks: p, flopsPerPair: 1000, flopsPerSample: 7e4)
      var covered = [Int](repeating: 0, count: n * n)
      for tile in s.tiles {
        XCTAssertTrue(tile.rows.lowerBound <= tile.columns.lowerBound)
        for i in tile.rows { for j in tile.columns { covered[i * n + j] += 1; if tile.isMirrored { covered[j * n + i] += 1 } } }
      }
      XCTAssertEqual(covered.filter { $0 != 1 }.count, 0, "n \(n), tile \(t): every entry written exactly once")
      XCTAssertEqual(s.owner.count, s.tiles.count)
      XCTAssertTrue(s.owner.allSatisfy { (0..<p).contains($0) })
      let loads = s.loads
      if s.tiles.count >= 4 * p {
        XCTAssertLessThanOrEqual(loads.max()! / (loads.reduce(0, +) / Double(p)), 1.1, "balanced: \(loads)")
      }
    }
    // Same inputs, same schedule on every rank.
    let a = GramTileSchedule(n1: 300, n2: 300, symmetric: true, tileSize: 32, ranks: 3, flopsPerPair: 5, flopsPerSample: 9)
    XCTAssertEqual(a, GramTileSchedule(n1: 300, n2: 300, symmetric: true, tileSize: 32, ranks: 3, flopsPerPair: 5, flopsPerSample: 9))
  }

  func testCrossGramAllTilesAndDefaultTileSize() {
    let s = GramTileSchedule(n1: 50, n2: 9, symmetric: false, tileSize: 7, ranks: 4, flopsPerPair: 1, flopsPerSample: 0)
    XCTAssertEqual(s.tiles.count, 8 * 2)
    XCTAssertFalse(s.tiles.contains { $0.isMirrored || $0.isDiagonal })
    // Budget caps the tile: 2·T²·bytes ≤ budget/4.
    let t = GramTileSchedule.defaultTileSize(n1: 100_000, n2: 100_000, symmetric: true, ranks: 2, bytesPerPair: 4, budget: 1 << 30)
    XCTAssertLessThanOrEqual(2 * t * t * 4, (1 << 30) / 4)
    XCTAssertEqual(GramTileSchedule.defaultTileSize(n1: 16384, n2: 16384, symmetric: true, ranks: 2, bytesPerPair: 4, budget: 1 << 30), 2048)
  }

  func testPoolShardsAreWholeBlocksAndOwnersAgree() {
    for (n, chunk, p) in [(1000, 300, 4), (1000, 500, 4), (10, 65_536, 3), (1_000_000, 65_536, 7)] {
      var next = 0
      for r in 0..<p {
        let s = ShardedSelection.shard(rows: n, chunkRows: chunk, ranks: p, rank: r)
        XCTAssertEqual(s.lowerBound, next, "contiguous, in rank order")
        let b = ShardedSelection.blockRows(rows: n, chunkRows: chunk)
        XCTAssertTrue(s.lowerBound % b == 0, "starts on a scoring block")
        for i in [s.lowerBound, s.upperBound - 1] where !s.isEmpty {
          XCTAssertEqual(ShardedSelection.owner(of: i, rows: n, chunkRows: chunk, ranks: p), r)
        }
        next = s.upperBound
      }
      XCTAssertEqual(next, n)
    }
  }
}
