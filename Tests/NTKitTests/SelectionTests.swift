import Foundation
import XCTest
@testable import NTKit

final class SelectionTests: XCTestCase {
  let device = CPUDevice.shared

  func gaussianPool(_ n: Int, _ d: Int, seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed, stream: "pool")
    return Tensor(shape: [n, d], data: (0..<n * d).map { _ in Float(rng.normal()) })
  }

  func request(_ pool: Tensor, _ method: SelectionMethod = .rnd, size: Int, seed: UInt64 = 1) -> SelectionRequest {
    var r = SelectionRequest(pool: .tensor(pool), method: method, size: size)
    r.seed = seed
    return r
  }

  func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ntkit-sel-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  func testDeterministicAndNoRepeats() throws {
    let pool = gaussianPool(300, 4, seed: 3)
    for method in SelectionMethod.allCases {
      var r = request(pool, method, size: 40)
      r.epochs = 10
      let a = try DataSelection.run(r, device: device)
      let b = try DataSelection.run(r, device: device)
      XCTAssertEqual(a.indices, b.indices, "\(method)")
      XCTAssertEqual(a.indices.count, 40)
      XCTAssertEqual(Set(a.indices).count, 40, "\(method) repeated a point")
      XCTAssertTrue(a.indices.allSatisfy { (0..<300).contains($0) })
      XCTAssertFalse(a.stoppedEarly)
    }
    // k per step, and a whole small pool: every point exactly once.
    var r = request(gaussianPool(12, 3, seed: 4), .rnd, size: 12)
    r.picksPerStep = 5
    r.epochs = 5
    let all = try DataSelection.run(r, device: device)
    XCTAssertEqual(all.indices.sorted(), Array(0..<12))
    XCTAssertEqual(all.steps.map(\.indices.count), [5, 5, 2])
  }

  func testResumeEqualsUninterruptedRun() throws {
    let pool = gaussianPool(200, 5, seed: 8)
    for method in SelectionMethod.allCases {
      for batch in [nil, 3] as [Int?] {
        let path = tempPath("ck-\(method.rawValue)-\(batch ?? 0).json")
        try? FileManager.default.removeItem(atPath: path)
        var r = request(pool, method, size: 15)
        r.epochs = 8
        r.batchSize = batch
        let full = try DataSelection.run(r, device: device)
        r.checkpointPath = path
        r.checkpointEvery = 2
        r.resume = true
        var steps = 0
        XCTAssertThrowsError(try DataSelection.run(r, device: device, isCancelled: { steps += 1; return steps > 7 })) {
          XCTAssertEqual($0 as? NTKitError, .interrupted)
        }
        let resumed = try DataSelection.run(r, device: device)
        XCTAssertEqual(resumed.resumedSteps, 7)  // cancelled before step 8: checkpointed at 7
        XCTAssertEqual(resumed.indices, full.indices, "\(method) batch \(batch ?? 0)")
        // A checkpoint of another run is refused.
        var other = r
        other.seed = 99
        XCTAssertThrowsError(try DataSelection.run(other, device: device)) {
          XCTAssertTrue("\($0)".contains("seed is 1 but this run's is 99"), "\($0)")
        }
        var otherPool = r
        otherPool.pool = .tensor(gaussianPool(200, 5, seed: 9))
        XCTAssertThrowsError(try DataSelection.run(otherPool, device: device)) {
          XCTAssertTrue("\($0)".contains("pool fingerprint"), "\($0)")
        }
      }
    }
  }

  /// Clusters of very unequal sizes (2000, 300, 40, 5, 1) plus 500 exact duplicates of one point.
  func clusteredPool() -> (Tensor, [Int]) {
    var rng = SeededRandom(seed: 5, stream: "clusters")
    let d = 6
    let sizes = [2000, 300, 40, 5, 1]
    var data: [Float] = [], labels: [Int] = []
    for (c, size) in sizes.enumerated() {
      let center = (0..<d).map { k in Float(k == c ? 12 : 0) + Float(c == 4 && k == 5 ? -12 : 0) }
      for _ in 0..<size {
        data += center.map { $0 + Float(rng.normal() * 0.3) }
        labels.append(c)
      }
    }
    let dup: [Float] = [-10, 5, 0, -6, 0, 3]
    for _ in 0..<500 { data += dup; labels.append(5) }
    // Shuffle rows so that clusters are not in index order.
    var order = Array(0..<labels.count)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    let pool = Tensor(shape: [labels.count, d], data: order.flatMap { Array(data[$0 * d..<($0 + 1) * d]) })
    return (pool, order.map { labels[$0] })
  }

  func testRNDCoversEveryClusterWhileRandomMissesSmallOnes() throws {
    let (pool, labels) = clusteredPool()
    let rnd = try DataSelection.run(request(pool, .rnd, size: 6), device: device)
    XCTAssertEqual(Set(rnd.indices.map { labels[$0] }), Set(0..<6), "RND picks \(rnd.indices.map { labels[$0] })")
    let random = try DataSelection.run(request(pool, .random, size: 6), device: device)
    let randomClusters = Set(random.indices.map { labels[$0] })
    XCTAssertFalse(randomClusters.contains(4))
    XCTAssertFalse(randomClusters.contains(3))
    let kc = try DataSelection.run(request(pool, .kCenter, size: 6), device: device)
    XCTAssertEqual(Set(kc.indices.map { labels[$0] }), Set(0..<6))
  }

  func testThresholdStopsEarly() throws {
    let (pool, _) = clusteredPool()
    var r = request(pool, .kCenter, size: 50)
    r.threshold = 5
    let result = try DataSelection.run(r, device: device)
    XCTAssertTrue(result.stoppedEarly)
    XCTAssertEqual(result.indices.count, 6)
    XCTAssertTrue(result.stopReason!.contains("threshold 5"))
    var big = request(pool, .rnd, size: 5)
    big.threshold = 1e9
    let none = try DataSelection.run(big, device: device)
    XCTAssertTrue(none.stoppedEarly)
    XCTAssertEqual(none.indices, [])
  }

  func testDistancesAgainstHandValues() throws {
    let a: [Float] = [1, 2, 3], b: [Float] = [2, 0, 3]
    let ab = try device.upload(a), bb = try device.upload(b), out = try device.makeBuffer(Float.self, count: 1)
    func dist(_ name: String) throws -> Double {
      guard case .metric(let m) = try SelectionDistance(parsing: name) else { fatalError() }
      try device.rowDistances(m, a: ab.view, b: bb.view, out: out.view, n: 1, d: 3)
      return Double(try device.download(out.view, count: 1)[0])
    }
    XCTAssertEqual(try dist("mse"), 5.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(try dist("l1"), 3, accuracy: 1e-6)
    XCTAssertEqual(try dist("l2"), 5.0.squareRoot(), accuracy: 1e-6)
    XCTAssertEqual(try dist("lp:3"), pow(9.0, 1.0 / 3), accuracy: 1e-6)
    let cosine = (2.0 + 0 + 9) / (14.0.squareRoot() * 13.0.squareRoot())
    XCTAssertEqual(try dist("cosine"), 1 - cosine, accuracy: 1e-6)
    XCTAssertEqual(try dist("angular"), acos(cosine) / Double.pi, accuracy: 1e-6)
    XCTAssertEqual(try SelectionDistance(parsing: "LP:2.5").name, "lp:2.5")
    XCTAssertThrowsError(try SelectionDistance(parsing: "euclid")) {
      XCTAssertTrue("\($0)".contains("mse, l1, l2, lp:<p>, cosine, angular, mahalanobis"), "\($0)")
    }
    XCTAssertThrowsError(try SelectionDistance(parsing: "lp:-1")) { XCTAssertTrue("\($0)".contains("p > 0")) }
    // Mahalanobis factor: L·Lᵀ = Σ⁻¹ for Σ = [[4, 2], [2, 3]]; distance of (1, 0): √(Σ⁻¹₀₀) = √(3/8).
    let l = try MahalanobisWhitening.factor(covariance: [4, 2, 2, 3], 2)
    let diff = [1.0, 0.0]
    let z = [diff[0] * l[0] + diff[1] * l[2], diff[0] * l[1] + diff[1] * l[3]]
    XCTAssertEqual((z[0] * z[0] + z[1] * z[1]).squareRoot(), (3.0 / 8).squareRoot(), accuracy: 1e-12)
  }

  func testMahalanobisSelectionRuns() throws {
    var r = request(gaussianPool(200, 4, seed: 2), .rnd, size: 10)
    r.distance = .mahalanobis
    r.epochs = 5
    let result = try DataSelection.run(r, device: device)
    XCTAssertEqual(Set(result.indices).count, 10)
    XCTAssertTrue(result.steps.allSatisfy { $0.distances[0] >= 0 && $0.distances[0].isFinite })
  }

  func testBadInputErrors() throws {
    let pool = gaussianPool(10, 3, seed: 1)
    let path = tempPath("never.json")
    try? FileManager.default.removeItem(atPath: path)
    func expect(_ r: SelectionRequest, _ text: String, line: UInt = #line) {
      XCTAssertThrowsError(try DataSelection.run(r, device: device), line: line) {
        XCTAssertTrue("\($0)".contains(text), "\($0)", line: line)
      }
      XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a file was written", line: line)
    }
    var r = request(Tensor(shape: [0, 3], data: []), size: 1)
    r.checkpointPath = path
    expect(r, "the pool is empty")
    r.pool = .tensor(pool)
    r.size = 11
    expect(r, "selection size 11 is larger than the pool (10 points)")
    r.size = 3
    var bad = pool
    bad.data[7] = .nan
    r.pool = .tensor(bad)
    expect(r, "non-finite value (NaN or Inf) at row 2")
    r.pool = .tensor(pool)
    r.model = SelectionRequest.defaultModel(features: 4)
    expect(r, "RND model input: expected 3 features (the pool's)")
    r.model = nil
    r.targetWeights = .parameters(ModelParameters(values: [1, 2]))
    expect(r, "target initial weights: expected")
    r.targetWeights = .seeded
    r.predictorWeights = .file(tempPath("missing.safetensors"))
    expect(r, "missing.safetensors")
  }

  func testMappedPoolMatchesInMemoryAndReportJSON() throws {
    let pool = gaussianPool(150, 4, seed: 6)
    let path = tempPath("pool.npy")
    try NPY.write(path, shape: [150, 4], floats: pool.data)
    var r = request(pool, .rnd, size: 8)
    r.epochs = 5
    r.chunkRows = 40  // several blocks
    let memory = try DataSelection.run(r, device: device)
    r.pool = .mapped(try MappedNPY(path: path))
    var seen = 0
    let mapped = try DataSelection.run(r, device: device, progress: { p in seen += 1; XCTAssertGreaterThan(p.pointsPerSecond, 0) })
    XCTAssertEqual(memory.indices, mapped.indices)
    XCTAssertEqual(seen, 8)
    let json = mapped.json()
    XCTAssertEqual(json["indices"]?.arrayValue?.compactMap(\.intValue), mapped.indices)
    XCTAssertEqual(json["steps"]?.arrayValue?.count, 8)
  }

  /// NTKit started from the JAX peer's weights picks what the peer picks.
  func testAgreementWithJAXPeer() throws {
    let dir = Fixtures.path("rnd_agreement")
    let spec = try ModelSpec.load(dir + "/model.json")
    let network = try Network(spec: spec)
    var r = SelectionRequest(pool: .mapped(try MappedNPY(path: dir + "/pool.npy")), method: .rnd, size: 20)
    r.model = spec
    r.targetWeights = .parameters(try ModelParameters.load(dir + "/target.safetensors", network: network))
    r.predictorWeights = .file(dir + "/predictor.safetensors")
    let ours = try DataSelection.run(r, device: device).indices
    let peer = try NPY.read(dir + "/picks.npy").int64s().map { Int($0) }
    XCTAssertEqual(Array(ours.prefix(5)), Array(peer.prefix(5)))
    let agree = zip(ours, peer).filter { $0 == $1 }.count
    XCTAssertGreaterThanOrEqual(agree, 12, "ours \(ours) peer \(peer)")
    print("RND agreement with JAX: \(agree)/20 positions; ours \(ours); peer \(peer)")
  }
}
