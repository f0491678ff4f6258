import Foundation
import NTKit
import XCTest

/// One CLI surface (issue 14, points 4–6): `--indices`, `--convention nt`,
/// `--eval-every`, `--json` provenance, exit 2 for unknown help topics, bad
/// numbers and mismatched output extensions, one canonical flag name, and
/// error lines that name their file.
final class SurfaceCLITests: XCTestCase {
  let golden = NTKBinary.fixtures + "/golden/02_dense_tanh_ntk"  // N = 12, 8 features, M = 3
  var dir = ""

  override func setUp() { dir = NTKBinary.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func path(_ name: String) -> String { dir + "/" + name }
  var model: [String] { ["--model", golden + "/model.json", "--weights", golden + "/weights.safetensors"] }

  func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
      XCTFail("not a JSON object: \(text)", file: file, line: line)
      return [:]
    }
    return object
  }

  func oneLine(_ r: NTKBinary.Result, _ needles: [String], file: StaticString = #filePath, line: UInt = #line) {
    let lines = r.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
    for n in needles { XCTAssertTrue(r.stderr.contains(n), "expected '\(n)' in: \(r.stderr)", file: file, line: line) }
  }

  // MARK: - --indices

  func testGramIndicesAreNumpyFancyIndexing() throws {
    try NPY.write(path("idx.npy"), shape: [4], int64s: [0, 2, -1, 2])
    let r = try NTKBinary.run(["gram"] + model + ["--inputs", golden + "/inputs.npy", "--indices", path("idx.npy"),
                                                  "--precision", "f64", "--device", "cpu", "--out", path("k.npy")])
    XCTAssertEqual(r.status, 0, r.stderr)
    let k = try NPY.read(path("k.npy")), ref = try NPY.read(golden + "/ntk_trace.npy").doubles()
    XCTAssertEqual(k.shape, [4, 4])
    let picked = [0, 2, 11, 2]  // -1 is the last row; the duplicate is kept
    let values = k.doubles(), scale = ref.map(abs).max()!
    for (a, i) in picked.enumerated() {
      for (b, j) in picked.enumerated() {
        XCTAssertEqual(values[a * 4 + b], ref[i * 12 + j], accuracy: 1e-9 * scale, "K[\(a), \(b)]")
      }
    }
  }

  func testIndicesOutOfRangeOrFloatAreOneLineNamingTheFile() throws {
    try NPY.write(path("bad.npy"), shape: [2], int64s: [1, 12])
    let r = try NTKBinary.run(["forward"] + model + ["--inputs", golden + "/inputs.npy", "--indices", path("bad.npy"),
                                                     "--out", path("f.npy")])
    XCTAssertEqual(r.status, 1)
    oneLine(r, [path("bad.npy"), "index 12 at position 1", "out of range", "-12 to 11"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("f.npy")))
    try NPY.write(path("float.npy"), shape: [2], doubles: [0, 1])
    let f = try NTKBinary.run(["jacobian"] + model + ["--inputs", golden + "/inputs.npy", "--indices", path("float.npy"),
                                                      "--out", path("j.npy")])
    XCTAssertEqual(f.status, 1)
    oneLine(f, [path("float.npy"), "integers"])
    // Stats takes --indices with a model, and refuses it with a kernel (usage).
    let s = try NTKBinary.run(["stats", "--kernel", golden + "/ntk_trace.npy", "--indices", path("bad.npy")])
    XCTAssertEqual(s.status, 2, s.stderr)
  }

  func testStatsIndicesEqualStatsOfTheSubKernel() throws {
    try NPY.write(path("idx.npy"), shape: [5], int32s: [3, 1, 4, 10, 5])
    let r = try NTKBinary.run(["stats"] + model + ["--inputs", golden + "/inputs.npy", "--indices", path("idx.npy"),
                                                   "--device", "cpu", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let ref = try NPY.read(golden + "/ntk_trace.npy").doubles()
    let trace = [3, 1, 4, 10, 5].reduce(0.0) { $0 + ref[$1 * 12 + $1] }
    let j = try json(r.stdout)
    XCTAssertEqual(j["n"] as? Int, 5)
    XCTAssertEqual(j["trace"] as! Double, trace, accuracy: 2e-5 * trace)
    XCTAssertEqual(j["method"] as? String, "exact", "stats --json names the method as the text does")
    XCTAssertEqual(j["parameterization"] as? String, "ntk")
    XCTAssertEqual(j["weights"] as? String, golden + "/weights.safetensors")
    XCTAssertEqual(j["indices"] as? String, path("idx.npy"))
  }

  func testTrainIndicesEqualTrainingOnTheSubsetFile() throws {
    let x = try NPY.read(golden + "/inputs.npy").tensor()
    let y = (0..<12).map { (i: Int) -> Float in Float(i % 3) * 0.5 - 0.4 }
    let picks = [7, 0, 3, 3, -2, 5]
    let rows = picks.map { $0 < 0 ? $0 + 12 : $0 }
    try NPY.write(path("x.npy"), tensor: x)
    try NPY.write(path("y.npy"), shape: [12, 1], floats: y)
    try NPY.write(path("xs.npy"), tensor: x.gatherRows(rows))
    try NPY.write(path("ys.npy"), shape: [rows.count, 1], floats: rows.map { y[$0] })
    try NPY.write(path("idx.npy"), shape: [picks.count], int64s: picks.map(Int64.init))
    let spec = "{\"input_shape\":[8],\"layers\":[{\"type\":\"dense\",\"units\":6},{\"type\":\"tanh\"},{\"type\":\"dense\",\"units\":1}]}"
    try spec.write(toFile: path("m.json"), atomically: true, encoding: .utf8)
    let common = ["train", "--model", path("m.json"), "--epochs", "5", "--seed", "4", "--device", "cpu", "--lr", "0.01"]
    let a = try NTKBinary.run(common + ["--train", path("x.npy"), "--labels", path("y.npy"), "--indices", path("idx.npy"),
                                        "--out", path("a.safetensors"), "--json"])
    XCTAssertEqual(a.status, 0, a.stderr)
    let b = try NTKBinary.run(common + ["--train", path("xs.npy"), "--labels", path("ys.npy"), "--out", path("b.safetensors")])
    XCTAssertEqual(b.status, 0, b.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.safetensors"))),
                   try Data(contentsOf: URL(fileURLWithPath: path("b.safetensors"))))
    let j = try json(a.stdout)
    XCTAssertEqual(j["train_rows"] as? Int, 6)
    XCTAssertEqual(j["seed"] as? Int, 4)
    XCTAssertEqual(j["parameterization"] as? String, "standard")
    XCTAssertTrue(j["weights"] is NSNull)
    XCTAssertNotNil(j["ntkit_version"] as? String)
  }

  // MARK: - train --eval-every, messages

  func testEvalEveryEvaluatesEveryKthAndTheLastEpoch() throws {
    let x = try NPY.read(golden + "/inputs.npy").tensor()
    try NPY.write(path("x.npy"), tensor: x)
    try NPY.write(path("y.npy"), shape: [12, 3], floats: (0..<36).map { (i: Int) -> Float in Float(i % 5) * 0.1 })
    let common = ["train", "--model", golden + "/model.json", "--train", path("x.npy"), "--labels", path("y.npy"),
                  "--test", path("x.npy"), "--test-labels", path("y.npy"), "--epochs", "7", "--device", "cpu", "--json"]
    let every = try NTKBinary.run(common + ["--out", path("a.safetensors"), "--history", path("a.csv")])
    let third = try NTKBinary.run(common + ["--out", path("b.safetensors"), "--history", path("b.csv"), "--eval-every", "3"])
    XCTAssertEqual(every.status, 0, every.stderr)
    XCTAssertEqual(third.status, 0, third.stderr)
    let lines = try String(contentsOfFile: path("b.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
    let evaluated = lines.compactMap { line -> Int? in
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      return f[2].isEmpty ? nil : Int(f[0])
    }
    XCTAssertEqual(evaluated, [3, 6, 7])
    // Evaluation does not change training: same final test loss and weights.
    XCTAssertEqual(try json(every.stdout)["final_test_loss"] as? Double, try json(third.stdout)["final_test_loss"] as? Double)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.safetensors"))),
                   try Data(contentsOf: URL(fileURLWithPath: path("b.safetensors"))))
    let bad = try NTKBinary.run(common + ["--out", path("c.safetensors"), "--eval-every", "0"])
    XCTAssertEqual(bad.status, 2)
  }

  func testTrainMissingTargetColumnIsNamed() throws {
    let r = try NTKBinary.run(["train", "--model", NTKBinary.packageRoot + "/Models/fuel_table2.model.json",
                               "--train", NTKBinary.packageRoot + "/Data/fuel.csv", "--target", "bogus",
                               "--epochs", "1", "--out", path("w.safetensors")])
    XCTAssertEqual(r.status, 1)
    oneLine(r, ["fuel.csv", "missing column 'bogus'", "mpg"])
  }

  func testStatsOnAZeroKernelNamesTheFile() throws {
    try NPY.write(path("zeros.npy"), shape: [3, 3], floats: [Float](repeating: 0, count: 9))
    let r = try NTKBinary.run(["stats", "--kernel", path("zeros.npy")])
    XCTAssertEqual(r.status, 1)
    oneLine(r, [path("zeros.npy") + ":", "numerical failure", "entropy"])
  }

  func testMahalanobisOnAConstantPoolNamesThePool() throws {
    try NPY.write(path("const.npy"), shape: [20, 3], floats: [Float](repeating: 1, count: 60))
    let r = try NTKBinary.run(["select", "--pool", path("const.npy"), "--size", "2", "--distance", "mahalanobis",
                               "--out", path("p.npy"), "--device", "cpu"])
    XCTAssertEqual(r.status, 1)
    oneLine(r, [path("const.npy") + ":", "singular"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("p.npy")))
  }

  func testAShortCheckpointPredictorNamesTheCheckpoint() throws {
    try NPY.write(path("pool.npy"), shape: [30, 4], floats: (0..<120).map { (i: Int) -> Float in Float((i * 37) % 11) / 11 })
    let common = ["select", "--pool", path("pool.npy"), "--size", "4", "--epochs", "2", "--device", "cpu",
                  "--checkpoint", path("ck.json")]
    XCTAssertEqual(try NTKBinary.run(common + ["--out", path("a.npy")]).status, 0)
    let data = try Data(contentsOf: URL(fileURLWithPath: path("ck.json")))
    var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    object["predictor"] = Array((object["predictor"] as! [Any]).prefix(5))
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path("ck.json")))
    let r = try NTKBinary.run(common + ["--out", path("b.npy"), "--resume"])
    XCTAssertEqual(r.status, 1)
    oneLine(r, [path("ck.json") + ":", "predictor has 5 parameters"])
  }

  // MARK: - gram --convention nt

  func testConventionNTIsNeuralTangentsLayoutAndTraceMean() throws {
    let base = ["gram"] + model + ["--inputs", golden + "/inputs.npy", "--precision", "f64", "--device", "cpu"]
    for args in [["--mode", "full", "--out", path("full.npy")], ["--mode", "full", "--convention", "nt", "--out", path("fullnt.npy")],
                 ["--out", path("tr.npy")], ["--convention", "nt", "--out", path("trnt.npy"), "--json"]] {
      let r = try NTKBinary.run(base + args)
      XCTAssertEqual(r.status, 0, r.stderr)
      if args.contains("--json") { XCTAssertEqual(try json(r.stdout)["convention"] as? String, "nt") }
    }
    let full = try NPY.read(path("full.npy")), nt = try NPY.read(path("fullnt.npy"))
    XCTAssertEqual(full.shape, [12, 3, 12, 3])
    XCTAssertEqual(nt.shape, [12, 12, 3, 3])
    let f = full.doubles(), n = nt.doubles()
    for i in 0..<12 { for a in 0..<3 { for j in 0..<12 { for b in 0..<3 {
      XCTAssertEqual(n[((i * 12 + j) * 3 + a) * 3 + b], f[((i * 3 + a) * 12 + j) * 3 + b])
    } } } }
    let t = try NPY.read(path("tr.npy")).doubles(), tn = try NPY.read(path("trnt.npy")).doubles()
    for (x, y) in zip(t, tn) { XCTAssertEqual(y, x / 3, accuracy: 1e-15 * abs(x)) }
    let bad = try NTKBinary.run(base + ["--convention", "jax", "--out", path("x.npy")])
    XCTAssertEqual(bad.status, 2)
  }

  // MARK: - one surface

  func testUnknownHelpTopicAndBadNumbersExitTwo() throws {
    let help = try NTKBinary.run(["help", "nosuch"])
    XCTAssertEqual(help.status, 2)
    oneLine(help, ["nosuch", "gram"])
    XCTAssertEqual(try NTKBinary.run(["help", "experiment", "compare"]).status, 0)
    XCTAssertEqual(try NTKBinary.run(["help", "experiment", "nosuch"]).status, 2)
    let seed = try NTKBinary.run(["init", "--model", golden + "/model.json", "--seed", "-1", "--out", path("w.safetensors")])
    XCTAssertEqual(seed.status, 2)
    XCTAssertTrue(seed.stderr.contains("'-1'") && !seed.stderr.contains("Missing value"), seed.stderr)
    let size = try NTKBinary.run(["select", "--pool", golden + "/inputs.npy", "--size", "abc", "--out", path("p.npy")])
    XCTAssertEqual(size.status, 2)
    XCTAssertTrue(size.stderr.contains("'abc'"), size.stderr)
    let negative = try NTKBinary.run(["select", "--pool", golden + "/inputs.npy", "--size", "-3", "--out", path("p.npy")])
    XCTAssertEqual(negative.status, 2)
    XCTAssertTrue(negative.stderr.contains("--size must be at least 1, found -3"), negative.stderr)
  }

  func testOutputExtensionMustMatchTheFormatWritten() throws {
    let r = try NTKBinary.run(["gram"] + model + ["--inputs", golden + "/inputs.npy", "--out", path("k.csv")])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("--out") && r.stderr.contains(".npy") && r.stderr.contains(".csv"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("k.csv")))
    let i = try NTKBinary.run(["init", "--model", golden + "/model.json", "--out", path("w.npy")])
    XCTAssertEqual(i.status, 2)
    XCTAssertTrue(i.stderr.contains(".safetensors"), i.stderr)
    let s = try NTKBinary.run(["select", "--pool", golden + "/inputs.npy", "--size", "2", "--method", "random",
                               "--out", path("p.npy"), "--report", path("r.csv")])
    XCTAssertEqual(s.status, 2)
    XCTAssertTrue(s.stderr.contains("--report") && s.stderr.contains(".json"), s.stderr)
  }

  func testInitForwardJacobianJSONRecordProvenance() throws {
    let i = try NTKBinary.run(["init", "--model", golden + "/model.json", "--seed", "7", "--out", path("w.safetensors"), "--json"])
    XCTAssertEqual(i.status, 0, i.stderr)
    let ij = try json(i.stdout)
    XCTAssertEqual(ij["seed"] as? Int, 7)
    XCTAssertEqual(ij["parameterization"] as? String, "ntk")
    XCTAssertEqual(ij["ntkit_version"] as? String, NTKitVersion.string)
    for command in ["forward", "jacobian"] {
      let r = try NTKBinary.run([command] + model + ["--inputs", golden + "/inputs.npy", "--out", path("\(command).npy"), "--json"])
      XCTAssertEqual(r.status, 0, r.stderr)
      let j = try json(r.stdout)
      XCTAssertEqual(j["weights"] as? String, golden + "/weights.safetensors")
      XCTAssertTrue(j["seed"] is NSNull, "seed is null when weights are given")
      XCTAssertEqual(j["parameterization"] as? String, "ntk")
      XCTAssertEqual((j["shape"] as? [Int])?.first, 12)
    }
  }

  func testSelectBatchSizeIsCanonicalAndTheOldNameStillWorks() throws {
    try NPY.write(path("pool.npy"), shape: [40, 3], floats: (0..<120).map { (i: Int) -> Float in Float((i * 29) % 13) / 13 })
    let common = ["select", "--pool", path("pool.npy"), "--size", "5", "--epochs", "3", "--seed", "2", "--device", "cpu"]
    let a = try NTKBinary.run(common + ["--batch-size", "2", "--out", path("a.npy"), "--report", path("a.json")])
    let b = try NTKBinary.run(common + ["--train-batch-size", "2", "--out", path("b.npy"), "--report", path("b.json")])
    let c = try NTKBinary.run(common + ["--out", path("c.npy"), "--report", path("c.json"), "--json"])
    XCTAssertEqual(a.status, 0, a.stderr)
    XCTAssertEqual(b.status, 0, b.stderr)
    XCTAssertTrue(b.stderr.contains("deprecated"), b.stderr)
    func distances(_ name: String) throws -> [Double] {
      let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name)))) as! [String: Any]
      return (report["steps"] as! [[String: Any]]).flatMap { $0["distances"] as! [Double] }
    }
    XCTAssertEqual(try NPY.read(path("a.npy")).int64s(), try NPY.read(path("b.npy")).int64s())
    XCTAssertEqual(try distances("a.json"), try distances("b.json"))
    XCTAssertNotEqual(try distances("a.json"), try distances("c.json"),
                      "mini-batches of 2 change the retrained predictor (else this test could not tell the flags apart)")
    XCTAssertEqual(try json(c.stdout)["seed"] as? Int, 2)
    XCTAssertEqual(try json(c.stdout)["parameterization"] as? String, "standard")
    XCTAssertEqual(try json(c.stdout)["ntkit_version"] as? String, NTKitVersion.string)
    let both = try NTKBinary.run(common + ["--batch-size", "8", "--train-batch-size", "8", "--out", path("d.npy")])
    XCTAssertEqual(both.status, 2)
    XCTAssertFalse(try NTKBinary.run(["select", "--help"]).stdout.contains("--train-batch-size"))
  }

  // MARK: - experiment compare on the user's data

  func testCompareRunsOnTheUsersOwnData() throws {
    let x: [Float] = (0..<120).map { (i: Int) -> Float in Float((i * 17) % 23) / 23 - 0.5 }
    let y: [Float] = (0..<30).map { (i: Int) -> Float in Float((i * 7) % 5) / 5 }
    try NPY.write(path("px.npy"), shape: [20, 4], floats: Array(x[0..<80]))
    try NPY.write(path("py.npy"), shape: [20, 1], floats: Array(y[0..<20]))
    try NPY.write(path("tx.npy"), shape: [10, 4], floats: Array(x[80...]))
    try NPY.write(path("ty.npy"), shape: [10, 1], floats: Array(y[20...]))
    let spec = "{\"input_shape\":[4],\"layers\":[{\"type\":\"dense\",\"units\":5},{\"type\":\"relu\"},{\"type\":\"dense\",\"units\":1}]}"
    try spec.write(toFile: path("m.json"), atomically: true, encoding: .utf8)
    let args = ["experiment", "compare", "--pool", path("px.npy"), "--labels", path("py.npy"), "--test", path("tx.npy"),
                "--test-labels", path("ty.npy"), "--model", path("m.json"), "--sizes", "3,6", "--runs", "1",
                "--epochs", "3", "--methods", "random,kcenter", "--jobs", "1", "--device", "cpu",
                "--out-dir", path("out"), "--json"]
    let r = try NTKBinary.run(args)
    XCTAssertEqual(r.status, 0, r.stderr)
    let j = try json(r.stdout)
    let summary = j["summary"] as? [[String: Any]] ?? []
    XCTAssertEqual(summary.count, 4)
    XCTAssertEqual(Set(summary.compactMap { $0["method"] as? String }), ["random", "kcenter"])
    XCTAssertTrue((j["data"] as? String ?? "").contains("px.npy"))
    for f in ["runs.csv", "summary.csv", "summary.json", "figure_test_loss.svg", "figure_ntk.svg"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: path("out/" + f)), f)
    }
    // Usage errors: a pool without a test set, or with the bundled --dataset.
    XCTAssertEqual(try NTKBinary.run(["experiment", "compare", "--pool", path("px.npy"), "--labels", path("py.npy"),
                                      "--model", path("m.json"), "--sizes", "3", "--out-dir", path("o2")]).status, 2)
    XCTAssertEqual(try NTKBinary.run(args.map { $0 == "--json" ? "--dataset=fuel" : $0 }).status, 2)
    // A mismatched test file names itself.
    try NPY.write(path("ty2.npy"), shape: [9, 1], floats: Array(y[20..<29]))
    let bad = try NTKBinary.run(args.map { $0 == path("ty.npy") ? path("ty2.npy") : $0 }.map { $0 == path("out") ? path("o3") : $0 })
    XCTAssertEqual(bad.status, 1)
    oneLine(bad, ["ty2.npy"])
  }

  func testCompareTakesCSVFilesWithATargetColumn() throws {
    let csv = NTKBinary.packageRoot + "/Data/fuel.csv"
    let spec = "{\"input_shape\":[7],\"layers\":[{\"type\":\"dense\",\"units\":4},{\"type\":\"tanh\"},{\"type\":\"dense\",\"units\":1}]}"
    try spec.write(toFile: path("m.json"), atomically: true, encoding: .utf8)
    let common = ["experiment", "compare", "--pool", csv, "--test", csv, "--model", path("m.json"), "--sizes", "4",
                  "--runs", "1", "--epochs", "2", "--methods", "random", "--jobs", "1", "--device", "cpu", "--standardize"]
    let r = try NTKBinary.run(common + ["--target", "mpg", "--out-dir", path("out"), "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue((try json(r.stdout)["data"] as? String ?? "").contains("standardised with the pool"), r.stdout)
    let bogus = try NTKBinary.run(common + ["--target", "bogus", "--out-dir", path("out2")])
    XCTAssertEqual(bogus.status, 1)
    oneLine(bogus, ["fuel.csv", "missing column 'bogus'"])
  }

  func testDeviceDefaultsToAutoEverywhere() throws {
    // Without an OpenCL platform, auto says so in one warning line and uses the CPU …
    try FileManager.default.createDirectory(atPath: path("no-vendors"), withIntermediateDirectories: true)
    let env = ["OCL_ICD_VENDORS": path("no-vendors")]
    let g = try NTKBinary.run(["gram"] + model + ["--inputs", golden + "/inputs.npy", "--out", path("k.npy"), "--json"],
                              environment: env)
    XCTAssertEqual(g.status, 0, g.stderr)
    XCTAssertTrue(g.stderr.contains("warning") && g.stderr.contains("using the CPU"), g.stderr)
    XCTAssertEqual(try json(g.stdout)["device"] as? String, "cpu")
    // … while select (tiny networks) takes the CPU under auto without probing OpenCL.
    try NPY.write(path("pool.npy"), shape: [10, 2], floats: (0..<20).map { (i: Int) -> Float in Float(i % 7) })
    let s = try NTKBinary.run(["select", "--pool", path("pool.npy"), "--size", "2", "--epochs", "1", "--out", path("p.npy"),
                               "--json"], environment: env)
    XCTAssertEqual(s.status, 0, s.stderr)
    XCTAssertFalse(s.stderr.contains("warning"), s.stderr)
    XCTAssertEqual(try json(s.stdout)["device"] as? String, "cpu")
    for command in [["gram"], ["train"], ["select"], ["stats"], ["forward"], ["experiment", "compare"], ["bench"]] {
      let help = try NTKBinary.run(command + ["--help"])
      XCTAssertTrue(help.stdout.contains("auto (default)"), "\(command) --help: \(help.stdout)")
    }
  }
}
