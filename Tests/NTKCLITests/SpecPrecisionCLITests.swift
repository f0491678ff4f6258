import Foundation
import XCTest

/// Strict specs, weights metadata and `--precision f64` as a user meets them
/// on the command line: one-line errors naming the file, exit 1, float64
/// files in and out.
final class SpecPrecisionCLITests: XCTestCase {
  let f64 = NTKBinary.fixtures + "/f64"
  var dir = ""

  override func setUp() { dir = NTKBinary.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let path = dir + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  func readNPY(_ path: String) throws -> (dtype: String, values: [Double]) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<10 + headerLength], as: UTF8.self)
    let body = Data(data[(10 + headerLength)...])
    if header.contains("<f8") { return ("<f8", body.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }) }
    return ("<f4", body.withUnsafeBytes { $0.bindMemory(to: Float.self).map(Double.init) })
  }

  func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
    XCTAssertEqual(a.count, b.count)
    return zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
  }

  func testUnknownSpecKeyIsOneLineNamingTheFile() throws {
    let spec = try write("m.json", Array(#"{"input_shape": [3], "layers": [{"type": "dense", "units": 3}, {"type": "leaky_relu", "alph": 0.2}, {"type": "dense", "units": 1}]}"#.utf8))
    let out = dir + "/w.safetensors"
    let r = try NTKBinary.run(["init", "--model", spec, "--out", out])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains(spec + ": invalid model spec: layers[1] (leaky_relu): unknown key 'alph'; did you mean 'alpha'?"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
  }

  func testInitWritesMetadataAndShorthandSpecsRun() throws {
    let spec = try write("m.json", Array(#"{"input_shape": [3], "parameterisation": "ntk", "layers": [{"type": "dense", "units": 4, "activation": "tanh", "use_bias": false}, {"type": "dense", "units": 1}]}"#.utf8))
    let weights = dir + "/w.safetensors"
    let r = try NTKBinary.run(["init", "--model", spec, "--seed", "3", "--out", weights])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("17 parameters"), r.stdout)  // 3·4 (no bias) + 4 + 1
    let data = try Data(contentsOf: URL(fileURLWithPath: weights))
    let header = String(decoding: data[8..<min(data.count, 400)], as: UTF8.self)
    for f in [#""parameterization":"ntk""#, #""ntkit_version":""#, #""spec_sha256":""#, "layers.1.kernel"] {
      XCTAssertTrue(header.contains(f), "\(f) missing from \(header)")
    }
    XCTAssertFalse(header.contains("layers.0.bias"), header)
  }

  func testFloat64EndToEnd() throws {
    for name in ["dense", "conv"] {
      let model = ["--model", "\(f64)/\(name).model.json", "--weights", "\(f64)/\(name).f64.safetensors",
                   "--inputs", "\(f64)/\(name).inputs.npy", "--precision", "f64", "--device", "cpu"]
      for (command, reference, extra) in [("forward", "forward", [String]()), ("jacobian", "jacobian", []),
                                          ("gram", "ntk_trace", []), ("gram", "ntk_full", ["--mode", "full"])] {
        let out = dir + "/\(name).\(reference).npy"
        let r = try NTKBinary.run([command] + model + extra + ["--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (dtype, values) = try readNPY(out)
        XCTAssertEqual(dtype, "<f8")
        let ref = try readNPY("\(f64)/\(name).\(reference).npy").values
        XCTAssertLessThanOrEqual(maxRelative(values, ref), 1e-12, "\(name) \(reference)")
      }
      // stats on the <f8 kernel, on the full-mode kernel, and on the model path in f64.
      let cv = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(f64)/\(name).cv.json"))) as! [String: Double]
      for (args, prefix) in [(["--kernel", "\(f64)/\(name).ntk_trace.npy"], ""), (["--kernel", "\(f64)/\(name).ntk_full.npy"], "full_"),
                             (model, "")] {
        let r = try NTKBinary.run(["stats", "--json"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        for key in ["trace", "entropy", "lambda_max"] {
          let want = cv[prefix + key]!, value = got[key] as! Double
          XCTAssertLessThanOrEqual(abs(value - want), 1e-12 * abs(want), "\(name) \(args.first!) \(prefix)\(key)")
        }
      }
    }
    // CSV inputs keep their 17 significant digits.
    let out = dir + "/csv.npy"
    let r = try NTKBinary.run(["forward", "--model", "\(f64)/dense.model.json", "--weights", "\(f64)/dense.f64.safetensors",
                               "--inputs", "\(f64)/dense.inputs.csv", "--precision", "f64", "--out", out])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertLessThanOrEqual(maxRelative(try readNPY(out).values, try readNPY("\(f64)/dense.forward.npy").values), 1e-12)
  }

  func testControlBytesInInputAreEscapedInErrors() throws {
    let csv = try write("x.csv", Array("a,b,c\n1,2,3\n4,x".utf8) + [0] + Array("tail,6\n".utf8))
    let r = try NTKBinary.run(["forward", "--model", "\(f64)/dense.model.json", "--inputs", csv, "--out", dir + "/o.npy"])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains(#"non-numeric cell 'x\0tail'"#), r.stderr)
  }
}
