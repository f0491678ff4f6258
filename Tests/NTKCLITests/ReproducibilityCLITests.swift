import Foundation
import NTKit
import XCTest

/// Issue 12, point 3: the same seed gives byte-identical picks and experiment
/// outputs whatever instruction set (`NTKIT_ISA`) and worker count
/// (`NTKIT_THREADS`) the CPU kernels run with. Each test runs the built `ntk`
/// under several settings and compares the output files byte for byte
/// (timings, which are the only fields allowed to differ, are removed first).
final class ReproducibilityCLITests: XCTestCase {
  /// Default (widest ISA, all cores), the x86-64 baseline on one thread, and AVX2 on three.
  static let settings: [(name: String, env: [String: String])] = [
    ("default", [:]),
    ("baseline-1", ["NTKIT_ISA": "baseline", "NTKIT_THREADS": "1"]),
    ("avx2-3", ["NTKIT_ISA": "avx2", "NTKIT_THREADS": "3"]),
  ]

  var dir = ""

  override func setUpWithError() throws {
    try NTKBinary.requireBinary()
    dir = NTKBinary.tempDirectory()
  }

  override func tearDownWithError() throws {
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  func path(_ name: String) -> String { dir + "/" + name }

  func bytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }

  /// A file's text without the lines that hold timings (JSON keys or CSV columns named *seconds).
  func withoutTimings(_ name: String) throws -> String {
    let text = try String(contentsOfFile: path(name), encoding: .utf8)
    if name.hasSuffix(".csv") {
      let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      guard let header = rows.first else { return text }
      let keep = header.indices.filter { !header[$0].hasSuffix("seconds") }
      return rows.map { row in keep.filter { $0 < row.count }.map { String(row[$0]) }.joined(separator: ",") }
        .joined(separator: "\n")
    }
    return text.split(separator: "\n").filter { !$0.contains("seconds\"") && !$0.contains("\"jobs\"") }
      .joined(separator: "\n")
  }

  @discardableResult
  func ntk(_ args: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> NTKBinary.Result {
    let r = try NTKBinary.run(args, environment: env)
    XCTAssertEqual(r.status, 0, "ntk \(args.joined(separator: " ")) with \(env): \(r.stderr)", file: file, line: line)
    return r
  }

  /// A seeded pool of 5000 × 8 (more rows than one scoring block, so worker counts split it differently).
  func writePool() throws {
    var rng = SeededRandom(seed: 12)
    let rows = 5000, features = 8
    let data = (0..<rows * features).map { i in Float(rng.normal()) * (1 + Float((i / features) % 5)) }
    try NPY.write(path("pool.npy"), shape: [rows, features], floats: data)
  }

  /// The settings are in force: `ntk devices` reports them on the cpu line.
  func testSettingsReachTheCPUDevice() throws {
    let r = try ntk(["devices"], env: ["NTKIT_ISA": "baseline", "NTKIT_THREADS": "3"])
    XCTAssertTrue(r.stdout.contains("isa baseline"), r.stdout)
    XCTAssertTrue(r.stdout.contains("3 threads"), r.stdout)
  }

  func testRNDPicksAreIdenticalOnEveryISAAndWorkerCount() throws {
    try writePool()
    for (name, env) in Self.settings {
      try ntk(["select", "--pool", path("pool.npy"), "--size", "12", "--epochs", "20", "--chunk-rows", "512",
               "--out", path("rnd-\(name).npy"), "--report", path("rnd-\(name).json")], env: env)
      try ntk(["select", "--pool", path("pool.npy"), "--size", "8", "--epochs", "10", "--distance", "l1",
               "--train-batch-size", "3", "--picks-per-step", "2", "--out", path("rnd-l1-\(name).npy")], env: env)
    }
    let reference = try bytes("rnd-default.npy")
    XCTAssertNotEqual(try withoutTimings("rnd-default.json"), "", "the report is empty")
    for (name, _) in Self.settings.dropFirst() {
      XCTAssertEqual(try bytes("rnd-\(name).npy"), reference, "RND picks differ under \(name)")
      XCTAssertEqual(try withoutTimings("rnd-\(name).json"), try withoutTimings("rnd-default.json"),
                     "RND distances differ under \(name)")
      XCTAssertEqual(try bytes("rnd-l1-\(name).npy"), try bytes("rnd-l1-default.npy"), "l1 mini-batch picks differ under \(name)")
    }
    // The picks depend on the seed (the comparison above is not of constant output).
    try ntk(["select", "--pool", path("pool.npy"), "--size", "12", "--epochs", "20", "--chunk-rows", "512",
             "--seed", "99", "--out", path("rnd-seed99.npy")])
    XCTAssertNotEqual(try bytes("rnd-seed99.npy"), reference)
  }

  func testKCenterPicksAreIdenticalOnEveryISAAndWorkerCount() throws {
    try writePool()
    for (name, env) in Self.settings {
      try ntk(["select", "--method", "kcenter", "--pool", path("pool.npy"), "--size", "20",
               "--out", path("kc-\(name).npy")], env: env)
    }
    for (name, _) in Self.settings.dropFirst() {
      XCTAssertEqual(try bytes("kc-\(name).npy"), try bytes("kc-default.npy"), "k-center picks differ under \(name)")
    }
  }

  /// The collective variables of a fixed kernel are the same bits whichever
  /// kernels OpenBLAS picked for this CPU (`OPENBLAS_CORETYPE=Prescott`, the
  /// SSE3 kernels any x86-64 CPU runs, stands in for another machine) and
  /// whatever the worker count: the spectrum does not go through OpenBLAS.
  func testCollectiveVariablesDoNotDependOnOpenBLASKernelsOrThreads() throws {
    var rng = SeededRandom(seed: 3)
    let n = 150, k = 24
    let a = (0..<n * k).map { _ in rng.normal() }
    var kernel = [Float](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { var s = 0.0; for t in 0..<k { s += a[i * k + t] * a[j * k + t] }; kernel[i * n + j] = Float(s) } }
    try NPY.write(path("k.npy"), shape: [n, n], floats: kernel)
    let settings: [(String, [String: String])] = [
      ("default", [:]), ("prescott-1", ["OPENBLAS_CORETYPE": "Prescott", "NTKIT_THREADS": "1"]),
      ("baseline-3", ["NTKIT_ISA": "baseline", "NTKIT_THREADS": "3"]),
    ]
    var outputs: [String: String] = [:]
    for (name, env) in settings {
      outputs[name] = try ntk(["stats", "--kernel", path("k.npy"), "--json"], env: env).stdout
        .replacingOccurrences(of: #","seconds":[0-9.e-]+"#, with: "", options: .regularExpression)
    }
    XCTAssertTrue(outputs["default"]!.contains("\"entropy\":"), outputs["default"]!)
    XCTAssertEqual(outputs["prescott-1"], outputs["default"])
    XCTAssertEqual(outputs["baseline-3"], outputs["default"])
  }

  /// RND picks with OpenBLAS's SSE3 kernels equal the default ones (the selection calls no BLAS).
  func testRNDPicksDoNotDependOnOpenBLASKernels() throws {
    try writePool()
    for (name, env) in [("default", [String: String]()), ("prescott", ["OPENBLAS_CORETYPE": "Prescott"])] {
      try ntk(["select", "--pool", path("pool.npy"), "--size", "10", "--epochs", "20", "--out", path("p-\(name).npy")], env: env)
    }
    XCTAssertEqual(try bytes("p-prescott.npy"), try bytes("p-default.npy"))
  }

  /// `experiment compare` (RND, random and k-center subsets; NTK collective
  /// variables; Adam training): every output file identical but for timings.
  func testExperimentCompareOutputsAreIdenticalOnEveryISAAndWorkerCount() throws {
    let data = NTKBinary.packageRoot + "/Data"
    for (name, env) in Self.settings {
      try ntk(["experiment", "compare", "--data-dir", data, "--sizes", "8,16", "--runs", "2", "--epochs", "15",
               "--out-dir", path("cmp-\(name)")], env: env)
    }
    let files = ["runs.csv", "summary.csv", "summary.json", "figure_ntk.svg", "figure_test_loss.svg"]
    let runs = try withoutTimings("cmp-default/runs.csv")
    XCTAssertTrue(runs.contains("entropy") && runs.contains("rnd,8"), runs)
    for (name, _) in Self.settings.dropFirst() {
      for f in files {
        XCTAssertEqual(try withoutTimings("cmp-\(name)/\(f)"), try withoutTimings("cmp-default/\(f)"),
                       "experiment compare \(f) differs under \(name)")
      }
    }
  }
}
