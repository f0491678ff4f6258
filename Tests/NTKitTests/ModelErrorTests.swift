import XCTest
@testable import NTKit

/// Bad model specs, weights and inputs at the library level: each error must
/// name the file and say what was expected and what was found.
final class ModelErrorTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws { dir = makeTempDirectory() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func writeSpec(_ name: String, _ json: String) throws -> String {
    let path = dir + "/" + name + ".model.json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Loads `json` as a spec file and expects an invalid-spec error naming the
  /// file whose text contains every fragment.
  func expectSpecError(_ name: String, _ json: String, _ fragments: [String],
                       file: StaticString = #filePath, line: UInt = #line) throws {
    let path = try writeSpec(name, json)
    XCTAssertThrowsError(try ModelSpec.load(path), name, file: file, line: line) { error in
      guard case NTKitError.invalidSpec(let p, _) = error else {
        return XCTFail("\(name): expected invalidSpec, got \(error)", file: file, line: line)
      }
      XCTAssertEqual(p, path, file: file, line: line)
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(path + ":"), "\(name): names the file: \(text)", file: file, line: line)
      for f in fragments {
        XCTAssertTrue(text.contains(f), "\(name): '\(f)' missing from: \(text)", file: file, line: line)
      }
    }
  }

  func testGoodSpecLoads() throws {
    // The control: the same skeleton as the bad specs below loads.
    let path = try writeSpec("good", #"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel": [3, 3]}, {"type": "relu"}, {"type": "flatten"}, {"type": "dense", "units": 1}]}"#)
    let spec = try ModelSpec.load(path)
    XCTAssertEqual(try Network(spec: spec, source: path).parameterCount, 3 * 3 * 2 + 2 + 8 + 1)
  }

  func testUnknownLayerType() throws {
    try expectSpecError("unknown-layer", #"{"input_shape": [4], "layers": [{"type": "dense", "units": 3}, {"type": "conv3d", "filters": 2}]}"#,
                        ["layers[1]", "unknown layer type \"conv3d\"", "dense, conv2d, avgpool2d, flatten"])
  }

  func testUnknownActivation() throws {
    try expectSpecError("unknown-activation", #"{"input_shape": [4], "layers": [{"type": "dense", "units": 3}, {"type": "swish"}, {"type": "dense", "units": 1}]}"#,
                        ["layers[1]", "\"swish\"", "relu", "leaky_relu", "identity"])
  }

  func testConvOnFlatInput() throws {
    try expectSpecError("conv-flat", #"{"input_shape": [16], "layers": [{"type": "conv2d", "filters": 2, "kernel": [3, 3]}, {"type": "flatten"}, {"type": "dense", "units": 1}]}"#,
                        ["layer 0 (conv2d)", "[H, W, C]", "found shape [16]"])
  }

  func testDenseOnImageWithoutFlatten() throws {
    try expectSpecError("dense-image", #"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel": [3, 3]}, {"type": "relu"}, {"type": "dense", "units": 1}]}"#,
                        ["layer 2 (dense)", "flat input", "found shape [2, 2, 2]", "flatten"])
  }

  func testKernelLargerThanInput() throws {
    try expectSpecError("big-kernel", #"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel": [5, 3]}, {"type": "flatten"}, {"type": "dense", "units": 1}]}"#,
                        ["layer 0 (conv2d)", "kernel [5, 3]", "larger than its input 4×4"])
    try expectSpecError("big-window", #"{"input_shape": [4, 4, 1], "layers": [{"type": "avgpool2d", "window": [2, 5]}, {"type": "flatten"}, {"type": "dense", "units": 1}]}"#,
                        ["layer 0 (avgpool2d)", "window [2, 5]", "larger than its input 4×4"])
  }

  func testMissingInputShape() throws {
    try expectSpecError("no-input-shape", #"{"layers": [{"type": "dense", "units": 1}]}"#,
                        ["input_shape is missing", "array of integers"])
    try expectSpecError("bad-input-shape", #"{"input_shape": "8", "layers": [{"type": "dense", "units": 1}]}"#,
                        ["input_shape must be an array of integers", "found \"8\""])
  }

  func testWrongParameterization() throws {
    try expectSpecError("bad-param", #"{"input_shape": [4], "parameterization": "NTK", "layers": [{"type": "dense", "units": 1}]}"#,
                        ["parameterization", "\"standard\" or \"ntk\"", "found \"NTK\""])
  }

  // MARK: - Weights

  /// dense 4 → 3, relu, dense 3 → 1: tensors layers.0.kernel [4, 3], layers.0.bias [3], layers.2.kernel [3, 1], layers.2.bias [1].
  func smallNetwork() throws -> Network {
    try Network(spec: ModelSpec(inputShape: [4], layers: [.dense(3), .activation(.relu), .dense(1)]), source: "test")
  }

  func goodTensors() -> [NamedTensor] {
    [NamedTensor(name: "layers.0.kernel", shape: [4, 3], values: (0..<12).map { Float($0) / 10 }),
     NamedTensor(name: "layers.0.bias", shape: [3], values: [0.1, 0.2, 0.3]),
     NamedTensor(name: "layers.2.kernel", shape: [3, 1], values: [1, -1, 0.5]),
     NamedTensor(name: "layers.2.bias", shape: [1], values: [0.25])]
  }

  func writeWeights(_ name: String, _ tensors: [NamedTensor]) throws -> String {
    let path = dir + "/" + name + ".safetensors"
    try Safetensors.write(path, tensors: tensors, allowingNonFinite: true)
    return path
  }

  func expectWeightsError(_ name: String, _ tensors: [NamedTensor], _ fragments: [String],
                          file: StaticString = #filePath, line: UInt = #line) throws {
    let network = try smallNetwork()
    let path = try writeWeights(name, tensors)
    XCTAssertThrowsError(try ModelParameters.load(path, network: network), name, file: file, line: line) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(path + ":"), "\(name): names the file: \(text)", file: file, line: line)
      for f in fragments {
        XCTAssertTrue(text.contains(f), "\(name): '\(f)' missing from: \(text)", file: file, line: line)
      }
    }
  }

  func testGoodWeightsLoad() throws {
    let p = try ModelParameters.load(try writeWeights("good", goodTensors()), network: try smallNetwork())
    XCTAssertEqual(p.values, goodTensors().flatMap(\.values))
  }

  func testMissingTensor() throws {
    try expectWeightsError("missing", goodTensors().filter { $0.name != "layers.2.kernel" },
                           ["missing tensor layers.2.kernel", "shape [3, 1]", "layer 2"])
  }

  func testWrongShape() throws {
    var t = goodTensors()
    t[0] = NamedTensor(name: "layers.0.kernel", shape: [3, 4], values: t[0].values)
    try expectWeightsError("shape", t, ["layers.0.kernel", "expected shape [4, 3]", "found [3, 4]"])
  }

  func testUnexpectedTensor() throws {
    try expectWeightsError("extra", goodTensors() + [NamedTensor(name: "layers.1.kernel", shape: [3], values: [1, 2, 3])],
                           ["unexpected tensor layers.1.kernel", "layers.0.bias, layers.0.kernel, layers.2.bias, layers.2.kernel"])
  }

  func testNaNInWeights() throws {
    var t = goodTensors()
    t[2].values[1] = .nan
    try expectWeightsError("nan", t, ["non-finite", "layers.2.kernel", "index 1"])
    t = goodTensors()
    t[1].values[2] = -.infinity
    try expectWeightsError("inf", t, ["non-finite", "layers.0.bias", "index 2"])
  }

  // MARK: - Inputs

  func testForwardWithWrongInputShape() throws {
    let network = try smallNetwork()
    let parameters = ModelParameters(values: goodTensors().flatMap(\.values))
    let good = Tensor(shape: [2, 4], data: (0..<8).map(Float.init))
    XCTAssertEqual(try NetworkEvaluation.forward(network: network, parameters: parameters, inputs: good, device: CPUDevice.shared).count, 2)
    for bad in [Tensor(shape: [2, 5], data: (0..<10).map(Float.init)), Tensor(shape: [8], data: (0..<8).map(Float.init)),
                Tensor(shape: [1, 2, 3], data: (0..<6).map(Float.init))] {
      XCTAssertThrowsError(try NetworkEvaluation.forward(network: network, parameters: parameters, inputs: bad, device: CPUDevice.shared)) { error in
        guard case NTKitError.shapeMismatch = error else { return XCTFail("expected shapeMismatch, got \(error)") }
        let text = "\(error)"
        XCTAssertTrue(text.contains("expected [N, 4]"), text)
        XCTAssertTrue(text.contains("found \(bad.shape)"), text)
      }
      XCTAssertThrowsError(try NetworkEvaluation.jacobian(network: network, parameters: parameters, inputs: bad, device: CPUDevice.shared) as [Float])
      var out = [Float](repeating: 0, count: bad.rows * bad.rows)
      XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer {
        try NTKGram.compute(network: network, parameters: parameters, inputs1: bad, device: CPUDevice.shared, output: $0)
      }) { error in XCTAssertTrue("\(error)".contains("found \(bad.rowLength)"), "\(error)") }
    }
  }
}
