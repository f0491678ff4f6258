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

/// The explicit-layer Gram kernel (`CPUDevice.explicitGram`,
/// `ntk_explicit_gram_f32`): out += X1·X2ᵀ in fixed chunks of 256, the same
/// bits on every instruction set (micro-tiles of 4, 6 and 8 rows; two
/// workers split the larger cases), upper triangle on diagonal tiles.
final class ExplicitGramKernelTests: XCTestCase {
  func testSameBitsOnEveryInstructionSetAndCloseToFloat64() throws {
    let device = CPUDevice.shared
    var rng = SeededRandom(seed: 9)
    // Rows/columns off every micro-tile (4×8, 6×16, 8×32) and k off the 256-value chunk.
    for (rows, cols, k, diagonal) in [(5, 7, 3, false), (29, 53, 300, false), (61, 61, 513, true), (100, 100, 257, true),
                                      (130, 70, 1000, false)] {
      let ld = k + 5
      let x2 = (0..<cols * ld).map { _ in Float(rng.normal()) }
      let x1 = diagonal ? x2 : (0..<rows * ld).map { _ in Float(rng.normal()) }
      var first: [Float]?
      for isa in CPUInstructionSet.allCases where isa <= CPUInstructionSet.widestSupported {
        do {
          var out = [Float](repeating: 0.25, count: rows * cols)
          try CPUConfiguration.withInstructionSet(isa) {
            try x1.withUnsafeBufferPointer { a in
              try x2.withUnsafeBufferPointer { b in
                try out.withUnsafeMutableBufferPointer { o in
                  try device.explicitGram(a.baseAddress!, ld1: ld, b.baseAddress!, ld2: ld, rows1: rows, rows2: cols, k: k,
                                          out: o.baseAddress!, ldo: cols, diagonal: diagonal)
                }
              }
            }
          }
          let label = "\(rows)×\(cols)×\(k) diagonal \(diagonal) \(isa.rawValue)"
          // Required entries: all, or those on and above the diagonal.
          var required = [Float]()
          for i in 0..<rows { for j in (diagonal ? i : 0)..<cols {
            var s = 0.25
            for p in 0..<k { s += Double(x1[i * ld + p]) * Double(x2[j * ld + p]) }
            XCTAssertEqual(Double(out[i * cols + j]), s, accuracy: 1e-5 * Double(k), label)
            required.append(out[i * cols + j])
          } }
          if let first {
            XCTAssertEqual(first.map(\.bitPattern), required.map(\.bitPattern), "\(label): bits differ")
          } else {
            first = required
          }
        }
      }
    }
  }
}

/// The fused structured kernel (`CPUDevice.fusedStructuredGram`,
/// `ntkit_fused_gram.c`): rows read in place (a partial last row panel packed
/// apart) or pre-packed, columns packed per call or pre-packed; the same bits
/// on every instruction set and path, close to a float64 reference, and the
/// upper triangle of diagonal tiles mirrored.
final class FusedGramKernelTests: XCTestCase {
  func testSameBitsOnEveryPathAndInstructionSet() throws {
    let device = CPUDevice.shared
    var rng = SeededRandom(seed: 5)
    for (rows, cols, dims, diagonal) in [(5, 7, [(3, 4)], false), (53, 61, [(13, 40), (8, 1)], false),
                                         (67, 67, [(20, 9), (33, 17)], true), (100, 100, [(7, 130)], true)] {
      let n1 = rows, n2 = cols
      var storage: [[Float]] = []
      for (ka, kg) in dims {
        storage.append((0..<n1 * ka).map { _ in Float(rng.normal()) })
        storage.append((0..<n1 * kg).map { _ in Float(rng.normal()) })
        storage.append(diagonal ? storage[storage.count - 2] : (0..<n2 * ka).map { _ in Float(rng.normal()) })
        storage.append(diagonal ? storage[storage.count - 2] : (0..<n2 * kg).map { _ in Float(rng.normal()) })
      }
      let pointers = storage.map { values -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        p.initialize(from: values, count: values.count)
        return p
      }
      defer { pointers.forEach { $0.deallocate() } }
      let layers = dims.enumerated().map { l, d in
        FusedStructuredLayer(a1: pointers[4 * l], a2: pointers[4 * l + 2], g1: pointers[4 * l + 1], g2: pointers[4 * l + 3],
                             ka: d.0, kg: d.1, scale: 0.5, c: 0.25)
      }
      var first: [Float]?
      for isa in CPUInstructionSet.allCases where isa <= CPUInstructionSet.widestSupported {
        // 0: packed per call; 1: pre-packed columns, rows in place; 2: rows pre-packed too.
        for mode in 0..<3 {
          var out = [Float](repeating: -1, count: n1 * n2)
          try CPUConfiguration.withInstructionSet(isa) {
            let columnCount = CPUDevice.fusedPackedCount(layers, n: n2, second: true)
            let rowCount = CPUDevice.fusedPackedCount(layers, n: n1, second: false)
            let storage = UnsafeMutablePointer<Float>.allocate(capacity: columnCount + rowCount + 32)
            defer { storage.deallocate() }
            let columns = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: storage) + 63) / 64 * 64)!
            let rowPanels = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: columns + columnCount) + 63) / 64 * 64)!
            if mode > 0 { device.packFused(layers, second: true, from: 0, count: n2, into: columns) }
            if mode > 1 { device.packFused(layers, second: false, from: 0, count: n1, into: rowPanels) }
            let packed: CPUDevice.FusedPacked? = mode == 0 ? nil
              : (rows: mode == 2 ? UnsafePointer(rowPanels) : nil, columns: UnsafePointer(columns))
            try out.withUnsafeMutableBufferPointer { o in
              try device.fusedStructuredGram(layers, rows1: n1, rows2: n2, out: o.baseAddress!, ldo: n2, diagonal: diagonal,
                                             packed: packed)
            }
          }
          let label = "\(rows)×\(cols) \(dims) diagonal \(diagonal) \(isa.rawValue) mode \(mode)"
          for i in 0..<n1 { for j in 0..<n2 {
            var s = 0.0
            for (l, d) in dims.enumerated() {
              var a = 0.0, g = 0.0
              for p in 0..<d.0 { a += Double(storage[4 * l][i * d.0 + p]) * Double(storage[4 * l + 2][j * d.0 + p]) }
              for p in 0..<d.1 { g += Double(storage[4 * l + 1][i * d.1 + p]) * Double(storage[4 * l + 3][j * d.1 + p]) }
              s += (0.5 * a + 0.25) * g
            }
            XCTAssertEqual(Double(out[i * n2 + j]), s, accuracy: 1e-4 * (1 + abs(s)), "\(label) (\(i), \(j))")
          } }
          if let first {
            XCTAssertEqual(first.map(\.bitPattern), out.map(\.bitPattern), "\(label): bits differ")
          } else {
            first = out
          }
        }
      }
    }
  }
}
