import XCTest
@testable import NTKit

/// The pure parts of NTKGram: the memory plan (GramMemoryPlan), the
/// single-worker tile order (GramTileSchedule) and the device capabilities
/// the plan asks for.
final class GramMemoryPlanTests: XCTestCase {
  /// A plan of `n` samples (X₂ = X₁) with 1 KiB of features per sample.
  func request(n: Int, budget: Int, tileBytesPerPair: Int = 0, preferred: Int = 1024) -> GramMemoryPlan.Request {
    GramMemoryPlan.Request(n1: n, n2: n, sameSet: true, budget: budget, featureBytesPerSample: 1024,
                           propagatorBytesPerSample: 512, scratchBytes: 10_000, tileBytesPerPair: tileBytesPerPair,
                           preferredBlock: preferred)
  }

  func testTinyBudgetNamesTheBudgetAndTheMinimum() {
    let budget = 20_000
    XCTAssertThrowsError(try GramMemoryPlan(request(n: 1000, budget: budget))) { error in
      guard case NTKitError.memoryBudget(let needed, let reported, _) = error else {
        return XCTFail("expected a memory-budget error, got \(error)")
      }
      XCTAssertEqual(reported, budget)
      // The least the plan tries: streamed blocks of 6 samples (4096 · (3/4)ᵏ down to ≤ 8),
      // two feature blocks, the propagation batch (the budget's eighth: 4 samples) and the scratch.
      XCTAssertEqual(needed, 4 * 512 + 10_000 + 2 * 6 * 1024)
      let text = "\(error)"
      XCTAssertTrue(text.contains(formatBytes(budget)) && text.contains(formatBytes(needed)), text)
    }
  }

  func testResidentWhenAllFeaturesFit() throws {
    let p = try GramMemoryPlan(request(n: 1000, budget: 1 << 30))
    XCTAssertTrue(p.residentFeatures)
    XCTAssertEqual(p.blockSize, 1024)
    XCTAssertEqual(p.storeCapacity, 1000)
    XCTAssertEqual(p.propagationBatch, 256)
    XCTAssertEqual(p.tileBufferPairs, 0)
    XCTAssertEqual(p.neededBytes, 256 * 512 + 10_000 + 1000 * 1024)
    // Another set X₂: both sets resident in one store.
    var r = request(n: 1000, budget: 1 << 30)
    r.n2 = 300
    r.sameSet = false
    XCTAssertEqual(try GramMemoryPlan(r).storeCapacity, 1300)
  }

  /// The device's propagation batch caps the batch; every concurrent
  /// propagator's buffers count, and a small budget shrinks the batch for all.
  func testPropagationBatchAndConcurrentPropagators() throws {
    var r = request(n: 1000, budget: 1 << 30)
    r.preferredPropagationBatch = 6
    r.propagators = 2
    let p = try GramMemoryPlan(r)
    XCTAssertEqual(p.propagationBatch, 6)
    XCTAssertEqual(p.propagators, 2)
    XCTAssertEqual(p.neededBytes, 2 * 6 * 512 + 10_000 + 1000 * 1024)
    // An eighth of 64 KiB is 8 KiB: 16 samples for one propagator, 8 each for two.
    var small = request(n: 10, budget: 64 << 10)
    small.propagators = 2
    XCTAssertEqual(try GramMemoryPlan(small).propagationBatch, 8)
    small.propagators = 1
    XCTAssertEqual(try GramMemoryPlan(small).propagationBatch, 10)
  }

  func testStreamsWhenFeaturesDoNotFit() throws {
    // Resident would need 100 000 KiB of features: stream two blocks instead.
    let budget = 8 << 20
    let p = try GramMemoryPlan(request(n: 100_000, budget: budget))
    XCTAssertFalse(p.residentFeatures)
    XCTAssertEqual(p.storeCapacity, p.blockSize)
    XCTAssertLessThanOrEqual(p.neededBytes, budget)
    // The largest block of the 4096 · (3/4)ᵏ sequence that fits.
    let fixed = 256 * 512 + 10_000
    XCTAssertEqual(p.blockSize, 3072)
    XCTAssertGreaterThan(fixed + 2 * 4096 * 1024, budget)
    // A tile buffer (a device without host-addressable memory) shrinks the block.
    let q = try GramMemoryPlan(request(n: 100_000, budget: budget, tileBytesPerPair: 4))
    XCTAssertFalse(q.residentFeatures)
    XCTAssertLessThan(q.blockSize, p.blockSize)
    XCTAssertEqual(q.tileBufferPairs, q.blockSize * q.blockSize)
    XCTAssertLessThanOrEqual(q.neededBytes, budget)
    XCTAssertEqual(q.neededBytes, fixed + 2 * q.blockSize * 1024 + q.blockSize * q.blockSize * 4)
  }

  func testForcedStreamingAndBlock() throws {
    var r = request(n: 1000, budget: 1 << 30)
    r.forceStreaming = true
    XCTAssertFalse(try GramMemoryPlan(r).residentFeatures)
    r.forceStreaming = false
    r.forcedBlock = 100
    let p = try GramMemoryPlan(r)
    XCTAssertEqual(p.blockSize, 100)
    XCTAssertTrue(p.residentFeatures)
  }

  func testFusedTilesGrowWithN() throws {
    let cpu = CPUDevice.shared
    XCTAssertEqual(cpu.capabilities, DeviceCapabilities(hostAddressableMemory: true, fusedHostKernels: true,
                                                        concurrentCalls: true))
    let expected = [(1000, 1024), (8192, 1024), (16384, 2048), (20000, 2304), (32768, 4096), (200_000, 4096)]
    for (n, block) in expected {
      let preferred = cpu.preferredGramTile(samples: n, fused: true)
      XCTAssertEqual(preferred, block, "N \(n)")
      XCTAssertEqual(cpu.preferredGramTile(samples: n, fused: false), 1024)
      // The plan takes the device's tile when the features are resident.
      let p = try GramMemoryPlan(request(n: n, budget: 1 << 30, preferred: preferred))
      XCTAssertTrue(p.residentFeatures)
      XCTAssertEqual(p.blockSize, block)
    }
    // More workers, more scratch; full mode's sub-tiles grow with M².
    XCTAssertGreaterThan(cpu.ntkTileScratchBytes(featuresPerSample: 10, multiplicity: 10, scalarBytes: 8),
                         cpu.ntkTileScratchBytes(featuresPerSample: 10, multiplicity: 1, scalarBytes: 4))
  }

  func testSingleWorkerTileOrder() {
    let s = GramTileSchedule(n1: 10, n2: 10, symmetric: true, tileSize: 4)
    XCTAssertEqual(s.tiles.map { [$0.row, $0.column] }, [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]])
    XCTAssertEqual(s.tiles.map(\.isDiagonal), [true, false, false, true, false, true])
    XCTAssertEqual(s.tiles.last?.rows, 8..<10)
    XCTAssertEqual(GramTileSchedule.blocks(10, tileSize: 4), [0..<4, 4..<8, 8..<10])
    let cross = GramTileSchedule(n1: 5, n2: 3, symmetric: false, tileSize: 2)
    XCTAssertEqual(cross.tiles.map { [$0.row, $0.column] }, [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]])
    let src: [Int] = [1, 2, 3, 4, 5, 6]  // 2 × 3
    var dst = [Int](repeating: 0, count: 6)
    src.withUnsafeBufferPointer { s in
      dst.withUnsafeMutableBufferPointer { GramTileSchedule.transpose(s, rows: 2, columns: 3, into: $0) }
    }
    XCTAssertEqual(dst, [1, 4, 2, 5, 3, 6])
  }

  /// An OpenCL device's memory is its own: no host writes, no fused host kernels, no host scratch.
  func testOpenCLCapabilities() throws {
    guard let cl = try OpenCLDeviceTests.shared.get() else { throw XCTSkip("no OpenCL platform on this machine") }
    XCTAssertEqual(cl.capabilities, DeviceCapabilities(hostAddressableMemory: false, fusedHostKernels: false))
    XCTAssertNil(cl.fusedKernels)
    XCTAssertEqual(cl.ntkTileScratchBytes(featuresPerSample: 1000, multiplicity: 10, scalarBytes: 4), 0)
    XCTAssertEqual(cl.preferredGramTile(samples: 100_000, fused: false), 1024)
  }
}
