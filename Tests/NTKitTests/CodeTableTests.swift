import CFastMLP
import CNTKitCPU
import Foundation
import XCTest
@testable import NTKit

/// The metric and activation codes have one table (ntkit_codes.h): Swift's
/// enums return its macros, the CFastMLP kernels use them, and every OpenCL
/// program is prefixed with the same names and values (CLCodeTable).
final class CodeTableTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// `#define NTK_<prefix>_NAME value` lines of a source file.
  func defines(_ relativePath: String, prefix: String) throws -> [String: Int32] {
    defines(text: try String(contentsOf: CodeTableTests.root.appendingPathComponent(relativePath), encoding: .utf8),
            named: relativePath, prefix: prefix)
  }

  func defines(text: String, named relativePath: String, prefix: String) -> [String: Int32] {
    var out: [String: Int32] = [:]
    for line in text.split(separator: "\n") {
      let words = line.split(separator: " ", omittingEmptySubsequences: true)
      guard words.count == 3, words[0] == "#define", words[1].hasPrefix(prefix), let v = Int32(words[2]) else { continue }
      XCTAssertNil(out[String(words[1])], "\(relativePath) defines \(words[1]) twice")
      out[String(words[1])] = v
    }
    return out
  }

  let swiftMetrics: [String: Int32] = [
    "NTK_METRIC_MSE": DistanceMetric.mse.code, "NTK_METRIC_L1": DistanceMetric.l1.code,
    "NTK_METRIC_L2": DistanceMetric.l2.code, "NTK_METRIC_LP": DistanceMetric.lp(3).code,
    "NTK_METRIC_COSINE": DistanceMetric.cosine.code, "NTK_METRIC_ANGULAR": DistanceMetric.angular.code,
  ]
  let swiftActivations: [String: Int32] = [
    "NTK_ACT_IDENTITY": Activation.identity.code, "NTK_ACT_RELU": Activation.relu.code,
    "NTK_ACT_TANH": Activation.tanh.code, "NTK_ACT_SIGMOID": Activation.sigmoid.code,
    "NTK_ACT_GELU": Activation.gelu.code, "NTK_ACT_SOFTPLUS": Activation.softplus.code,
    "NTK_ACT_SILU": Activation.silu.code, "NTK_ACT_LEAKY_RELU": Activation.leakyRelu(alpha: 0.1).code,
  ]

  func testSwiftCodesEqualTheCHeader() throws {
    let header = "Sources/CNTKitCPU/include/ntkit_codes.h"
    XCTAssertEqual(try defines(header, prefix: "NTK_METRIC_"), swiftMetrics)
    XCTAssertEqual(try defines(header, prefix: "NTK_ACT_"), swiftActivations)
    // The macros as Swift imports them (what the CFastMLP kernels are compiled with).
    XCTAssertEqual([NTK_METRIC_MSE, NTK_METRIC_L1, NTK_METRIC_L2], [DistanceMetric.mse.code, DistanceMetric.l1.code, DistanceMetric.l2.code])
    XCTAssertEqual([NTK_ACT_IDENTITY, NTK_ACT_RELU, NTK_ACT_LEAKY_RELU],
                   [Activation.identity.code, Activation.relu.code, Activation.leakyRelu(alpha: 0.1).code])
    // Distinct codes within each table.
    XCTAssertEqual(Set(swiftMetrics.values).count, swiftMetrics.count)
    XCTAssertEqual(Set(swiftActivations.values).count, swiftActivations.count)
  }

  func testOpenCLSourcesMirrorTheCHeader() throws {
    // What every OpenCL program starts with: the whole table, nothing else.
    XCTAssertEqual(defines(text: CLCodeTable.prelude, named: "prelude", prefix: "NTK_METRIC_"), swiftMetrics)
    XCTAssertEqual(defines(text: CLCodeTable.prelude, named: "prelude", prefix: "NTK_ACT_"), swiftActivations)
    XCTAssertEqual(CLCodeTable.prelude.split(separator: "\n").count, swiftMetrics.count + swiftActivations.count)
    // The sources keep no copy of their own (it could drift from the header).
    XCTAssertEqual(try defines("Kernels/cl/pool_distance.cl", prefix: "NTK_METRIC_"), [:])
    XCTAssertEqual(try defines("Kernels/cl/activation.cl", prefix: "NTK_ACT_"), [:])
    // The kernels branch on the names, not on bare numbers.
    let distance = try String(contentsOf: CodeTableTests.root.appendingPathComponent("Kernels/cl/pool_distance.cl"), encoding: .utf8)
    XCTAssertNil(distance.range(of: #"metric == [0-9]"#, options: .regularExpression))
    let activation = try String(contentsOf: CodeTableTests.root.appendingPathComponent("Kernels/cl/activation.cl"), encoding: .utf8)
    XCTAssertNil(activation.range(of: #"case [0-9]+:"#, options: .regularExpression))
  }

  /// The CFastMLP kernels read the codes as the CPU device means them.
  func testFusedKernelsAgreeWithTheDeviceOnEachCode() throws {
    var rng = SeededRandom(seed: 7, stream: "codes")
    let n = 9, m = 5
    let a = (0..<n * m).map { _ in Float(rng.normal()) }, b = (0..<n * m).map { _ in Float(rng.normal()) }
    let device = CPUDevice.shared
    for metric in [DistanceMetric.mse, .l1, .l2] {
      var fused = [Float](repeating: 0, count: n)
      ntk_fm_distances(a, b, n, m, metric.code, &fused)
      let da = try device.upload(a), db = try device.upload(b), out = try device.makeBuffer(Float.self, count: n)
      try device.rowDistances(metric, a: da.view, b: db.view, out: out.view, n: n, d: m)
      let generic = try device.download(out.view, count: n)
      for i in 0..<n { XCTAssertEqual(fused[i], generic[i], accuracy: 1e-5 * max(1, abs(generic[i])), "\(metric) row \(i)") }
    }
    // Activations: leaky relu by its code scales negatives, relu zeroes them.
    let x: [Float] = [-2, 3], w: [Float] = [1]
    var y = [Float](repeating: 0, count: 2)
    ntk_fm_affine_forward(x, 2, 1, w, 1, 1, nil, 0, Activation.leakyRelu(alpha: 0.5).code, 0.5, &y)
    XCTAssertEqual(y, [-1, 3])
    ntk_fm_affine_forward(x, 2, 1, w, 1, 1, nil, 0, Activation.relu.code, 0, &y)
    XCTAssertEqual(y, [0, 3])
    ntk_fm_affine_forward(x, 2, 1, w, 1, 1, nil, 0, Activation.identity.code, 0, &y)
    XCTAssertEqual(y, [-2, 3])
  }
}
