import Foundation
import XCTest
@testable import NTKit

final class SpectrumTests: XCTestCase {
  static let cases = [
    "01_dense_relu_standard", "02_dense_tanh_ntk", "03_dense_nobias_sigmoid_gelu",
    "04_cnn_tiny_digits", "05_cnn_stride2_ntk",
  ]

  // MARK: - Golden cases

  func testGoldenFloat64() throws {
    for name in Self.cases {
      let (kernel, n) = try loadKernel(name)
      let golden = try loadCV(name)
      let cv = try CollectiveVariables.compute(kernel: kernel, n: n)
      XCTAssertEqual(cv.n, n)
      XCTAssertLessThanOrEqual(relative(cv.trace, golden.trace), 1e-10, name)
      XCTAssertEqual(cv.entropy!, golden.entropy, accuracy: 1e-6, name)
      XCTAssertLessThanOrEqual(relative(cv.lambdaMax, golden.lambdaMax), 1e-10, name)
      let eig = try XCTUnwrap(cv.eigenvalues)
      XCTAssertEqual(eig.count, golden.eigenvalues.count, name)
      for (x, y) in zip(eig, golden.eigenvalues) {
        XCTAssertEqual(x, y, accuracy: 1e-10 * golden.lambdaMax, name)
      }
      XCTAssertEqual(cv.method, .exact)
    }
  }

  func testGoldenFloat32() throws {
    for name in Self.cases {
      let (kernel, n) = try loadKernel(name)
      let golden = try loadCV(name)
      let f32 = kernel.map { Float($0) }
      let cv = try f32.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: n) }
      XCTAssertLessThanOrEqual(relative(cv.trace, golden.trace), 1e-6, name)
      XCTAssertEqual(cv.entropy!, golden.entropy, accuracy: 1e-5, name)
      XCTAssertLessThanOrEqual(relative(cv.lambdaMax, golden.lambdaMax), 1e-6, name)
      for (x, y) in zip(cv.eigenvalues!, golden.eigenvalues) {
        XCTAssertEqual(x, y, accuracy: 1e-6 * golden.lambdaMax, name)
      }
      // Lanczos on the same small kernels: top-4 agree with the exact spectrum.
      let top = try f32.withUnsafeBufferPointer {
        try CollectiveVariables.compute(kernel: $0, n: n, method: .lanczos(k: 4))
      }
      XCTAssertNil(top.entropy)
      XCTAssertEqual(top.trace, cv.trace)
      for (x, y) in zip(top.eigenvalues!, cv.eigenvalues!.prefix(4)) {
        XCTAssertEqual(x, y, accuracy: 1e-9 * cv.lambdaMax, name)
      }
    }
  }

  // MARK: - Lanczos

  func testLanczosMatchesDsyevdOnRandomPSD() throws {
    let n = 600, r = 40
    var rng = SplitMix64(seed: 42)
    let x = (0..<(n * r)).map { _ in rng.nextSigned() }
    let u = (0..<n).map { _ in rng.nextSigned() }
    var a = [Float](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        var s = 0.0
        for p in 0..<r { s += x[i * r + p] * x[j * r + p] }
        a[i * n + j] = Float(s + 2 * u[i] * u[j])  // X Xᵀ plus a rank-one spike
      }
    }
    let exact = try a.withUnsafeBufferPointer { try SymmetricEigen.eigenvalues($0, n: n) }
    let result = try a.withUnsafeBufferPointer { try Lanczos.topEigenvalues($0, n: n, k: 10) }
    XCTAssertEqual(result.eigenvalues.count, 10)
    XCTAssertLessThan(result.iterations, n)
    for (l, e) in zip(result.eigenvalues, exact.prefix(10)) {
      XCTAssertLessThanOrEqual(relative(l, e), 1e-6)
    }
  }

  func testLanczosRankDeficient() throws {
    // Rank 3 (eigenvalues 9, 4, 1 plus zeros), k = 10 > rank: must stop cleanly.
    let n = 100
    var rng = SplitMix64(seed: 7)
    var a = [Float](repeating: 0, count: n * n)
    for weight in [9.0, 4.0, 1.0] {
      let v = (0..<n).map { _ in rng.nextSigned() }
      let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
      for i in 0..<n { for j in 0..<n { a[i * n + j] += Float(weight * v[i] * v[j] / (norm * norm)) } }
    }
    let exact = try a.withUnsafeBufferPointer { try SymmetricEigen.eigenvalues($0, n: n) }
    let result = try a.withUnsafeBufferPointer { try Lanczos.topEigenvalues($0, n: n, k: 10) }
    XCTAssertEqual(result.eigenvalues.count, 10)
    XCTAssertLessThanOrEqual(result.iterations, n)
    for (l, e) in zip(result.eigenvalues, exact.prefix(10)) {
      XCTAssertEqual(l, e, accuracy: 1e-8 * exact[0])
    }
  }

  func testLanczosClosureAndEdgeCases() throws {
    // Diagonal operator with geometric decay, given as a closure.
    let n = 300
    let d = (0..<n).map { 100 * pow(0.9, Double($0)) }
    let result = try Lanczos.topEigenvalues(n: n, k: 5) { x, y in
      for i in 0..<n { y[i] = d[i] * x[i] }
    }
    for (l, e) in zip(result.eigenvalues, d.prefix(5)) { XCTAssertLessThanOrEqual(relative(l, e), 1e-10) }
    // k larger than n is clamped; the zero matrix terminates.
    let zero = [Float](repeating: 0, count: 9)
    let z = try zero.withUnsafeBufferPointer { try Lanczos.topEigenvalues($0, n: 3, k: 8) }
    XCTAssertEqual(z.eigenvalues, [0, 0, 0])
    XCTAssertThrowsError(try Lanczos.topEigenvalues(n: 4, k: 0) { _, _ in })
    XCTAssertThrowsError(try Lanczos.topEigenvalues(n: 4, k: 65) { _, _ in })
  }

  // MARK: - Entropy, errors, summary

  func testEntropyOfHandMadeSpectrum() throws {
    // Σλ⁺ = 4 → p = (1/2, 1/4, 1/4): S = ½ ln 2 + ½ ln 4 = 1.5 ln 2.
    let s = try CollectiveVariables.entropy(of: [2, 1, 1, 0, -1e-12])
    XCTAssertEqual(s, 1.5 * log(2.0), accuracy: 1e-15)
    XCTAssertEqual(try CollectiveVariables.entropy(of: [5]), 0)
  }

  func testErrors() throws {
    XCTAssertThrowsError(try SymmetricEigen.eigenvalues([Double](), n: 0)) { error in
      guard case NTKitError.invalidArgument = error else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try CollectiveVariables.compute(kernel: [Double](), n: 0))
    XCTAssertThrowsError(try CollectiveVariables.compute(kernel: [1, 2, 3], n: 2))
    XCTAssertThrowsError(try CollectiveVariables.compute(kernel: [Double](repeating: 0, count: 9), n: 3)) { error in
      guard case NTKitError.numerical = error else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try CollectiveVariables.entropy(of: [-1, 0])) { error in
      guard case NTKitError.numerical = error else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try SymmetricEigen.eigenvalues([1, .nan, .nan, 1], n: 2))
    XCTAssertEqual(try SymmetricEigen.eigenvalues([3.5], n: 1), [3.5])
  }

  func testSymmetrisationAndSummary() throws {
    // (A + Aᵀ)/2 = [[2, 1], [1, 2]] → eigenvalues 3, 1.
    XCTAssertEqual(try SymmetricEigen.eigenvalues([2, 0, 2, 2], n: 2), [3, 1])
    let cv = try CollectiveVariables.compute(kernel: [2, 1, 1, 2], n: 2)
    XCTAssertEqual(cv.summaryLines[0], "n = 2")
    XCTAssertEqual(cv.summaryLines[1], "trace = 4.000000e+00")
    XCTAssertTrue(cv.summaryLines.contains("lambda_max = 3.000000e+00"))
    let k: [Float] = [2, 1, 1, 2]
    let top = try k.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: 2, method: .lanczos(k: 16)) }
    XCTAssertTrue(top.summaryLines.contains("entropy: not computed (Lanczos, top-16 eigenvalues only)"))
    XCTAssertEqual(CollectiveVariables.automaticMethod(n: 8192), .exact)
    XCTAssertEqual(CollectiveVariables.automaticMethod(n: 8193), .lanczos(k: 16))
  }

  // MARK: - Helpers (minimal readers; the library's .npy reader lives elsewhere)

  private func relative(_ x: Double, _ y: Double) -> Double { abs(x - y) / max(abs(y), .leastNormalMagnitude) }

  private func fixture(_ name: String, _ file: String) throws -> URL {
    let root = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return root.appendingPathComponent("golden").appendingPathComponent(name).appendingPathComponent(file)
  }

  /// A square C-order `<f8` .npy (version 1, 2 or 3).
  private func loadKernel(_ name: String) throws -> ([Double], Int) {
    let bytes = [UInt8](try Data(contentsOf: fixture(name, "ntk_trace.npy")))
    XCTAssertEqual(Array(bytes[1..<6]), Array("NUMPY".utf8))
    let v1 = bytes[6] == 1
    let headerLength = v1 ? Int(bytes[8]) | Int(bytes[9]) << 8
      : (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    let start = (v1 ? 10 : 12) + headerLength
    let header = String(decoding: bytes[(v1 ? 10 : 12)..<start], as: UTF8.self)
    XCTAssertTrue(header.contains("'<f8'") && header.contains("'fortran_order': False"), header)
    let shape = header.split(separator: "(")[1].split(separator: ")")[0]
      .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    XCTAssertEqual(shape.count, 2)
    XCTAssertEqual(shape[0], shape[1])
    let values = (0..<(shape[0] * shape[1])).map { i in
      Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + 8 * i + $1]) << (8 * $1) })
    }
    return (values, shape[0])
  }

  private struct GoldenCV { var trace, entropy, lambdaMax: Double; var eigenvalues: [Double] }

  private func loadCV(_ name: String) throws -> GoldenCV {
    let data = try Data(contentsOf: fixture(name, "cv.json"))
    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    return GoldenCV(
      trace: try XCTUnwrap(json["trace"] as? Double), entropy: try XCTUnwrap(json["entropy"] as? Double),
      lambdaMax: try XCTUnwrap(json["lambda_max"] as? Double),
      eigenvalues: try XCTUnwrap(json["eigenvalues"] as? [Double]))
  }
}
