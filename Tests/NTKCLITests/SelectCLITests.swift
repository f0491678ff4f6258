import Foundation
import NTKit
import XCTest

/// Runs the built `ntk` binary (`NTKBinary`) on small inputs: `ntk select` and `ntk train`, exit codes and outputs.
final class SelectCLITests: XCTestCase {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static var binary: String { NTKBinary.path }

  var dir = ""

  override func setUpWithError() throws {
    try NTKBinary.requireBinary()
    dir = NSTemporaryDirectory() + "ntk-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  struct Run { var status: Int32; var stdout: String; var stderr: String }

  @discardableResult
  func ntk(_ args: [String]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.binary)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  func path(_ name: String) -> String { dir + "/" + name }

  func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

  /// A seeded pool of three well-separated clusters, rows × 4.
  func writePool(_ name: String, rows: Int = 60, features: Int = 4, poison: Bool = false) throws {
    var rng = SeededRandom(seed: 7)
    var data = (0..<rows * features).map { i in Float(rng.normal()) + Float((i / features) % 3) * 5 }
    if poison { data[features * 3 + 1] = .nan }
    try NPY.write(path(name), shape: [rows, features], floats: data)
  }

  func writeModel(_ name: String, inputs: Int = 4) throws {
    let json = """
      {"input_shape": [\(inputs)], "parameterization": "standard",
       "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 16}, {"type": "relu"},
                  {"type": "dense", "units": 2}]}
      """
    try json.write(toFile: path(name), atomically: true, encoding: .utf8)
  }

  func readIndices(_ name: String) throws -> [Int64] {
    let a = try NPY.read(path(name))
    XCTAssertEqual(a.dtype, .int64, "idx.npy must be <i8")
    return try a.int64s()
  }

  func assertOneLineError(_ r: Run, code: Int32, naming file: String, _ line: UInt = #line) {
    XCTAssertEqual(r.status, code, "stderr: \(r.stderr)", line: line)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    if code == 1 { XCTAssertEqual(lines.count, 1, "expected a one-line error, got: \(r.stderr)", line: line) }
    XCTAssertTrue(r.stderr.contains(file), "error should name \(file): \(r.stderr)", line: line)
  }

  // MARK: select

  func testSelectWritesIndicesWithoutRepeats() throws {
    try writePool("pool.npy")
    try writeModel("m.json")
    let r = try ntk(["select", "--pool", path("pool.npy"), "--size", "12", "--model", path("m.json"), "--epochs", "20",
                     "--out", path("idx.npy"), "--report", path("r.json"), "--device", "cpu"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let idx = try readIndices("idx.npy")
    XCTAssertEqual(idx.count, 12)
    XCTAssertEqual(Set(idx).count, 12, "no repeats")
    XCTAssertTrue(idx.allSatisfy { $0 >= 0 && $0 < 60 })
    let report = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path("r.json")))), path: "r.json")
    let steps = report["steps"]?.arrayValue ?? []
    XCTAssertEqual(steps.count, 12)
    XCTAssertEqual(steps.first?["indices"]?.arrayValue?.first?.intValue, Int(idx[0]))
    XCTAssertNotNil(steps.first?["distances"]?.arrayValue?.first?.doubleValue)
    XCTAssertNotNil(steps.first?["evaluation_seconds"]?.doubleValue)
    XCTAssertNotNil(steps.first?["training_seconds"]?.doubleValue)
    // Same seed, same result; random and kcenter run too.
    XCTAssertEqual(try ntk(["select", "--pool", path("pool.npy"), "--size", "12", "--model", path("m.json"), "--epochs", "20",
                            "--out", path("idx2.npy"), "--device", "cpu"]).status, 0)
    XCTAssertEqual(try readIndices("idx2.npy"), idx)
    for method in ["random", "kcenter"] {
      let m = try ntk(["select", "--pool", path("pool.npy"), "--size", "5", "--method", method, "--out", path("\(method).npy")])
      XCTAssertEqual(m.status, 0, m.stderr)
      XCTAssertEqual(Set(try readIndices("\(method).npy")).count, 5)
    }
  }

  func testResumeEqualsUninterruptedRun() throws {
    try writePool("pool.npy")
    try writeModel("m.json")
    let common = ["select", "--pool", path("pool.npy"), "--size", "10", "--model", path("m.json"), "--epochs", "15",
                  "--device", "cpu"]
    XCTAssertEqual(try ntk(common + ["--out", path("full.npy")]).status, 0)
    // A run interrupted after 4 steps (the hidden test hook acts like Ctrl-C there): exit 130,
    // a checkpoint, no output.
    let q = Process()
    q.executableURL = URL(fileURLWithPath: Self.binary)
    q.arguments = common + ["--out", path("part.npy"), "--checkpoint", path("ck.json"), "--checkpoint-every", "1"]
    q.environment = ["NTK_SELECT_TEST_STOP_AFTER": "4"]
    q.standardOutput = FileHandle.nullDevice
    q.standardError = FileHandle.nullDevice
    try q.run()
    q.waitUntilExit()
    XCTAssertEqual(q.terminationStatus, 130, "the test hook interrupts after 4 steps")
    XCTAssertFalse(exists("part.npy"), "an interrupted run writes no output")
    XCTAssertTrue(exists("ck.json"))
    let r = try ntk(common + ["--out", path("resumed.npy"), "--checkpoint", path("ck.json"), "--resume"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("resumed after 4 steps"), r.stdout)
    XCTAssertEqual(try readIndices("resumed.npy"), try readIndices("full.npy"))
    // A checkpoint of another run (other seed) is refused.
    let bad = try ntk(common + ["--out", path("other.npy"), "--checkpoint", path("ck.json"), "--resume", "--seed", "3"])
    assertOneLineError(bad, code: 1, naming: path("ck.json"))
    XCTAssertFalse(exists("other.npy"))
  }

  func testBadInputs() throws {
    try writePool("pool.npy")
    try writeModel("m.json")
    try NPY.write(path("empty.npy"), shape: [0, 4], floats: [])
    try writePool("nan.npy", poison: true)
    try writeModel("m5.json", inputs: 5)
    let base = ["--size", "5", "--out", path("idx.npy"), "--device", "cpu"]
    assertOneLineError(try ntk(["select", "--pool", path("empty.npy")] + base), code: 1, naming: path("empty.npy"))
    assertOneLineError(try ntk(["select", "--pool", path("pool.npy"), "--size", "61", "--out", path("idx.npy")]),
                       code: 1, naming: path("pool.npy"))
    assertOneLineError(try ntk(["select", "--pool", path("nan.npy")] + base), code: 1, naming: path("nan.npy"))
    assertOneLineError(try ntk(["select", "--pool", path("pool.npy"), "--model", path("m5.json")] + base),
                       code: 1, naming: path("m5.json"))
    let d = try ntk(["select", "--pool", path("pool.npy"), "--distance", "euclid"] + base)
    XCTAssertEqual(d.status, 2, d.stderr)
    XCTAssertTrue(d.stderr.contains("euclid") && d.stderr.contains("mse") && d.stderr.contains("mahalanobis"), d.stderr)
    XCTAssertEqual(try ntk(["select", "--pool", path("pool.npy"), "--size", "3"]).status, 2, "missing --out is a usage error")
    // Weights that do not match the model.
    try writeModel("m3.json")
    let w = try ntk(["init", "--model", path("m.json"), "--out", path("w.safetensors")])
    if w.status == 0 {
      let json = """
        {"input_shape": [4], "parameterization": "standard",
         "layers": [{"type": "dense", "units": 8}, {"type": "relu"}, {"type": "dense", "units": 2}]}
        """
      try json.write(toFile: path("small.json"), atomically: true, encoding: .utf8)
      assertOneLineError(try ntk(["select", "--pool", path("pool.npy"), "--model", path("small.json"),
                                  "--predictor-weights", path("w.safetensors")] + base), code: 1, naming: path("w.safetensors"))
    }
    XCTAssertFalse(exists("idx.npy"), "no output after an error")
  }

  // MARK: train

  func testTrainWritesWeightsAndHistory() throws {
    var rng = SeededRandom(seed: 3)
    let x = (0..<64 * 4).map { _ in Float(rng.normal()) }
    let y = (0..<64).map { i in x[i * 4] - 0.5 * x[i * 4 + 2] }
    try NPY.write(path("x.npy"), shape: [48, 4], floats: Array(x[0..<48 * 4]))
    try NPY.write(path("y.npy"), shape: [48, 1], floats: Array(y[0..<48]))
    try NPY.write(path("tx.npy"), shape: [16, 4], floats: Array(x[48 * 4..<64 * 4]))
    try NPY.write(path("ty.npy"), shape: [16, 1], floats: Array(y[48..<64]))
    let json = """
      {"input_shape": [4], "parameterization": "standard",
       "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 1}]}
      """
    try json.write(toFile: path("m.json"), atomically: true, encoding: .utf8)
    let r = try ntk(["train", "--model", path("m.json"), "--train", path("x.npy"), "--labels", path("y.npy"),
                     "--test", path("tx.npy"), "--test-labels", path("ty.npy"), "--epochs", "40", "--lr", "0.01",
                     "--out", path("w.safetensors"), "--history", path("h.csv"), "--device", "cpu"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("min test loss"), r.stdout)
    XCTAssertTrue(exists("w.safetensors"))
    let csv = try String(contentsOfFile: path("h.csv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(csv.first, "epoch,train_loss,test_loss,seconds")
    XCTAssertEqual(csv.count, 41)
    let first = Double(csv[1].split(separator: ",")[1])!, last = Double(csv[40].split(separator: ",")[1])!
    XCTAssertLessThan(last, first, "training reduces the loss")
    // Bad labels file: exit 1, nothing written.
    try NPY.write(path("y5.npy"), shape: [5, 1], floats: [1, 2, 3, 4, 5])
    let bad = try ntk(["train", "--model", path("m.json"), "--train", path("x.npy"), "--labels", path("y5.npy"),
                       "--epochs", "2", "--out", path("w2.safetensors")])
    assertOneLineError(bad, code: 1, naming: path("y5.npy"))
    XCTAssertFalse(exists("w2.safetensors"))
    // --standardize-target: the first epoch's loss is on targets of variance 1,
    // so scaling the targets by 100 leaves the standardised loss unchanged.
    try NPY.write(path("y100.npy"), shape: [48, 1], floats: Array(y[0..<48]).map { 100 * $0 + 7 })
    let base = ["train", "--model", path("m.json"), "--train", path("x.npy"), "--epochs", "1", "--seed", "2",
                "--standardize-target", "--device", "cpu"]
    XCTAssertEqual(try ntk(base + ["--labels", path("y.npy"), "--out", path("s1.safetensors"), "--history", path("s1.csv")]).status, 0)
    XCTAssertEqual(try ntk(base + ["--labels", path("y100.npy"), "--out", path("s2.safetensors"), "--history", path("s2.csv")]).status, 0)
    func firstLoss(_ name: String) throws -> Double {
      let rows = try String(contentsOfFile: path(name), encoding: .utf8).split(separator: "\n")
      return Double(rows[1].split(separator: ",")[1])!
    }
    XCTAssertEqual(try firstLoss("s1.csv"), try firstLoss("s2.csv"), accuracy: 1e-4)
    try NPY.write(path("cls.npy"), shape: [48], int64s: (0..<48).map { Int64($0 % 2) })
    let labels = try ntk(["train", "--model", path("m.json"), "--train", path("x.npy"), "--epochs", "1",
                          "--labels", path("cls.npy"), "--standardize-target", "--out", path("s3.safetensors")])
    XCTAssertEqual(labels.status, 2, "class labels cannot be standardised: \(labels.stderr)")
    XCTAssertTrue(labels.stderr.contains("--standardize-target"))
  }
}
