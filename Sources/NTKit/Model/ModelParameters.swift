/// The flat parameter vector θ of a network, in the order of
/// `golden/README.md` (per parameter layer: kernel row-major, then bias).
public struct ModelParameters: Sendable, Equatable {
  public var values: [Float]

  public init(values: [Float]) { self.values = values }

  /// Seeded initialisation. standard: LeCun normal kernels N(0, 1/fan_in) and
  /// zero biases; ntk: N(0, 1) kernels and biases (the scale is in the forward pass).
  public init(initializing network: Network, seed: UInt64) {
    var rng = SeededRandom(seed: seed, stream: "init")
    var values = [Float](repeating: 0, count: network.parameterCount)
    let ntk = network.spec.parameterization == .ntk
    for layer in network.affineLayers {
      let sd = ntk ? 1.0 : 1.0 / Double(layer.geometry.patch).squareRoot()
      for k in 0..<layer.kernelCount { values[layer.kernelOffset + k] = Float(rng.normal() * sd) }
      if layer.hasBias && ntk {
        for k in 0..<layer.geometry.outC { values[layer.biasOffset + k] = Float(rng.normal()) }
      }
    }
    self.values = values
  }

  /// Parameters from named tensors (`layers.{i}.kernel` / `layers.{i}.bias`),
  /// checking names, shapes and finiteness. `source` names the file in errors.
  public init(network: Network, tensors: [String: (shape: [Int], values: [Float])], source: String) throws {
    var values = [Float](repeating: 0, count: network.parameterCount)
    var expected = Set<String>()
    for layer in network.affineLayers {
      var entries = [(layer.kernelName, layer.kernelShape, layer.kernelOffset)]
      if layer.hasBias { entries.append((layer.biasName, [layer.geometry.outC], layer.biasOffset)) }
      for (name, shape, offset) in entries {
        expected.insert(name)
        guard let t = tensors[name] else {
          throw NTKitError.missing(path: source, name: "tensor \(name) (shape \(shape)) needed by layer \(layer.specIndex)")
        }
        guard t.shape == shape else {
          throw NTKitError.shapeMismatch(context: "\(source): tensor \(name)", expected: "shape \(shape)", found: "\(t.shape)")
        }
        if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
          throw NTKitError.nonFinite(path: source, detail: "in tensor \(name) at flat index \(bad)")
        }
        for (k, v) in t.values.enumerated() { values[offset + k] = v }
      }
    }
    if let extra = tensors.keys.filter({ !expected.contains($0) }).sorted().first {
      throw NTKitError.invalidArgument(
        "\(source): unexpected tensor \(extra): the model spec has no parameter of that name (expected \(expected.sorted().joined(separator: ", ")))")
    }
    self.values = values
  }

  /// Named tensors in spec order, for writing a safetensors file.
  public func tensors(for network: Network) -> [(name: String, shape: [Int], values: [Float])] {
    var out: [(String, [Int], [Float])] = []
    for layer in network.affineLayers {
      out.append((layer.kernelName, layer.kernelShape,
                  Array(values[layer.kernelOffset..<layer.kernelOffset + layer.kernelCount])))
      if layer.hasBias {
        out.append((layer.biasName, [layer.geometry.outC],
                    Array(values[layer.biasOffset..<layer.biasOffset + layer.geometry.outC])))
      }
    }
    return out
  }
}
