import Foundation
import NTKit
import XCTest

/// `mpirun -n P ntk-mpi gram|stats` equals `ntk gram|stats` (gram 1e-6
/// relative, stats 1e-8) for P = 1, 2, 4 (oversubscribed), dense and conv
/// nets, trace and full, --inputs2, N not divisible by P nor by the tile
/// size, and ranks that get no tile.
final class MPIGramStatsTests: XCTestCase {
  var dir = ""
  override func setUp() { dir = MPIHarness.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  /// Dense 5 → 16 tanh → 12 relu → 3 (M = 3).
  func denseModel() throws -> String {
    let path = dir + "/dense.json"
    try MPIHarness.write("""
      {"input_shape": [5], "parameterization": "ntk", "layers": [
        {"type": "dense", "units": 16}, {"type": "tanh"}, {"type": "dense", "units": 12}, {"type": "relu"},
        {"type": "dense", "units": 3}]}
      """, to: path)
    return path
  }

  /// Conv 6×6×1 → conv 2×2×3 relu → avgpool → flatten → dense 2.
  func convModel() throws -> String {
    let path = dir + "/conv.json"
    try MPIHarness.write("""
      {"input_shape": [6, 6, 1], "parameterization": "standard", "layers": [
        {"type": "conv2d", "filters": 3, "kernel": [2, 2], "stride": [1, 1], "padding": "valid"}, {"type": "relu"},
        {"type": "avgpool2d", "window": [2, 2], "stride": [2, 2]}, {"type": "flatten"}, {"type": "dense", "units": 2}]}
      """, to: path)
    return path
  }

  func compareGram(model: String, inputs: String, extra: [String], ranks: [Int], tile: String, label: String) throws {
    let ref = dir + "/ref-\(label).npy"
    let r = try MPIHarness.single(["gram", "--model", model, "--seed", "3", "--inputs", inputs, "--device", "cpu", "--out", ref] + extra)
    XCTAssertEqual(r.status, 0, r.stderr)
    for p in ranks {
      let out = dir + "/mpi-\(label)-\(p).npy"
      let m = try MPIHarness.mpi(p, ["gram", "--model", model, "--seed", "3", "--inputs", inputs, "--out", out, "--block-size", tile] + extra)
      XCTAssertEqual(m.status, 0, "\(label) -n \(p): \(m.stderr)")
      let a = try NPY.read(out), b = try NPY.read(ref)
      XCTAssertEqual(a.shape, b.shape, "\(label) -n \(p)")
      XCTAssertEqual(a.dtype, b.dtype, "\(label) -n \(p)")
      let err = MPIHarness.relativeError(a.doubles(), b.doubles())
      XCTAssertLessThanOrEqual(err, 1e-6, "\(label) -n \(p): relative error \(err)")
      XCTAssertTrue(MPIHarness.files(dir, prefix: "mpi-\(label)-\(p).npy.tmp").isEmpty, "temporary file left behind")
    }
  }

  func testDenseTraceAndFullAcrossRankCounts() throws {
    let x = dir + "/x.npy"
    try MPIHarness.writeInputs(x, shape: [101, 5])  // 101: not divisible by 2, 4 or the tile 16
    let model = try denseModel()
    try compareGram(model: model, inputs: x, extra: [], ranks: [1, 2, 4], tile: "16", label: "trace")
    try compareGram(model: model, inputs: x, extra: ["--mode", "full"], ranks: [1, 2, 4], tile: "23", label: "full")
    try compareGram(model: model, inputs: x, extra: ["--precision", "f64"], ranks: [3], tile: "30", label: "f64")
  }

  func testInputs2AndRanksWithoutTiles() throws {
    let x = dir + "/x.npy", x2 = dir + "/x2.npy"
    try MPIHarness.writeInputs(x, shape: [20, 5])   // tile 16: 3 upper-triangle tiles over 4 ranks
    try MPIHarness.writeInputs(x2, shape: [9, 5])
    let model = try denseModel()
    try compareGram(model: model, inputs: x, extra: [], ranks: [4], tile: "16", label: "idle")
    try compareGram(model: model, inputs: x, extra: ["--inputs2", x2, "--mode", "full"], ranks: [2, 4], tile: "7", label: "cross")
  }

  func testConvTraceAndFull() throws {
    let x = dir + "/img.npy"
    try MPIHarness.writeInputs(x, shape: [37, 6, 6, 1])
    let model = try convModel()
    try compareGram(model: model, inputs: x, extra: [], ranks: [2, 4], tile: "10", label: "conv")
    try compareGram(model: model, inputs: x, extra: ["--mode", "full"], ranks: [3], tile: "8", label: "convfull")
  }

  func testStatsExactAndLanczosMatchSingleProcess() throws {
    let x = dir + "/x.npy", k = dir + "/k.npy"
    try MPIHarness.writeInputs(x, shape: [203, 5])
    let model = try denseModel()
    XCTAssertEqual(try MPIHarness.single(["gram", "--model", model, "--inputs", x, "--device", "cpu", "--out", k]).status, 0)
    for method in ["exact", "lanczos"] {
      let r = try MPIHarness.single(["stats", "--kernel", k, "--method", method, "--json"])
      XCTAssertEqual(r.status, 0, r.stderr)
      let ref = try MPIHarness.json(r.stdout)
      for p in [1, 2, 4] {
        let m = try MPIHarness.mpi(p, ["stats", "--kernel", k, "--method", method, "--json"])
        XCTAssertEqual(m.status, 0, "\(method) -n \(p): \(m.stderr)")
        XCTAssertEqual(m.stdout.split(separator: "\n").count, 1, "one JSON line from rank 0 only")
        let got = try MPIHarness.json(m.stdout)
        for key in ["trace", "lambda_max"] + (method == "exact" ? ["entropy"] : []) {
          let a = got[key] as? Double ?? .nan, b = ref[key] as? Double ?? .nan
          XCTAssertLessThanOrEqual(abs(a - b), 1e-8 * abs(b), "\(method) -n \(p) \(key): \(a) vs \(b)")
        }
        let ta = got["top_eigenvalues"] as? [Double] ?? [], tb = ref["top_eigenvalues"] as? [Double] ?? []
        XCTAssertEqual(ta.count, tb.count)
        XCTAssertLessThanOrEqual(MPIHarness.relativeError(ta, tb), 1e-8, "\(method) -n \(p) eigenvalues")
      }
    }
    // --spectrum: every eigenvalue, written once.
    let spectrum = dir + "/spectrum.npy"
    XCTAssertEqual(try MPIHarness.mpi(2, ["stats", "--kernel", k, "--method", "exact", "--spectrum", spectrum]).status, 0)
    let single = dir + "/spectrum1.npy"
    XCTAssertEqual(try MPIHarness.single(["stats", "--kernel", k, "--method", "exact", "--spectrum", single]).status, 0)
    XCTAssertLessThanOrEqual(MPIHarness.relativeError(try MPIHarness.values(spectrum), try MPIHarness.values(single)), 1e-8)
  }
}
