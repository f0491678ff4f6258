import Testing
@testable import NTKit

/// Every random source takes an explicit seed: same seed, same numbers;
/// named streams of one seed never coincide. (Swift Testing, so that both
/// test runners report real tests.)
@Suite("Seeded random numbers")
struct SeededRandomTests {
  @Test func sameSeedSameSequence() {
    var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42)
    for _ in 0..<100 { #expect(a.next() == b.next()) }
  }

  @Test func streamsDiffer() {
    var a = SeededRandom(seed: 7, stream: "target"), b = SeededRandom(seed: 7, stream: "predictor")
    let xs = (0..<8).map { _ in a.next() }, ys = (0..<8).map { _ in b.next() }
    #expect(xs != ys)
  }

  @Test func normalMomentsAreStandard() {
    var rng = SeededRandom(seed: 3)
    let n = 200_000
    var sum = 0.0, sum2 = 0.0
    for _ in 0..<n { let z = rng.normal(); sum += z; sum2 += z * z }
    let mean = sum / Double(n), variance = sum2 / Double(n) - mean * mean
    #expect(abs(mean) < 0.01)
    #expect(abs(variance - 1) < 0.01)
  }

  @Test(arguments: [0, 1, 5]) func uniformInUnitInterval(seed: UInt64) {
    var rng = SeededRandom(seed: seed)
    for _ in 0..<10_000 { let u = rng.uniform(); #expect(u >= 0 && u < 1) }
  }
}
