import Foundation
import NTKit
import XCTest

/// `ntk gram` gives byte-identical Θ whatever the instruction set
/// (NTKIT_ISA) and worker count (NTKIT_THREADS), and `ntk stats` identical
/// output across instruction sets: the fused structured kernel and the
/// explicit (conv) Gram kernel have fixed reduction orders. Each run is a
/// separate process.
final class ReproducibleGramCLITests: XCTestCase {
  var dir = ""
  override func setUp() { dir = NTKBinary.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  /// Settings compared against the first; "" leaves the variable unset (the default).
  static let settings: [(isa: String, threads: String)] = [
    ("baseline", "1"), ("avx2", "3"), ("avx512", "1"), ("", "3"), ("avx2", "1"),
  ]

  func writeInputs(_ name: String, rows: Int, features: Int, seed: UInt64) throws -> String {
    var rng = SeededRandom(seed: seed)
    let data = (0..<rows * features).map { _ in Float(rng.normal()) }
    let path = dir + "/" + name
    try NPY.write(path, shape: [rows, features], floats: data)
    return path
  }

  func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  func checkIdentical(model: String, rows: Int, features: Int, extra: [String] = []) throws {
    let models = NTKBinary.packageRoot + "/Benchmarks/models/"
    let x = try writeInputs("x-\(rows).npy", rows: rows, features: features, seed: 7)
    var reference: (gram: Data, stats: String, direct: String)?
    for (k, s) in Self.settings.enumerated() {
      var env = ["NTKIT_THREADS": s.threads]
      if !s.isa.isEmpty { env["NTKIT_ISA"] = s.isa }
      let label = "\(model) NTKIT_ISA=\(s.isa.isEmpty ? "(default)" : s.isa) NTKIT_THREADS=\(s.threads) \(extra)"
      let out = dir + "/k\(k).npy"
      let g = try NTKBinary.run(["gram", "--model", models + model, "--seed", "0", "--inputs", x, "--out", out] + extra,
                                environment: env)
      XCTAssertEqual(g.status, 0, "\(label): \(g.stderr)")
      let st = try NTKBinary.run(["stats", "--kernel", out, "--json"], environment: env)
      XCTAssertEqual(st.status, 0, "\(label): \(st.stderr)")
      let direct = try NTKBinary.run(["stats", "--model", models + model, "--seed", "0", "--inputs", x, "--json"],
                                     environment: env)
      XCTAssertEqual(direct.status, 0, "\(label): \(direct.stderr)")
      // The JSON names the kernel file, which differs per setting.
      let now = (try bytes(out), st.stdout.replacingOccurrences(of: out, with: "k.npy"), direct.stdout)
      // Not a constant: the kernel has the requested size and is not all zeros.
      XCTAssertGreaterThan(now.0.count, rows * rows * 4, label)
      XCTAssertTrue(now.0.suffix(rows * rows * 4).contains { $0 != 0 }, label)
      if let reference {
        XCTAssertTrue(reference.gram == now.0, "Θ bytes differ: \(label) vs \(Self.settings[0])")
        // The collective variables too: up to N = 1024 the eigensolver is fixed-order.
        XCTAssertEqual(reference.stats, now.1, "stats --kernel differ: \(label)")
        XCTAssertEqual(reference.direct, now.2, "stats --model differ: \(label)")
      } else {
        reference = now
      }
    }
  }

  func testDenseMNISTGramAndStatsIdenticalAcrossISAAndThreads() throws {
    try checkIdentical(model: "mnist_dense_784_128_128_10.model.json", rows: 75, features: 784)
  }

  /// A conv net (Table A1): explicit Gram blocks, conv features, input
  /// cotangent and pooling all fixed-order (release builds also take the
  /// forward products off OpenBLAS: then Θ is the same bits on any CPU).
  func testConvGramIdenticalAcrossISAAndThreads() throws {
    try checkIdentical(model: "conv_mnist.model.json", rows: 12, features: 784)
  }

  func testFuelGramIdenticalAcrossISAAndThreadsWithSmallTiles() throws {
    try checkIdentical(model: "fuel_8_128_128_1.model.json", rows: 101, features: 8, extra: ["--block-size", "37"])
  }
}
