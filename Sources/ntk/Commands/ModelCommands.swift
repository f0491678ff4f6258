import ArgumentParser
import NTKit

struct InitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "init", abstract: "Write a seeded initialisation of a model's weights.")

  @Option(help: "Model spec JSON.") var model: String
  @Option(help: "Seed.") var seed: UInt64 = 0
  @Option(help: "Output weights (.safetensors).") var out: String

  func run() throws {
    let loaded = try LoadedModel.load(model: model, weights: nil, seed: seed)
    try loaded.parameters.save(out, network: loaded.network)
    print("wrote \(out): \(loaded.network.parameterCount) parameters (\(loaded.network.spec.parameterization.rawValue) initialisation, seed \(seed))")
  }
}

struct ForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "forward", abstract: "Network outputs f(X) as [N, M].")

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @OptionGroup var compute: ComputeOptions
  @Option(help: "Output .npy.") var out: String

  func run() throws {
    let loaded = try model.load()
    let (x, _) = try input.load(loaded)
    let device = try compute.makeDevice()
    let m = loaded.network.outputSize
    switch compute.parsedPrecision {
    case .f32:
      let y: [Float] = try NetworkEvaluation.forward(network: loaded.network, parameters: loaded.parameters, inputs: x, device: device,
                                                     fallback: compute.fallback)
      try NPY.write(out, shape: [x.rows, m], floats: y)
    case .f64:
      let y: [Double] = try NetworkEvaluation.forward(network: loaded.network, parameters: loaded.parameters, inputs: x,
                                                      device: device, as: Double.self, fallback: compute.fallback)
      try NPY.write(out, shape: [x.rows, m], doubles: y)
    }
    print("wrote \(out): outputs [\(x.rows), \(m)]")
  }
}

struct JacobianCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "jacobian", abstract: "Per-sample Jacobians ∂f/∂θ as [N, M, P].")

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @OptionGroup var compute: ComputeOptions
  @Option(help: "Output .npy.") var out: String

  func run() throws {
    let loaded = try model.load()
    let (x, _) = try input.load(loaded)
    let device = try compute.makeDevice()
    let (n, m, p) = (x.rows, loaded.network.outputSize, loaded.network.parameterCount)
    let bytes = n * m * p * (compute.parsedPrecision == .f32 ? 4 : 8)
    guard bytes <= compute.budget * 8 else {
      throw NTKitError.memoryBudget(needed: bytes, budget: compute.budget * 8,
                                    hint: "the Jacobian [\(n), \(m), \(p)] is held in memory; use fewer samples or `ntk gram`")
    }
    switch compute.parsedPrecision {
    case .f32:
      let j: [Float] = try NetworkEvaluation.jacobian(network: loaded.network, parameters: loaded.parameters, inputs: x,
                                                      device: device, memoryBudget: compute.budget,
                                                      fallback: compute.fallback)
      try NPY.write(out, shape: [n, m, p], floats: j)
    case .f64:
      let j: [Double] = try NetworkEvaluation.jacobian(network: loaded.network, parameters: loaded.parameters, inputs: x,
                                                       device: device, memoryBudget: compute.budget, as: Double.self,
                                                       fallback: compute.fallback)
      try NPY.write(out, shape: [n, m, p], doubles: j)
    }
    print("wrote \(out): Jacobian [\(n), \(m), \(p)]")
  }
}
