import XCTest
@testable import NTKit

/// The fixed-order product behind the NTK's features (`gemmFixedOrder`,
/// `ntkit_fixed_gemm.c`): register-blocked per instruction set, yet the same
/// bits on every one, and the product itself (against a float64 reference).
final class FixedOrderGemmTests: XCTestCase {
  /// Shapes with partial row groups (m mod 4), partial vectors on every
  /// width (n mod 8, mod 16, mod 64), k = 1, and a strided A and C.
  func testSameBitsOnEveryInstructionSetAndCloseToFloat64() throws {
    let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (3, 5, 2), (4, 16, 7), (5, 17, 9), (7, 63, 1), (9, 64, 13),
                                              (13, 65, 30), (6, 130, 11), (33, 200, 5)]
    let device = CPUDevice.shared
    var rng = SeededRandom(seed: 5)
    for (m, n, k) in shapes {
      let lda = k + 3, ldc = n + 2
      let a = (0..<m * lda).map { _ in Float(rng.normal()) }
      let b = (0..<k * n).map { _ in Float(rng.normal()) }
      let alpha: Float = 0.75
      var reference = [Double](repeating: 0, count: m * n)
      for i in 0..<m { for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += Double(a[i * lda + p]) * Double(b[p * n + j]) }
        reference[i * n + j] = Double(alpha) * s
      } }
      var first: [Float]?
      for isa in CPUInstructionSet.allCases where isa <= CPUInstructionSet.widestSupported {
        let ab = try device.upload(a), bb = try device.upload(b)
        // A sentinel between rows: strided stores must not touch it.
        let cb = try device.upload([Float](repeating: -7, count: m * ldc))
        CPUConfiguration.withInstructionSet(isa) {
          device.gemmFixedOrder(GemmOp(m: m, n: n, k: k, alpha: alpha, a: ab.view, lda: lda, b: bb.view, ldb: n,
                                       c: cb.view, ldc: ldc))
        }
        let raw = Array(UnsafeBufferPointer(start: cb.hostPointer!, count: m * ldc))
        let label = "\(m)×\(n)×\(k) \(isa.rawValue)"
        for i in 0..<m { for j in n..<ldc { XCTAssertEqual(raw[i * ldc + j], -7, "\(label): wrote past a row") } }
        let c = (0..<m).flatMap { i in raw[(i * ldc)..<(i * ldc + n)] }
        for e in 0..<m * n {
          XCTAssertEqual(Double(c[e]), reference[e], accuracy: 1e-5 * (1 + abs(reference[e])) * Double(k), label)
        }
        if let first {
          XCTAssertEqual(first.map(\.bitPattern), c.map(\.bitPattern), "\(label): bits differ")
        } else {
          first = c
        }
      }
    }
  }
}
