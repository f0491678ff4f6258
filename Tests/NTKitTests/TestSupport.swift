import Foundation
import XCTest
@testable import NTKit

/// Shared helpers: fixture paths, golden cases, norm-wise comparison.
enum Fixtures {
  static var root: String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
  }
  static func path(_ relative: String) -> String { root + "/" + relative }
  static let goldenCases = [
    "01_dense_relu_standard", "02_dense_tanh_ntk", "03_dense_nobias_sigmoid_gelu",
    "04_cnn_tiny_digits", "05_cnn_stride2_ntk",
  ]
}

/// One golden case loaded from `Fixtures/golden/<name>`.
struct GoldenCase {
  let name: String
  let network: Network
  let parameters: ModelParameters
  let inputs: Tensor

  init(_ name: String) throws {
    self.name = name
    let dir = Fixtures.path("golden/\(name)")
    network = try Network(spec: ModelSpec.load(dir + "/model.json"), source: dir + "/model.json")
    parameters = try ModelParameters.load(dir + "/weights.safetensors", network: network)
    inputs = try InputData.load(dir + "/inputs.npy")
  }

  func reference(_ file: String) throws -> [Double] {
    try NPY.read(Fixtures.path("golden/\(name)/\(file)")).doubles()
  }
}

/// Tolerance of the golden comparisons: max|Δ| ≤ tol · max|reference|. The
/// issue's ceiling is 1e-4; a float32 engine reaches ~1e-6 on these cases,
/// so we hold ourselves to 2e-5 (clarifications.md).
let goldenTolerance = 2e-5

func assertClose<T: BinaryFloatingPoint, U: BinaryFloatingPoint>(
  _ actual: [T], _ expected: [U], tolerance: Double = goldenTolerance, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.count, expected.count, "\(what): element count", file: file, line: line)
  guard actual.count == expected.count else { return }
  var maxRef = 0.0, maxErr = 0.0
  for (a, e) in zip(actual, expected) {
    maxRef = max(maxRef, abs(Double(e)))
    maxErr = max(maxErr, abs(Double(a) - Double(e)))
  }
  XCTAssertLessThanOrEqual(maxErr, tolerance * max(maxRef, 1e-30),
                           "\(what): max|Δ| = \(maxErr), max|ref| = \(maxRef)", file: file, line: line)
}

func makeTempDirectory() -> String {
  let dir = NSTemporaryDirectory() + "ntkit-test-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

/// Θ of a golden case on a device, as [T].
func gram<T: DeviceScalar>(_ c: GoldenCase, device: any ComputeDevice = CPUDevice.shared, options: GramOptions = GramOptions(),
                           inputs2: Tensor? = nil, as: T.Type = Float.self) throws -> [T] {
  let n2 = inputs2?.rows ?? c.inputs.rows
  let mult = options.mode == .trace ? 1 : c.network.outputSize
  var out = [T](repeating: .nan, count: c.inputs.rows * mult * n2 * mult)
  _ = try out.withUnsafeMutableBufferPointer {
    try NTKGram.compute(network: c.network, parameters: c.parameters, inputs1: c.inputs, inputs2: inputs2,
                        device: device, options: options, output: $0)
  }
  return out
}
