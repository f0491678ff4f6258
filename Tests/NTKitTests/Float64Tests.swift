import Foundation
import XCTest
@testable import NTKit

/// `--precision f64` is float64 end to end: `<f8` and CSV inputs and F64
/// weights are not rounded to float32 on load, and forward, Jacobian, NTK and
/// collective variables agree with a float64 JAX reference at 1e-12 relative.
/// The fixtures (`Fixtures/f64`, made by `make_f64.py` with
/// shared/bench/reference.py) use values float32 cannot represent, so a
/// rounding anywhere on the way shows as an error of ~1e-8.
final class Float64Tests: XCTestCase {
  static let tolerance = 1e-12
  let cases = ["dense", "conv"]

  struct Case {
    let network: Network
    let parameters: ModelParameters
    let inputs: Tensor
    let dir: String
    let name: String

    init(_ name: String) throws {
      dir = Fixtures.path("f64")
      self.name = name
      let specPath = dir + "/\(name).model.json"
      network = try Network(spec: ModelSpec.load(specPath), source: specPath)
      parameters = try ModelParameters.load(dir + "/\(name).f64.safetensors", network: network)
      inputs = try InputData.load(dir + "/\(name).inputs.npy")
    }

    func reference(_ what: String) throws -> [Double] { try NPY.read(dir + "/\(name).\(what).npy").doubles() }
    var cv: JSONValue { get throws { try JSONValue.parse(readWholeFile(dir + "/\(name).cv.json")) } }
  }

  func testLoadingKeepsFloat64() throws {
    for name in cases {
      let c = try Case(name)
      XCTAssertNotNil(c.parameters.values64, name)
      XCTAssertNotNil(c.inputs.data64, name)
      // Really not float32 values: the fixture would not catch a rounding otherwise.
      XCTAssertTrue(zip(c.inputs.doubles, c.inputs.data).allSatisfy { $0 != Double($1) }, name)
      XCTAssertGreaterThan(zip(c.parameters.doubles, c.parameters.values).filter { $0 != Double($1) }.count,
                           c.network.parameterCount / 2, name)
    }
    // The CSV path keeps the cells' float64 values too.
    let csv = try InputData.load(Fixtures.path("f64/dense.inputs.csv"))
    XCTAssertEqual(csv.data64, try Case("dense").inputs.data64)
  }

  func testForwardJacobianAndNTKMatchTheFloat64Reference() throws {
    TestDevices.assertAllOpened()
    for name in cases {
      let c = try Case(name)
      for device in TestDevices.all where device.supports(.f64) {
        let at = "\(name) on \(device.label)"
        let f: [Double] = try NetworkEvaluation.forward(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                         device: device, as: Double.self)
        assertClose(f, try c.reference("forward"), tolerance: Self.tolerance, "\(at): forward")
        let j: [Double] = try NetworkEvaluation.jacobian(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                          device: device, as: Double.self)
        assertClose(j, try c.reference("jacobian"), tolerance: Self.tolerance, "\(at): jacobian")
        for mode in [NTKMode.trace, .full] {
          let mult = mode == .trace ? 1 : c.network.outputSize
          var k = [Double](repeating: .nan, count: c.inputs.rows * c.inputs.rows * mult * mult)
          _ = try k.withUnsafeMutableBufferPointer {
            try NTKGram.compute(network: c.network, parameters: c.parameters, inputs1: c.inputs, device: device,
                                options: GramOptions(mode: mode), output: $0)
          }
          assertClose(k, try c.reference(mode == .trace ? "ntk_trace" : "ntk_full"), tolerance: Self.tolerance, "\(at): \(mode) NTK")
        }
      }
    }
  }

  /// The same computation from float32-rounded weights misses the tolerance:
  /// the comparison above can fail.
  func testFloat32RoundingWouldBeCaught() throws {
    let c = try Case("dense")
    let rounded = ModelParameters(values: c.parameters.values)
    XCTAssertNil(rounded.values64)
    let f: [Double] = try NetworkEvaluation.forward(network: c.network, parameters: rounded, inputs: c.inputs,
                                                     device: CPUDevice.shared, as: Double.self)
    let ref = try c.reference("forward")
    let err = zip(f, ref).map { abs($0 - $1) }.max()! / ref.map(abs).max()!
    XCTAssertGreaterThan(err, 100 * Self.tolerance)
  }

  func testCollectiveVariablesOfFloat64Kernels() throws {
    for name in cases {
      let c = try Case(name)
      let cv = try c.cv
      func check(_ got: CollectiveVariables, _ prefix: String) {
        for (key, value) in [("trace", got.trace), ("entropy", got.entropy ?? .nan), ("lambda_max", got.lambdaMax)] {
          let want = cv["\(prefix)\(key)"]!.doubleValue!
          XCTAssertLessThanOrEqual(abs(value - want), Self.tolerance * abs(want), "\(name): \(prefix)\(key) \(value) vs \(want)")
        }
      }
      // <f8 kernel files stay float64; a full-mode [N, M, N, M] kernel is read as NM × NM.
      let trace = try KernelFile.load(c.dir + "/\(name).ntk_trace.npy")
      XCTAssertNil(trace.floats)
      check(try CollectiveVariables.compute(kernel: trace.doubles!, n: trace.n, method: .exact), "")
      let full = try KernelFile.load(c.dir + "/\(name).ntk_full.npy")
      XCTAssertEqual(full.n, c.inputs.rows * c.network.outputSize)
      check(try CollectiveVariables.compute(kernel: full.doubles!, n: full.n, method: .exact), "full_")
      // Lanczos on the float64 matrix finds the same largest eigenvalue.
      let top = try CollectiveVariables.compute(kernel: trace.doubles!, n: trace.n, method: .lanczos(k: 2))
      XCTAssertEqual(top.lambdaMax, cv["lambda_max"]!.doubleValue!, accuracy: 1e-10 * top.lambdaMax)
    }
  }

  func testKernelFileShapes() throws {
    let dir = makeTempDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try NPY.write(dir + "/k.npy", shape: [2, 3, 2], doubles: .init(repeating: 1, count: 12))
    XCTAssertThrowsError(try KernelFile.load(dir + "/k.npy")) { XCTAssertTrue("\($0)".contains("[N, M, N, M]"), "\($0)") }
    try NPY.write(dir + "/f.npy", shape: [2, 1, 2, 1], floats: [2, 1, 1, 3])
    let k = try KernelFile.load(dir + "/f.npy")
    XCTAssertEqual(k.n, 2)
    XCTAssertEqual(k.floats, [2, 1, 1, 3])
  }

  /// Changing the float32 values drops the float64 copy, so it never goes stale.
  func testMutationDropsTheFloat64Copy() throws {
    var x = Tensor(shape: [2, 1], doubles: [0.1, 0.2])
    XCTAssertEqual(x.slice(rows: 1..<2).data64, [0.2])
    XCTAssertEqual(x.gatherRows([1, 0]).data64, [0.2, 0.1])
    x.data[0] = 5
    XCTAssertNil(x.data64)
    var p = ModelParameters(doubles: [0.1, 0.3])
    XCTAssertEqual(p.doubles, [0.1, 0.3])
    p.values[1] = 1
    XCTAssertNil(p.values64)
    XCTAssertEqual(p.doubles, [Double(Float(0.1)), 1])
    // Standardising float64 inputs stays in float64.
    let s = Standardizer.fit(Tensor(shape: [2, 1], doubles: [0.1, 0.3]))
    XCTAssertEqual(try s.apply(Tensor(shape: [1, 1], doubles: [0.2])).data64!, [0], accuracy: 1e-15)
  }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.count, b.count, file: file, line: line)
  for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
