import Foundation
import XCTest
@testable import NTKit

/// Strict model specs: unknown keys are errors with a "did you mean" hint,
/// the common alternative spellings are implemented (not ignored), weight-name
/// mismatches list what was expected and found, and every weights file ntk
/// writes carries the parameterization, the spec hash and the version.
final class SpecStrictnessTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws { dir = makeTempDirectory() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ text: String) throws -> String {
    let path = dir + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func expectSpecError(_ json: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let path = try write("bad.model.json", json)
    XCTAssertThrowsError(try ModelSpec.load(path), file: file, line: line) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(path + ": invalid model spec: "), "names the file: \(text)", file: file, line: line)
      XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
      for f in fragments { XCTAssertTrue(text.contains(f), "'\(f)' missing from: \(text)", file: file, line: line) }
    }
  }

  // MARK: - Unknown keys

  func testUnknownKeysAreErrorsWithTheNearestValidKey() throws {
    try expectSpecError(#"{"input_shape": [4], "layer": [{"type": "dense", "units": 1}]}"#,
                        ["unknown key 'layer'", "did you mean 'layers'?"])
    try expectSpecError(#"{"input_shap": [4], "layers": [{"type": "dense", "units": 1}]}"#,
                        ["unknown key 'input_shap'", "did you mean 'input_shape'?"])
    try expectSpecError(#"{"input_shape": [4], "layers": [{"type": "dense", "units": 3}, {"type": "leaky_relu", "alph": 0.2}, {"type": "dense", "units": 1}]}"#,
                        ["layers[1] (leaky_relu)", "unknown key 'alph'", "did you mean 'alpha'?"])
    try expectSpecError(#"{"input_shape": [4], "layers": [{"type": "dense", "unit": 1}]}"#,
                        ["layers[0] (dense)", "unknown key 'unit'", "did you mean 'units'?"])
    try expectSpecError(#"{"input_shape": [4], "layers": [{"type": "dense", "units": 3, "activaton": "tanh"}, {"type": "dense", "units": 1}]}"#,
                        ["unknown key 'activaton'", "did you mean 'activation'?"])
    // A key of another layer type: no near key, so the valid ones are listed.
    try expectSpecError(#"{"input_shape": [4], "layers": [{"type": "dense", "units": 3}, {"type": "relu", "alpha": 0.1}, {"type": "dense", "units": 1}]}"#,
                        ["layers[1] (relu)", "unknown key 'alpha'", "expected one of type"])
    try expectSpecError(#"{"input_shape": [4], "layers": [{"type": "Dense", "units": 1}]}"#,
                        ["unknown layer type \"Dense\"", "did you mean \"dense\"?"])
    // The same setting under two spellings.
    try expectSpecError(#"{"input_shape": [4], "parameterization": "ntk", "parameterisation": "standard", "layers": [{"type": "dense", "units": 1}]}"#,
                        ["'parameterisation' and 'parameterization'", "twice"])
  }

  func testControlBytesInKeysAreEscapedNotCut() throws {
    let path = try write("nul.model.json", "{\"input_shape\": [4], \"layers\": [{\"type\": \"dense\", \"units\": 1, \"a\\u0000b\\nc\": 1}]}")
    XCTAssertThrowsError(try ModelSpec.load(path)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains(#"unknown key 'a\0b\nc'"#), text)
      XCTAssertFalse(text.contains("\0") || text.contains("\n"), text)
    }
    XCTAssertEqual(MessageText.escaped("a\u{0}b\tc\u{1B}[31m\u{7F}é"), #"a\0b\tc\u{1B}[31m\u{7F}é"#)
    XCTAssertEqual(NTKitError.format(path: "x\ny.csv", reason: "cell \"1\u{0}2\"").description, #"x\ny.csv: cell "1\02""#)
  }

  // MARK: - Accepted spellings

  func testAlternativeSpellingsAreImplemented() throws {
    let british = try ModelSpec(json: JSONValue.parse(#"""
      {"input_shape": [3], "parameterisation": "ntk", "layers": [
        {"type": "dense", "units": 4, "use_bias": false}, {"type": "leaky_relu", "negative_slope": 0.2},
        {"type": "dense", "units": 2}, {"type": "leaky_relu", "slope": 0.3}, {"type": "dense", "units": 1}]}
      """#), source: "t")
    XCTAssertEqual(british, ModelSpec(inputShape: [3], parameterization: .ntk, layers: [
      .dense(units: 4, bias: false, wStd: 1, bStd: 1), .activation(.leakyRelu(alpha: 0.2)),
      .dense(units: 2, bias: true, wStd: 1, bStd: 1), .activation(.leakyRelu(alpha: 0.3)), .dense(1)]))
    // use_bias: false really removes the bias: no parameters, no tensor written.
    let network = try Network(spec: british, source: "t")
    XCTAssertEqual(network.parameterCount, 3 * 4 + (4 * 2 + 2) + (2 + 1))
    let names = ModelParameters(initializing: network, seed: 1).tensors(for: network).map(\.name)
    XCTAssertEqual(names, ["layers.0.kernel", "layers.2.kernel", "layers.2.bias", "layers.4.kernel", "layers.4.bias"])
  }

  func testTopLevelWStdAndBStdAreLayerDefaults() throws {
    let spec = try ModelSpec(json: JSONValue.parse(#"""
      {"input_shape": [3], "parameterization": "ntk", "w_std": 1.5, "b_std": 0.1, "layers": [
        {"type": "dense", "units": 4}, {"type": "relu"}, {"type": "dense", "units": 1, "w_std": 2}]}
      """#), source: "t")
    XCTAssertEqual(spec.layers[0], .dense(units: 4, bias: true, wStd: 1.5, bStd: 0.1))
    XCTAssertEqual(spec.layers[2], .dense(units: 1, bias: true, wStd: 2, bStd: 0.1))
    let network = try Network(spec: spec, source: "t")
    XCTAssertEqual(network.affineLayers[0].weightScale, 1.5 / 3.0.squareRoot(), accuracy: 1e-15)
    XCTAssertEqual(network.affineLayers[0].biasScale, 0.1)
    XCTAssertEqual(network.affineLayers[1].weightScale, 2 / 2.0, accuracy: 1e-15)
    // Under standard they would do nothing: refused, not ignored.
    try expectSpecError(#"{"input_shape": [3], "w_std": 2, "layers": [{"type": "dense", "units": 1}]}"#,
                        ["w_std applies only under \"parameterization\": \"ntk\""])
    try expectSpecError(#"{"input_shape": [3], "parameterization": "standard", "layers": [{"type": "dense", "units": 1, "b_std": 0.5}]}"#,
                        ["layers[0] (dense): b_std applies only under"])
  }

  func testActivationShorthandExpandsAndKeepsTheFileIndex() throws {
    let short = try ModelSpec(json: JSONValue.parse(#"""
      {"input_shape": [3], "layers": [
        {"type": "dense", "units": 4, "activation": "tanh"},
        {"type": "dense", "units": 2, "activation": {"type": "leaky_relu", "alpha": 0.25}},
        {"type": "dense", "units": 1}]}
      """#), source: "t")
    let long = try ModelSpec(json: JSONValue.parse(#"""
      {"input_shape": [3], "layers": [
        {"type": "dense", "units": 4}, {"type": "tanh"},
        {"type": "dense", "units": 2}, {"type": "leaky_relu", "alpha": 0.25}, {"type": "dense", "units": 1}]}
      """#), source: "t")
    XCTAssertEqual(short.layers, long.layers)
    XCTAssertEqual(short.fileIndices, [0, 0, 1, 1, 2])
    // The weights keep the file's layer index.
    let shortNet = try Network(spec: short, source: "t"), longNet = try Network(spec: long, source: "t")
    XCTAssertEqual(shortNet.affineLayers.map(\.kernelName), ["layers.0.kernel", "layers.1.kernel", "layers.2.kernel"])
    XCTAssertEqual(longNet.affineLayers.map(\.kernelName), ["layers.0.kernel", "layers.2.kernel", "layers.4.kernel"])
    // Same function: the activation is applied (not a linear network).
    let theta = ModelParameters(initializing: longNet, seed: 3)
    let x = Tensor(shape: [2, 3], data: [0.5, -1, 2, 1.5, 0.25, -0.75])
    let a: [Double] = try NetworkEvaluation.forward(network: shortNet, parameters: theta, inputs: x, device: CPUDevice.shared, as: Double.self)
    let b: [Double] = try NetworkEvaluation.forward(network: longNet, parameters: theta, inputs: x, device: CPUDevice.shared, as: Double.self)
    XCTAssertEqual(a, b)
    let linear = try Network(spec: ModelSpec(inputShape: [3], layers: [.dense(4), .dense(2), .dense(1)]), source: "t")
    let c: [Double] = try NetworkEvaluation.forward(network: linear, parameters: theta, inputs: x, device: CPUDevice.shared, as: Double.self)
    XCTAssertNotEqual(a, c)
    // The canonical JSON keeps the shorthand, so it round-trips.
    XCTAssertEqual(try ModelSpec(json: short.json, source: "t"), short)
    XCTAssertEqual(try ModelSpec(json: long.json, source: "t"), long)
    // Errors name the activation.
    try expectSpecError(#"{"input_shape": [3], "layers": [{"type": "dense", "units": 1, "activation": "tahn"}]}"#,
                        ["layers[0] (dense): activation", "unknown activation \"tahn\"", "did you mean \"tanh\"?"])
    try expectSpecError(#"{"input_shape": [3], "layers": [{"type": "dense", "units": 1, "activation": {"type": "dense"}}]}"#,
                        ["\"dense\" is not an activation"])
  }

  // MARK: - Weights

  func weightsNetwork() throws -> Network {
    try Network(spec: ModelSpec(inputShape: [4], layers: [.dense(3), .activation(.relu), .dense(1)]), source: "t")
  }

  func testRenamedWeightKeysListExpectedAndFoundNames() throws {
    let network = try weightsNetwork()
    // Indices counting parameter layers only (layers.1 for the second dense):
    // the shapes of layers.1 would not matter, the names are reported first.
    let path = dir + "/renamed.safetensors"
    try Safetensors.write(path, tensors: [
      NamedTensor(name: "layers.0.kernel", shape: [4, 3], values: .init(repeating: 0.1, count: 12)),
      NamedTensor(name: "layers.0.bias", shape: [3], values: [0, 0, 0]),
      NamedTensor(name: "layers.1.kernel", shape: [3, 1], values: [1, 1, 1]),
      NamedTensor(name: "layers.1.bias", shape: [1], values: [0]),
    ])
    XCTAssertThrowsError(try ModelParameters.load(path, network: network)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(path + ": missing tensor layers.2.kernel"), text)
      for f in ["unexpected tensors layers.1.bias, layers.1.kernel",
                "expected layers.0.bias, layers.0.kernel, layers.2.bias, layers.2.kernel",
                "found layers.0.bias, layers.0.kernel, layers.1.bias, layers.1.kernel", "activations included"] {
        XCTAssertTrue(text.contains(f), "'\(f)' missing from: \(text)")
      }
      XCTAssertFalse(text.contains("expected shape"), "a name mismatch, not a shape mismatch: \(text)")
    }
    // Flax-style names.
    try Safetensors.write(path, tensors: [NamedTensor(name: "Dense_0/kernel", shape: [4, 3], values: .init(repeating: 0, count: 12))])
    XCTAssertThrowsError(try ModelParameters.load(path, network: network)) { error in
      XCTAssertTrue("\(error)".contains("found Dense_0/kernel"), "\(error)")
    }
  }

  func testWeightsFilesCarryMetadataAndTheSpecHash() throws {
    let specPath = try write("m.model.json", #"{"input_shape": [4], "parameterisation": "ntk", "layers": [{"type": "dense", "units": 3, "activation": "relu"}, {"type": "dense", "units": 1}]}"#)
    let spec = try ModelSpec.load(specPath)
    let network = try Network(spec: spec, source: specPath)
    let path = dir + "/w.safetensors"
    try ModelParameters(initializing: network, seed: 0).save(path, network: network)
    let (_, metadata) = try Safetensors.readFile(path)
    XCTAssertEqual(metadata["parameterization"], "ntk")
    XCTAssertEqual(metadata["ntkit_version"], NTKitVersion.string)
    XCTAssertEqual(metadata["spec_sha256"], spec.hash)
    XCTAssertEqual(spec.hash.count, 64)
    // The hash is of the canonical JSON: spelling and layout do not change it, the network does.
    let same = try ModelSpec(json: JSONValue.parse(#"{"layers": [{"units": 3, "type": "dense", "activation": "relu", "use_bias": true}, {"type": "dense", "units": 1, "w_std": 1.0}], "parameterization": "ntk", "input_shape": [4]}"#), source: "t")
    XCTAssertEqual(same.hash, spec.hash)
    var other = spec
    other.parameterization = .standard
    XCTAssertNotEqual(other.hash, spec.hash)
    // Weights written for one parameterization are refused by a spec of the other.
    let standard = try Network(spec: other, source: "t")
    XCTAssertThrowsError(try ModelParameters.load(path, network: standard)) { error in
      XCTAssertTrue("\(error)".contains("written for parameterization \"ntk\""), "\(error)")
      XCTAssertTrue("\(error)".contains("uses \"standard\""), "\(error)")
    }
    XCTAssertNoThrow(try ModelParameters.load(path, network: network))
  }

  func testSHA256KnownVectors() {
    XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1000)),
                   "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
  }

  /// Every spec in the repository and its fixtures still loads under the strict parser.
  func testBundledSpecsStayValid() throws {
    var checked = 0
    let root = Fixtures.root
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let file = enumerator?.nextObject() as? String {
      guard file.hasSuffix("model.json") else { continue }
      XCTAssertNoThrow(try ModelSpec.load(root + "/" + file), file)
      checked += 1
    }
    XCTAssertGreaterThan(checked, 5)
  }
}
