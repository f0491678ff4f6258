import XCTest
@testable import NTKit

/// Every golden case (float64 JAX references) on the CPU path: outputs,
/// Jacobian, trace and full NTK, collective variables.
final class GoldenTests: XCTestCase {
  func testOutputs() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let y = try NetworkEvaluation.forward(network: c.network, parameters: c.parameters, inputs: c.inputs, device: CPUDevice.shared)
      assertClose(y, try c.reference("outputs.npy"), "\(name) outputs")
    }
  }

  func testJacobian() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let j = try NetworkEvaluation.jacobian(network: c.network, parameters: c.parameters, inputs: c.inputs, device: CPUDevice.shared)
      assertClose(j, try c.reference("jacobian.npy"), "\(name) jacobian")
    }
  }

  func testTraceNTKBothStrategies() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let reference = try c.reference("ntk_trace.npy")
      for force in [nil, LayerStrategy.structured, .explicit] {
        var options = GramOptions(mode: .trace)
        options.forceStrategy = force
        assertClose(try gram(c, options: options), reference, "\(name) trace (\(force?.rawValue ?? "auto"))")
      }
    }
  }

  func testFullNTKBothStrategies() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let reference = try c.reference("ntk_full.npy")
      for force in [nil, LayerStrategy.structured, .explicit] {
        var options = GramOptions(mode: .full)
        options.forceStrategy = force
        assertClose(try gram(c, options: options), reference, "\(name) full (\(force?.rawValue ?? "auto"))")
      }
    }
  }

  func testFloat64PrecisionIsTighter() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let k: [Double] = try gram(c, as: Double.self)
      assertClose(k, try c.reference("ntk_trace.npy"), tolerance: 1e-9, "\(name) trace f64")
    }
  }

  func testCollectiveVariables() throws {
    for name in Fixtures.goldenCases {
      let c = try GoldenCase(name)
      let k: [Float] = try gram(c)
      let cv = try k.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: c.inputs.rows) }
      let ref = try JSONValue.parse(readWholeFile(Fixtures.path("golden/\(name)/cv.json")))
      let trace = ref["trace"]!.doubleValue!, entropy = ref["entropy"]!.doubleValue!, lmax = ref["lambda_max"]!.doubleValue!
      XCTAssertLessThanOrEqual(abs(cv.trace - trace) / trace, 2e-5, "\(name) trace")
      XCTAssertLessThanOrEqual(abs(cv.lambdaMax - lmax) / lmax, 2e-5, "\(name) lambda_max")
      XCTAssertLessThanOrEqual(abs(cv.entropy! - entropy), 2e-5, "\(name) entropy")
    }
  }
}
