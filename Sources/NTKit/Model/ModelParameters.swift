/// The flat parameter vector θ of a network, in the order of
/// `golden/README.md` (per parameter layer: kernel row-major, then bias).
///
/// `values64`, when present, holds θ exactly as read from F64 weights
/// (`values` is then its float32 rounding); float64 computations use it.
/// Any change to `values` (training, `setParameters`) drops it.
public struct ModelParameters: Sendable, Equatable {
  public var values: [Float] { didSet { values64 = nil } }
  public private(set) var values64: [Double]?

  public init(values: [Float]) {
    self.values = values
    self.values64 = nil
  }

  /// Float64 parameters; `values` is their float32 rounding.
  public init(doubles: [Double]) {
    self.values = doubles.map { Float($0) }
    self.values64 = doubles
  }

  /// Equality of the float32 values.
  public static func == (a: ModelParameters, b: ModelParameters) -> Bool { a.values == b.values }

  /// θ as float64: `values64` when present, else `values` widened.
  public var doubles: [Double] { values64 ?? values.map { Double($0) } }

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
    self.values64 = nil
  }

  /// Parameters from named tensors (`layers.{i}.kernel` / `layers.{i}.bias`),
  /// checking names, shapes and finiteness. `source` names the file in errors.
  public init(network: Network, tensors: [String: (shape: [Int], values: [Float])], source: String) throws {
    try self.init(network: network,
                  named: tensors.mapValues { (shape: $0.shape, values: $0.values, values64: nil) }, source: source)
  }

  /// As `init(network:tensors:source:)`; tensors with float64 values (F64
  /// weights) make the parameters float64 (`values64`), the others widen.
  /// Names are checked before shapes: a file whose names do not match (renamed
  /// keys, indices that skip activations) is reported as such, listing the
  /// names expected and found.
  public init(network: Network, named tensors: [String: (shape: [Int], values: [Float], values64: [Double]?)],
              source: String) throws {
    var entries: [(name: String, shape: [Int], offset: Int, layer: Int)] = []
    for layer in network.affineLayers {
      entries.append((layer.kernelName, layer.kernelShape, layer.kernelOffset, layer.specIndex))
      if layer.hasBias { entries.append((layer.biasName, [layer.geometry.outC], layer.biasOffset, layer.specIndex)) }
    }
    try Self.checkNames(expected: entries.map { ($0.name, $0.shape, $0.layer) }, found: Array(tensors.keys), source: source)
    let wide = tensors.values.contains { $0.values64 != nil }
    var values = [Float](repeating: 0, count: network.parameterCount)
    var doubles = wide ? [Double](repeating: 0, count: network.parameterCount) : []
    for (name, shape, offset, _) in entries {
      let t = tensors[name]!
      guard t.shape == shape else {
        throw NTKitError.shapeMismatch(context: "\(source): tensor \(name)", expected: "shape \(shape)", found: "\(t.shape)")
      }
      if let bad = t.values64?.firstIndex(where: { !$0.isFinite }) ?? t.values.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: source, detail: "in tensor \(name) at flat index \(bad)")
      }
      for (k, v) in t.values.enumerated() { values[offset + k] = v }
      if wide {
        if let v64 = t.values64 {
          for (k, v) in v64.enumerated() { doubles[offset + k] = v }
        } else {
          for (k, v) in t.values.enumerated() { doubles[offset + k] = Double(v) }
        }
      }
    }
    self.values = values
    self.values64 = wide ? doubles : nil
  }

  /// One line when the tensor names differ from the spec's: what is missing,
  /// what is unexpected, the names expected and the names found.
  static func checkNames(expected: [(name: String, shape: [Int], layer: Int)], found: [String], source: String) throws {
    let expectedNames = Set(expected.map(\.name)), foundNames = Set(found)
    guard expectedNames != foundNames else { return }
    let missing = expected.filter { !foundNames.contains($0.name) }
    let extra = foundNames.subtracting(expectedNames).sorted()
    let lists = "expected \(expectedNames.sorted().joined(separator: ", ")); found \(found.isEmpty ? "no tensors" : found.sorted().joined(separator: ", "))"
    var hint = ""
    if !missing.isEmpty && !extra.isEmpty {
      hint = "; the names are layers.{i}.kernel / layers.{i}.bias with i the layer's index in the spec's layers list, activations included (docs/formats.md)"
    }
    if let first = missing.first {
      var text = "tensor \(first.name) (shape \(first.shape)) needed by layer \(first.layer)"
      if missing.count > 1 { text += " and \(missing.count - 1) more (\(missing.dropFirst().map(\.name).joined(separator: ", ")))" }
      if !extra.isEmpty { text += "; unexpected tensor\(extra.count > 1 ? "s" : "") \(extra.joined(separator: ", "))" }
      throw NTKitError.missing(path: source, name: text + "; " + lists + hint)
    }
    throw NTKitError.invalidArgument(
      "\(source): unexpected tensor \(extra.joined(separator: ", ")): the model spec has no parameter of that name (\(lists))")
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
