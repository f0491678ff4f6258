import CNTKitBLAS
import Foundation
import XCTest
@testable import NTKit

/// The fixed-order tridiagonal reduction behind `SymmetricEigen` (n ≤ 1024).
final class FixedOrderEigenTests: XCTestCase {
  /// The second-difference matrix tridiag(−1, 2, −1) with a dense random
  /// orthogonal similarity applied: eigenvalues 2 − 2cos(kπ/(n+1)).
  func testKnownSpectrumAfterDenseRotation() throws {
    let n = 120
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      a[i * n + i] = 2
      if i + 1 < n { a[i * n + i + 1] = -1; a[(i + 1) * n + i] = -1 }
    }
    // Q = I − 2uuᵀ/uᵀu (a dense reflector): QAQ has the same spectrum and no structure.
    var rng = SeededRandom(seed: 5)
    let u = (0..<n).map { _ in rng.normal() }
    let uu = u.reduce(0) { $0 + $1 * $1 }
    var q = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { q[i * n + j] = (i == j ? 1 : 0) - 2 * u[i] * u[j] / uu } }
    func mul(_ x: [Double], _ y: [Double]) -> [Double] {
      var z = [Double](repeating: 0, count: n * n)
      for i in 0..<n { for k in 0..<n { let v = x[i * n + k]; for j in 0..<n { z[i * n + j] += v * y[k * n + j] } } }
      return z
    }
    let b = mul(mul(q, a), q)
    let got = try SymmetricEigen.eigenvalues(b, n: n)
    let want = (1...n).map { 2 - 2 * cos(Double($0) * Double.pi / Double(n + 1)) }.sorted(by: >)
    XCTAssertEqual(got.count, n)
    for k in 0..<n { XCTAssertEqual(got[k], want[k], accuracy: 1e-12, "eigenvalue \(k)") }
  }

  /// Agrees with LAPACK dsyevd on a random symmetric matrix, and is deterministic.
  func testAgreesWithDsyevd() throws {
    let n = 200
    var rng = SeededRandom(seed: 9)
    var s = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in i..<n { let v = rng.normal(); s[i * n + j] = v; s[j * n + i] = v } }
    var copy = s
    let mine = FixedOrderTridiagonal.eigenvalues(&copy, n: n)
    XCTAssertEqual(mine.info, 0)
    var lapack = s
    var w = [Double](repeating: 0, count: n)
    let info = ntk_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "U")), Int32(n), &lapack, Int32(n), &w)
    XCTAssertEqual(info, 0)
    let scale = w.map(abs).max()!
    for k in 0..<n { XCTAssertEqual(mine.values[k], w[k], accuracy: 1e-12 * scale, "eigenvalue \(k)") }
    var again = s
    XCTAssertEqual(FixedOrderTridiagonal.eigenvalues(&again, n: n).values, mine.values)
  }
}
