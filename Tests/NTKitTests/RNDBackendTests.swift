import Foundation
import XCTest
@testable import NTKit

/// RND is one algorithm over two backends: the fused CPU backend (CFastMLP)
/// and the generic device backend (here the CPU device with OpenBLAS) pick the
/// same points. The pool is Gaussian with well separated distances, so the
/// backends' different float32 summation orders cannot swap a pick.
final class RNDBackendTests: XCTestCase {
  let device = CPUDevice.shared

  func pool(seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed, stream: "pool")
    return Tensor(shape: [160, 6], data: (0..<160 * 6).map { _ in Float(rng.normal()) })
  }

  func request(_ metric: DistanceMetric, batch: Int?, fused: Bool, seed: UInt64 = 1) -> SelectionRequest {
    var r = SelectionRequest(pool: .tensor(pool(seed: 21)), method: .rnd, size: 10)
    r.seed = seed
    r.distance = .metric(metric)
    r.epochs = 6
    r.batchSize = batch
    r.picksPerStep = 2
    r.model = ModelSpec(inputShape: [6], layers: [.dense(16), .activation(.relu), .dense(16),
                                                  .activation(.leakyRelu(alpha: 0.1)), .dense(4)])
    r.useFastPath = fused
    return r
  }

  func testTheRequestChoosesTheBackend() throws {
    XCTAssertTrue(try RNDSelector(request(.mse, batch: nil, fused: true), device: device).isFused)
    XCTAssertFalse(try RNDSelector(request(.mse, batch: nil, fused: false), device: device).isFused)
    XCTAssertFalse(try RNDSelector(request(.cosine, batch: nil, fused: true), device: device).isFused)
  }

  func testBothBackendsPickTheSame() throws {
    for metric in [DistanceMetric.mse, .l1, .l2] {
      for batch in [nil, 3] as [Int?] {
        let fused = try DataSelection.run(request(metric, batch: batch, fused: true), device: device)
        let generic = try DataSelection.run(request(metric, batch: batch, fused: false), device: device)
        let label = "\(metric) batch \(batch.map(String.init) ?? "full")"
        XCTAssertEqual(fused.indices.count, 10, label)
        XCTAssertEqual(fused.indices, generic.indices, label)
        for (f, g) in zip(fused.steps.flatMap(\.distances), generic.steps.flatMap(\.distances)) {
          XCTAssertEqual(f, g, accuracy: 1e-4 * max(1, abs(g)), label)
        }
        // The comparison can fail: another seed (other initial networks) picks other points.
        let other = try DataSelection.run(request(metric, batch: batch, fused: false, seed: 2), device: device)
        XCTAssertNotEqual(other.indices, fused.indices, label)
      }
    }
  }

  /// A run interrupted on one backend and resumed on the other ends with the
  /// picks of an uninterrupted run.
  func testResumeAcrossBackends() throws {
    for batch in [nil, 3] as [Int?] {
      for firstFused in [true, false] {
        let full = try DataSelection.run(request(.l2, batch: batch, fused: true), device: device)
        let path = makeTempDirectory() + "/ck.json"
        var first = request(.l2, batch: batch, fused: firstFused)
        first.checkpointPath = path
        first.resume = true
        var steps = 0
        XCTAssertThrowsError(try DataSelection.run(first, device: device, isCancelled: { steps += 1; return steps > 3 })) {
          XCTAssertEqual($0 as? NTKitError, .interrupted)
        }
        var second = request(.l2, batch: batch, fused: !firstFused)
        second.checkpointPath = path
        second.resume = true
        let resumed = try DataSelection.run(second, device: device)
        XCTAssertEqual(resumed.resumedSteps, 3)
        XCTAssertEqual(resumed.indices, full.indices, "batch \(batch ?? 0), first fused \(firstFused)")
      }
    }
  }
}
