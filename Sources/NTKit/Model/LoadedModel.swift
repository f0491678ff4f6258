/// A network with its parameters, as the commands take them: a spec file plus
/// either a weights file or a seed for a fresh initialisation.
public struct LoadedModel: Sendable {
  public var network: Network
  public var parameters: ModelParameters
  public var modelPath: String

  public init(network: Network, parameters: ModelParameters, modelPath: String) {
    self.network = network
    self.parameters = parameters
    self.modelPath = modelPath
  }

  /// `weights` wins over `seed`; with neither, seed 0 is used.
  public static func load(model: String, weights: String?, seed: UInt64?) throws -> LoadedModel {
    let spec = try ModelSpec.load(model)
    let network = try Network(spec: spec, source: model)
    let parameters: ModelParameters
    if let weights {
      parameters = try ModelParameters.load(weights, network: network, specPath: model)
    } else {
      parameters = ModelParameters(initializing: network, seed: seed ?? 0)
    }
    return LoadedModel(network: network, parameters: parameters, modelPath: model)
  }

  /// Loads inputs and checks them against the model's `input_shape`.
  public func loadInputs(_ path: String, features: [String]?) throws -> Tensor {
    var x = try InputData.load(path, features: features)
    let expected = network.spec.inputShape
    if x.rowLength != network.inputSize || (x.shape.count > 1 && Array(x.shape.dropFirst()) != expected && x.shape.count != 2) {
      throw NTKitError.shapeMismatch(
        context: "\(path): inputs", expected: "[N, \(expected.map(String.init).joined(separator: ", "))] (input_shape of \(modelPath))",
        found: "\(x.shape)")
    }
    if x.shape.count == 2 && expected.count > 1 { x.shape = [x.rows] + expected }
    guard x.rows > 0 else { throw NTKitError.format(path: path, reason: "no samples (N = 0)") }
    return x
  }
}
