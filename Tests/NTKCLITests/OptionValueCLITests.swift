import Foundation
import NTKit
import XCTest

/// The option enums read by swift-argument-parser (`ExpressibleByArgument`):
/// a bad value is a usage error (exit 2, nothing written) that names the value
/// and lists the valid ones; names parse as the library parses them
/// (case-insensitive, with its aliases).
final class OptionValueCLITests: XCTestCase {
  let golden = NTKBinary.fixtures + "/golden/02_dense_tanh_ntk"  // N = 12, 8 features, M = 3
  var dir = ""

  override func setUp() { dir = NTKBinary.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func path(_ name: String) -> String { dir + "/" + name }
  var gram: [String] {
    ["gram", "--model", golden + "/model.json", "--weights", golden + "/weights.safetensors",
     "--inputs", golden + "/inputs.npy", "--device", "cpu", "--out", path("k.npy")]
  }

  func assertRefused(_ arguments: [String], value: String, valid: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let r = try NTKBinary.run(arguments)
    XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
    XCTAssertTrue(r.stderr.contains("'\(value)'"), "the value is named: \(r.stderr)", file: file, line: line)
    for v in valid { XCTAssertTrue(r.stderr.contains(v), "'\(v)' listed: \(r.stderr)", file: file, line: line) }
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("k.npy")), file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("idx.npy")), file: file, line: line)
  }

  func testBadValuesAreUsageErrorsListingTheValidOnes() throws {
    try assertRefused(gram + ["--mode", "diagonal"], value: "diagonal", valid: ["trace", "full"])
    try assertRefused(gram + ["--precision", "f16"], value: "f16", valid: ["f32", "f64"])
    try assertRefused(gram + ["--convention", "jax"], value: "jax", valid: ["ntkit", "nt"])
    try assertRefused(["stats", "--kernel", golden + "/ntk_trace.npy", "--method", "qr"], value: "qr", valid: ["exact", "lanczos", "auto"])
    let select = ["select", "--pool", golden + "/inputs.npy", "--size", "3", "--out", path("idx.npy")]
    try assertRefused(select + ["--method", "best"], value: "best", valid: ["rnd", "random", "kcenter"])
    try assertRefused(select + ["--distance", "lp:-1"], value: "lp:-1", valid: ["lp:<p>", "mahalanobis"])
    try assertRefused(select + ["--device", "tpu"], value: "tpu", valid: ["auto", "cpu", "opencl"])
    let train = ["train", "--model", golden + "/model.json", "--train", golden + "/inputs.npy", "--labels", golden + "/outputs.npy",
                 "--epochs", "1", "--out", path("w.safetensors")]
    try assertRefused(train + ["--loss", "hinge"], value: "hinge", valid: ["mse", "cross_entropy"])
    try assertRefused(train + ["--optimizer", "lbfgs"], value: "lbfgs", valid: ["adam", "sgd"])
    let experiment = ["experiment", "compare", "--out-dir", path("out")]
    try assertRefused(experiment + ["--dataset", "cifar"], value: "cifar", valid: ["fuel", "mnist"])
    try assertRefused(experiment + ["--parameterization", "mup"], value: "mup", valid: ["standard", "ntk"])
  }

  func testNamesParseAsTheLibraryParsesThem() throws {
    let r = try NTKBinary.run(gram + ["--convention", "NT", "--mode", "trace", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains(#""convention":"nt""#) && r.stdout.contains(#""precision":"f32""#), r.stdout)
    let k = try NPY.read(path("k.npy")).doubles(), ref = try NPY.read(golden + "/ntk_trace.npy").doubles()
    XCTAssertEqual(k.count, ref.count)
    // The nt convention averages the trace over the M = 3 outputs.
    for (a, b) in zip(k, ref) { XCTAssertEqual(a, b / 3, accuracy: 1e-4 * max(abs(b), 1)) }
    let s = try NTKBinary.run(["select", "--pool", golden + "/inputs.npy", "--size", "3", "--method", "k-center",
                               "--out", path("idx.npy"), "--json"])
    XCTAssertEqual(s.status, 0, s.stderr)
    XCTAssertTrue(s.stdout.contains(#""method":"kcenter""#), s.stdout)
  }
}
