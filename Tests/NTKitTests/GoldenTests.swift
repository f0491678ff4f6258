import XCTest
@testable import NTKit

/// Every golden case (float64 JAX references) on every available device (the
/// CPU, then each OpenCL device: PoCL in CI): outputs, Jacobian, trace and
/// full NTK with automatic and both forced strategies, collective variables.
/// Every device is held to the same 2e-5 norm-wise tolerance; failures name
/// the device.
final class GoldenTests: XCTestCase {
  override func setUp() { TestDevices.assertAllOpened() }

  /// Runs `body` for each (device, case); `on` labels the device in messages.
  func forEachCase(_ body: (_ device: any ComputeDevice, _ c: GoldenCase, _ on: String) throws -> Void) throws {
    for device in TestDevices.all {
      for name in Fixtures.goldenCases {
        try body(device, try GoldenCase(name), "on \(device.label)")
      }
    }
  }

  func testOutputs() throws {
    try forEachCase { device, c, on in
      let y = try NetworkEvaluation.forward(network: c.network, parameters: c.parameters, inputs: c.inputs, device: device)
      assertClose(y, try c.reference("outputs.npy"), "\(c.name) outputs \(on)")
    }
  }

  func testJacobian() throws {
    try forEachCase { device, c, on in
      let j = try NetworkEvaluation.jacobian(network: c.network, parameters: c.parameters, inputs: c.inputs, device: device)
      assertClose(j, try c.reference("jacobian.npy"), "\(c.name) jacobian \(on)")
    }
  }

  func testTraceNTKBothStrategies() throws {
    try forEachCase { device, c, on in
      let reference = try c.reference("ntk_trace.npy")
      for force in [nil, LayerStrategy.structured, .explicit] {
        var options = GramOptions(mode: .trace)
        options.forceStrategy = force
        assertClose(try gram(c, device: device, options: options), reference,
                    "\(c.name) trace (\(force?.rawValue ?? "auto")) \(on)")
      }
    }
  }

  func testFullNTKBothStrategies() throws {
    try forEachCase { device, c, on in
      let reference = try c.reference("ntk_full.npy")
      for force in [nil, LayerStrategy.structured, .explicit] {
        var options = GramOptions(mode: .full)
        options.forceStrategy = force
        assertClose(try gram(c, device: device, options: options), reference,
                    "\(c.name) full (\(force?.rawValue ?? "auto")) \(on)")
      }
    }
  }

  /// Float64 end to end, on the devices that have it (PoCL does).
  func testFloat64PrecisionIsTighter() throws {
    try forEachCase { device, c, on in
      guard device.supports(.f64) else { return }
      let k: [Double] = try gram(c, device: device, as: Double.self)
      assertClose(k, try c.reference("ntk_trace.npy"), tolerance: 1e-9, "\(c.name) trace f64 \(on)")
    }
  }

  func testCollectiveVariables() throws {
    try forEachCase { device, c, on in
      let k: [Float] = try gram(c, device: device)
      let cv = try k.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: c.inputs.rows) }
      let ref = try JSONValue.parse(readWholeFile(Fixtures.path("golden/\(c.name)/cv.json")))
      let trace = ref["trace"]!.doubleValue!, entropy = ref["entropy"]!.doubleValue!, lmax = ref["lambda_max"]!.doubleValue!
      XCTAssertLessThanOrEqual(abs(cv.trace - trace) / trace, 2e-5, "\(c.name) trace \(on)")
      XCTAssertLessThanOrEqual(abs(cv.lambdaMax - lmax) / lmax, 2e-5, "\(c.name) lambda_max \(on)")
      XCTAssertLessThanOrEqual(abs(cv.entropy! - entropy), 2e-5, "\(c.name) entropy \(on)")
    }
  }
}
