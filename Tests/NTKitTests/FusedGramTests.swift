import XCTest
@testable import NTKit

/// The fused structured kernel (CPU, float32, trace mode) on every
/// instruction set this CPU has: golden Grams at float32 tolerance for several
/// block sizes, byte-identical results across instruction sets, and odd
/// shapes (partial micro-tiles, X₂ ≠ X₁) against the float64 per-layer path.
final class FusedGramTests: XCTestCase {
  static var instructionSets: [CPUInstructionSet] {
    CPUInstructionSet.allCases.filter { $0 <= CPUInstructionSet.widestSupported }
  }

  func testGoldenTraceOnEveryInstructionSetAndBlockSize() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let reference = try c.reference("ntk_trace.npy")
      for block in [nil, 1, 2, 5, 64] as [Int?] {
        for force in [nil, LayerStrategy.structured] {
          var options = GramOptions(mode: .trace)
          options.blockSize = block
          options.forceStrategy = force
          var first: [Float]?
          for isa in Self.instructionSets {
            let k: [Float] = try CPUConfiguration.withInstructionSet(isa) {
              XCTAssertEqual(CPUConfiguration.activeInstructionSet, isa)
              return try gram(c, options: options)
            }
            let label = "\(name) \(isa.rawValue) block \(block.map(String.init) ?? "auto") \(force?.rawValue ?? "auto")"
            assertClose(k, reference, label)
            if let first {
              XCTAssertEqual(first.map(\.bitPattern), k.map(\.bitPattern), "\(label): bits differ from \(Self.instructionSets[0])")
            } else {
              first = k
            }
          }
        }
      }
    }
  }

  /// Sizes that leave partial micro-tiles on every kernel (4×8, 6×16, 8×32),
  /// a wide first layer and a cross Gram, against float64 (the per-layer path).
  func testOddShapesMatchFloat64AndAreIdenticalAcrossInstructionSets() throws {
    let spec = ModelSpec(inputShape: [37], layers: [.dense(45), .activation(.relu), .dense(19), .activation(.tanh), .dense(3)])
    let network = try Network(spec: spec, source: "odd")
    let parameters = ModelParameters(initializing: network, seed: 3)
    var rng = SeededRandom(seed: 11)
    let x1 = Tensor(shape: [29, 37], data: (0..<29 * 37).map { _ in Float(rng.normal()) })
    let x2 = Tensor(shape: [53, 37], data: (0..<53 * 37).map { _ in Float(rng.normal()) })
    var reference = [Double](repeating: 0, count: 29 * 53)
    _ = try reference.withUnsafeMutableBufferPointer {
      try NTKGram.compute(network: network, parameters: parameters, inputs1: x1, inputs2: x2,
                          device: CPUDevice.shared, output: $0)
    }
    var first: [Float]?
    for isa in Self.instructionSets {
      var k = [Float](repeating: .nan, count: 29 * 53)
      _ = try CPUConfiguration.withInstructionSet(isa) {
        try k.withUnsafeMutableBufferPointer {
          try NTKGram.compute(network: network, parameters: parameters, inputs1: x1, inputs2: x2,
                              device: CPUDevice.shared, output: $0)
        }
      }
      let scale = reference.map(abs).max()!
      XCTAssertGreaterThan(scale, 0)
      let error = zip(k, reference).map { abs(Double($0) - $1) }.max()!
      XCTAssertLessThanOrEqual(error, 2e-5 * scale, "\(isa.rawValue): max error \(error) (scale \(scale))")
      if let first {
        XCTAssertEqual(first.map(\.bitPattern), k.map(\.bitPattern), "\(isa.rawValue): bits differ")
      } else {
        first = k
      }
    }
  }
}
