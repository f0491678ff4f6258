/// The networks of an RND run as every backend starts from them: the
/// architecture, the target F's and the predictor G's initial weights, and
/// the hash a checkpoint records.
struct RNDModel {
  let spec: ModelSpec
  let network: Network
  let target: ModelParameters
  let predictor: ModelParameters
  /// Computed when a checkpoint is written or checked, not at start: `"\(spec)"`
  /// describes the spec by reflection, whose first use scans the binary's
  /// protocol conformances (≈ 0.5 ms of a short `ntk select`).
  var hash: UInt64 { RNDModel.hash(spec: spec, target: target, predictor: predictor) }

  init(_ request: SelectionRequest) throws {
    let d = request.pool.rowLength
    spec = request.model ?? SelectionRequest.defaultModel(features: d)
    network = try Network(spec: spec)
    guard network.inputSize == d else {
      throw NTKitError.shapeMismatch(context: "RND model input", expected: "\(d) features (the pool's)",
                                     found: "input shape \(spec.inputShape) (\(network.inputSize) values)")
    }
    target = try RNDModel.weights(request.targetWeights, network: network, seed: request.seed, role: "target")
    predictor = try RNDModel.weights(request.predictorWeights, network: network, seed: request.seed, role: "predictor")
  }

  /// Hash of the spec and both initial networks (what a checkpoint records).
  static func hash(spec: ModelSpec, target: ModelParameters, predictor: ModelParameters) -> UInt64 {
    var h = FNV1a()
    for byte in "\(spec)".utf8 { h.add(word: UInt64(byte)) }
    for x in target.values { h.add(word: UInt64(x.bitPattern)) }
    for x in predictor.values { h.add(word: UInt64(x.bitPattern)) }
    return h.value
  }

  static func weights(_ source: InitialWeights, network: Network, seed: UInt64, role: String) throws -> ModelParameters {
    switch source {
    case .seeded:
      var rng = SeededRandom(seed: seed, stream: "rnd \(role)")
      return ModelParameters(initializing: network, seed: rng.next())
    case .parameters(let p):
      guard p.values.count == network.parameterCount else {
        throw NTKitError.shapeMismatch(context: "\(role) initial weights", expected: "\(network.parameterCount) parameters (the model's)",
                                       found: "\(p.values.count)")
      }
      if let bad = p.values.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: "\(role) initial weights", detail: "at flat index \(bad)")
      }
      return p
    case .file(let path):
      return try ModelParameters.load(path, network: network)
    }
  }
}
