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

  /// Fixtures folder holding the case: "golden" (public) or "extra" (`Fixtures/extra`).
  let folder: String

  init(_ name: String, folder: String = "golden") throws {
    self.name = name
    self.folder = folder
    let dir = Fixtures.path("\(folder)/\(name)")
    network = try Network(spec: ModelSpec.load(dir + "/model.json"), source: dir + "/model.json")
    parameters = try ModelParameters.load(dir + "/weights.safetensors", network: network)
    inputs = try InputData.load(dir + "/inputs.npy")
  }

  func reference(_ file: String) throws -> [Double] {
    try NPY.read(Fixtures.path("\(folder)/\(name)/\(file)")).doubles()
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
  var firstNonFinite: Int?
  for (k, (a, e)) in zip(actual, expected).enumerated() {
    // Swift's max() drops a NaN operand, so a NaN entry would otherwise pass silently.
    if !Double(a).isFinite || !Double(e).isFinite {
      if firstNonFinite == nil { firstNonFinite = k }
      continue
    }
    maxRef = max(maxRef, abs(Double(e)))
    maxErr = max(maxErr, abs(Double(a) - Double(e)))
  }
  if let k = firstNonFinite {
    XCTFail("\(what): non-finite value at flat index \(k): actual \(actual[k]), expected \(expected[k])", file: file, line: line)
  }
  XCTAssertLessThanOrEqual(maxErr, tolerance * max(maxRef, 1e-30),
                           "\(what): max|Δ| = \(maxErr), max|ref| = \(maxRef)", file: file, line: line)
}

/// Every device the golden and conformance suites run on: `CPUDevice.shared`
/// first, then each OpenCL device the loader lists (PoCL in CI), opened once
/// per process so PoCL's kernel builds are shared by all tests. A platform
/// that lists a device which then fails to open is a test failure
/// (`openFailures`), not a silent skip.
enum TestDevices {
  /// Sets `POCL_CACHE_DIR` to a temporary folder when unset: an unwritable
  /// PoCL cache makes `clGetDeviceIDs` fail (platform.md).
  static func ensurePoCLCache() {
    if getenv("POCL_CACHE_DIR") == nil {
      let dir = NSTemporaryDirectory() + "ntkit-pocl-cache"
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      setenv("POCL_CACHE_DIR", dir, 1)
    }
  }

  private static let opened: (devices: [any ComputeDevice], failures: [String]) = {
    ensurePoCLCache()
    var devices: [any ComputeDevice] = [CPUDevice.shared]
    var failures: [String] = []
    for info in DeviceSelector.listAll() where info.kind == .opencl {
      let parts = info.identifier.split(separator: ":").compactMap { Int($0) }
      guard parts.count == 2 else { failures.append("\(info.identifier): bad identifier"); continue }
      do {
        devices.append(try OpenCLDevice(platform: parts[0], device: parts[1]))
      } catch {
        failures.append("\(info.identifier) (\(info.name)): \(error)")
      }
    }
    return (devices, failures)
  }()

  /// CPU, then every OpenCL device that opened.
  static var all: [any ComputeDevice] { opened.devices }

  /// Fails the calling test for each OpenCL device that is listed but does
  /// not open, and, when `NTKIT_REQUIRE_OPENCL=1` (CI with PoCL installed),
  /// when there is no OpenCL device at all, so that the golden suites cannot
  /// quietly run on the CPU only.
  static func assertAllOpened(file: StaticString = #filePath, line: UInt = #line) {
    for failure in opened.failures { XCTFail("OpenCL device failed to open: \(failure)", file: file, line: line) }
    if getenv("NTKIT_REQUIRE_OPENCL").map({ String(cString: $0) }) == "1", opened.devices.count < 2 {
      XCTFail("NTKIT_REQUIRE_OPENCL=1 but the OpenCL loader lists no device (install pocl-opencl-icd; "
              + "check OCL_ICD_VENDORS and POCL_CACHE_DIR)", file: file, line: line)
    }
  }
}

extension ComputeDevice {
  /// "cpu" or "opencl:0:0 (pthread-…)", for failure messages.
  var label: String { info.kind == .opencl ? "\(info.identifier) (\(info.name))" : info.identifier }
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
