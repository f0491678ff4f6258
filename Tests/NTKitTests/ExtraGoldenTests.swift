import XCTest
@testable import NTKit

/// Extra float64 reference cases (`Fixtures/extra`, made by `make_cases.py`):
/// activations, weight dtypes, N = 1, pooling strides, SAME padding of even
/// kernels, bias-free layers, gelu in conv nets. Trace and full NTK on every
/// available device (CPU, then each OpenCL device), automatic and both forced
/// strategies, at the 2e-5 golden tolerance for every device.
final class ExtraGoldenTests: XCTestCase {
  override func setUp() { TestDevices.assertAllOpened() }

  static let cases = [
    "a_dense_acts_ntk", "b_dense_acts_f16", "c_dense_acts_bf16", "d_dense_acts_f64", "e_single_sample",
    "f_conv_pool_stride_same", "g_dense_nobias_middle", "h_conv_gelu",
  ]

  func load(_ name: String) throws -> GoldenCase { try GoldenCase(name, folder: "extra") }

  func check(_ mode: NTKMode, file: String) throws {
    for device in TestDevices.all { try check(mode, file: file, on: device) }
  }

  func check(_ mode: NTKMode, file: String, on device: any ComputeDevice) throws {
    let on = "on \(device.label)"
    for name in Self.cases {
      let c = try load(name)
      let reference = try c.reference(file)
      let mult = mode == .trace ? 1 : c.network.outputSize
      XCTAssertEqual(reference.count, c.inputs.rows * c.inputs.rows * mult * mult, "\(name) \(file) size")
      for force in [nil, LayerStrategy.structured, .explicit] {
        for lower in [false, true] {
          var options = GramOptions(mode: mode)
          options.forceStrategy = force
          options.computeLowerTriangle = lower
          assertClose(try gram(c, device: device, options: options), reference,
                      "\(name) \(mode) (\(force?.rawValue ?? "auto"), lower \(lower)) \(on)")
        }
      }
      // float64 engine: only the float32 rounding of weights/inputs is shared, so it is much tighter.
      guard device.supports(.f64) else { continue }
      var options = GramOptions(mode: mode)
      options.forceStrategy = .explicit
      assertClose(try gram(c, device: device, options: options, as: Double.self), reference, tolerance: 1e-9,
                  "\(name) \(mode) f64 \(on)")
    }
  }

  func testTraceNTK() throws { try check(.trace, file: "ntk_trace.npy") }
  func testFullNTK() throws { try check(.full, file: "ntk_full.npy") }

  /// The dtype cases share one spec; their weights really are stored in the named dtype.
  func testWeightDtypesAreAsNamed() throws {
    for (name, dtype) in [("a_dense_acts_ntk", "F32"), ("b_dense_acts_f16", "F16"), ("c_dense_acts_bf16", "BF16"),
                          ("d_dense_acts_f64", "F64")] {
      let bytes = try readWholeFile(Fixtures.path("extra/\(name)/weights.safetensors"))
      let header = String(decoding: bytes.prefix(400), as: UTF8.self)
      XCTAssertTrue(header.contains("\"dtype\":\"\(dtype)\""), "\(name): \(header.prefix(120))")
    }
  }
}
