import Foundation
import XCTest

/// `ntk init/forward/jacobian/gram/stats` as a user meets them: outputs,
/// exit codes (0 / 1 failure / 2 usage), one-line errors naming the file,
/// and no output file left behind on failure.
final class GramCLITests: XCTestCase {
  let golden = NTKBinary.fixtures + "/golden/04_cnn_tiny_digits"
  var dir = ""

  override func setUp() { dir = NTKBinary.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func gramArgs(_ out: String, _ extra: [String] = []) -> [String] {
    ["gram", "--model", golden + "/model.json", "--weights", golden + "/weights.safetensors",
     "--inputs", golden + "/inputs.npy", "--out", out] + extra
  }

  /// Reads a `<f4`/`<f8` .npy written by ntk (v1 header) as doubles.
  func readNPY(_ path: String) throws -> [Double] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<10 + headerLength], as: UTF8.self)
    let body = data[(10 + headerLength)...]
    if header.contains("<f8") {
      return body.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }
    return body.withUnsafeBytes { $0.bindMemory(to: Float.self).map(Double.init) }
  }

  func testGramMatchesGoldenAndStatsPrintsJSON() throws {
    let out = dir + "/k.npy"
    let r = try NTKBinary.run(gramArgs(out))
    XCTAssertEqual(r.status, 0, r.stderr)
    let k = try readNPY(out), ref = try readNPY(golden + "/ntk_trace.npy")
    XCTAssertEqual(k.count, ref.count)
    let scale = ref.map(abs).max()!
    XCTAssertLessThanOrEqual(zip(k, ref).map { abs($0 - $1) }.max()!, 2e-5 * scale)

    let s = try NTKBinary.run(["stats", "--kernel", out, "--json"])
    XCTAssertEqual(s.status, 0, s.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as! [String: Any]
    for key in ["n", "trace", "entropy", "lambda_max", "device"] { XCTAssertNotNil(json[key], "stats --json has \(key)") }
    XCTAssertEqual(json["n"] as? Int, 6)
  }

  func testFullModeF64AndInputs2() throws {
    let out = dir + "/full.npy"
    XCTAssertEqual(try NTKBinary.run(gramArgs(out, ["--mode", "full", "--precision", "f64"])).status, 0)
    let k = try readNPY(out), ref = try readNPY(golden + "/ntk_full.npy")
    XCTAssertLessThanOrEqual(zip(k, ref).map { abs($0 - $1) }.max()!, 1e-9 * ref.map(abs).max()!)
    // K(X, X) through --inputs2 equals the symmetric result.
    let cross = dir + "/cross.npy"
    XCTAssertEqual(try NTKBinary.run(gramArgs(cross, ["--inputs2", golden + "/inputs.npy"])).status, 0)
    let c = try readNPY(cross), t = try readNPY(golden + "/ntk_trace.npy")
    XCTAssertLessThanOrEqual(zip(c, t).map { abs($0 - $1) }.max()!, 2e-5 * t.map(abs).max()!)
  }

  func testInitForwardJacobian() throws {
    let w = dir + "/w.safetensors"
    XCTAssertEqual(try NTKBinary.run(["init", "--model", golden + "/model.json", "--seed", "3", "--out", w]).status, 0)
    let y = dir + "/y.npy", j = dir + "/j.npy"
    XCTAssertEqual(try NTKBinary.run(["forward", "--model", golden + "/model.json", "--weights", w,
                                      "--inputs", golden + "/inputs.npy", "--out", y]).status, 0)
    XCTAssertEqual(try readNPY(y).count, 6 * 5)
    let y64 = dir + "/y64.npy"
    XCTAssertEqual(try NTKBinary.run(["forward", "--model", golden + "/model.json", "--weights", golden + "/weights.safetensors",
                                      "--inputs", golden + "/inputs.npy", "--precision", "f64", "--out", y64]).status, 0)
    let f64 = try readNPY(y64), ref64 = try readNPY(golden + "/outputs.npy")
    XCTAssertLessThanOrEqual(zip(f64, ref64).map { abs($0 - $1) }.max()!, 1e-9 * ref64.map(abs).max()!)
    // A Jacobian larger than eight times the budget is refused, with no file left.
    try assertFails(["jacobian", "--model", golden + "/model.json", "--inputs", golden + "/inputs.npy",
                     "--memory-budget", "1K", "--out", j], mentions: ["Jacobian", "ntk gram"], output: j)
    XCTAssertEqual(try NTKBinary.run(["jacobian", "--model", golden + "/model.json", "--weights", golden + "/weights.safetensors",
                                      "--inputs", golden + "/inputs.npy", "--out", j]).status, 0)
    let jac = try readNPY(j), ref = try readNPY(golden + "/jacobian.npy")
    XCTAssertLessThanOrEqual(zip(jac, ref).map { abs($0 - $1) }.max()!, 2e-5 * ref.map(abs).max()!)
  }

  /// Writes `bytes` to a file in the temp folder and returns its path.
  func file(_ name: String, _ bytes: [UInt8]) -> String {
    let path = dir + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }

  func assertFails(_ args: [String], status: Int32 = 1, mentions words: [String], output: String,
                   file: StaticString = #filePath, line: UInt = #line) throws {
    let r = try NTKBinary.run(args)
    XCTAssertEqual(r.status, status, "exit status; stderr: \(r.stderr)", file: file, line: line)
    let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    if status == 1 {
      XCTAssertEqual(message.split(separator: "\n").count, 1, "one-line error: \(message)", file: file, line: line)
    }
    for w in words { XCTAssertTrue(message.contains(w), "error mentions \(w): \(message)", file: file, line: line) }
    XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no output file left behind", file: file, line: line)
  }

  func testBadInputs() throws {
    let out = dir + "/k.npy"
    let inputs = try Data(contentsOf: URL(fileURLWithPath: golden + "/inputs.npy"))
    // truncated .npy
    let truncated = file("truncated.npy", Array(inputs.prefix(inputs.count - 10)))
    try assertFails(["gram", "--model", golden + "/model.json", "--inputs", truncated, "--out", out],
                    mentions: ["truncated.npy"], output: out)
    // empty file
    let empty = file("empty.npy", [])
    try assertFails(["gram", "--model", golden + "/model.json", "--inputs", empty, "--out", out],
                    mentions: ["empty.npy", "empty"], output: out)
    // a directory where a file is expected
    try assertFails(["gram", "--model", golden + "/model.json", "--inputs", dir, "--out", out], mentions: [dir], output: out)
    // inputs whose shape does not match input_shape
    try assertFails(["gram", "--model", golden + "/model.json",
                     "--inputs", NTKBinary.fixtures + "/golden/01_dense_relu_standard/inputs.npy", "--out", out],
                    mentions: ["input_shape", "expected"], output: out)
    // NaN in inputs
    var nan = Array(inputs)
    nan.replaceSubrange((nan.count - 4)..<nan.count, with: [0, 0, 0xC0, 0x7F])
    try assertFails(["gram", "--model", golden + "/model.json", "--inputs", file("nan.npy", nan), "--out", out],
                    mentions: ["nan.npy", "NaN"], output: out)
    // weights missing a tensor / wrong shape: use another case's weights
    try assertFails(["gram", "--model", golden + "/model.json",
                     "--weights", NTKBinary.fixtures + "/golden/05_cnn_stride2_ntk/weights.safetensors",
                     "--inputs", golden + "/inputs.npy", "--out", out], mentions: ["weights.safetensors", "layers."], output: out)
    // unknown layer type
    let spec = file("bad.model.json", Array(#"{"input_shape": [8, 8, 1], "layers": [{"type": "maxpool"}]}"#.utf8))
    try assertFails(["gram", "--model", spec, "--inputs", golden + "/inputs.npy", "--out", out],
                    mentions: ["bad.model.json", "maxpool"], output: out)
    // a memory budget too small says how much is needed
    try assertFails(gramArgs(out, ["--memory-budget", "1K"]), mentions: ["memory budget", "needs"], output: out)
    // an output that cannot fit in memory is refused before any work
    let wide = file("wide.model.json", Array(#"{"input_shape": [2], "layers": [{"type": "dense", "units": 10}]}"#.utf8))
    var header: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (40000, 2), }"
    let padded = dict + String(repeating: " ", count: 63 - (10 + dict.utf8.count) % 64) + "\n"
    header += [UInt8(padded.utf8.count & 255), UInt8(padded.utf8.count >> 8)] + Array(padded.utf8)
    let big = file("big.npy", header + [UInt8](repeating: 0, count: 40000 * 2 * 4))
    try assertFails(["gram", "--model", wide, "--inputs", big, "--mode", "full", "--out", out],
                    mentions: ["[40000, 10, 40000, 10]", "memory"], output: out)
    // a CSV with a non-numeric cell names the line
    let csv = file("bad.csv", Array("a,b\n1,2\n3,x\n".utf8))
    let dense = file("dense.model.json", Array(#"{"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}"#.utf8))
    try assertFails(["gram", "--model", dense, "--inputs", csv, "--out", out], mentions: ["bad.csv", "line 3"], output: out)
  }

  func testCSVStandardizeAndSavedScaler() throws {
    let csv = file("data.csv", Array("a,b,y\n1,10,0\n2,20,1\n4,30,0\n".utf8))
    let spec = file("m.model.json", Array(#"{"input_shape": [2], "layers": [{"type": "dense", "units": 3}, {"type": "tanh"}, {"type": "dense", "units": 1}]}"#.utf8))
    let k1 = dir + "/k1.npy", k2 = dir + "/k2.npy", raw = dir + "/raw.npy", scaler = dir + "/scaler.json"
    let base = ["gram", "--model", spec, "--seed", "1", "--inputs", csv, "--features", "a,b"]
    XCTAssertEqual(try NTKBinary.run(base + ["--out", raw]).status, 0)
    XCTAssertEqual(try NTKBinary.run(base + ["--standardize", "--save-scaler", scaler, "--out", k1]).status, 0)
    XCTAssertEqual(try NTKBinary.run(base + ["--scaler", scaler, "--out", k2]).status, 0)
    XCTAssertEqual(try readNPY(k1), try readNPY(k2), "a saved scaler reproduces the standardised inputs")
    XCTAssertNotEqual(try readNPY(k1), try readNPY(raw), "standardising changes the kernel")
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scaler))) as! [String: Any]
    XCTAssertEqual((json["mean"] as! [Double])[0], 7.0 / 3.0, accuracy: 1e-12)
    XCTAssertEqual(json["columns"] as? [String], ["a", "b"])
    try assertFails(base + ["--save-scaler", scaler, "--out", dir + "/x.npy"], status: 2, mentions: ["--standardize"],
                    output: dir + "/x.npy")
    let badScaler = file("bad.json", Array(#"{"columns": ["a"], "mean": [0], "std": [1]}"#.utf8))
    try assertFails(base + ["--scaler", badScaler, "--out", dir + "/x.npy"], mentions: ["bad.json", "columns"],
                    output: dir + "/x.npy")
  }

  func testUsageErrorsExitTwo() throws {
    let out = dir + "/k.npy"
    try assertFails(gramArgs(out, ["--mode", "diagonal"]), status: 2, mentions: ["--mode"], output: out)
    try assertFails(["gram", "--model", golden + "/model.json"], status: 2, mentions: ["--inputs"], output: out)
    try assertFails(["frobnicate"], status: 2, mentions: [], output: out)
    try assertFails(gramArgs(out, ["--device", "tpu"]), status: 2, mentions: ["tpu"], output: out)
    XCTAssertEqual(try NTKBinary.run(["--help"]).status, 0)
  }
}
