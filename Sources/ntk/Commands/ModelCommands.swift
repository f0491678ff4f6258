import ArgumentParser
import NTKit

struct InitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "init", abstract: "Write a seeded initialisation of a model's weights.")

  @Option(help: "Model spec JSON (formats.md).") var model: String
  @Option(help: "Seed.") var seed: UInt64 = 0
  @Option(help: "Output weights (.safetensors).") var out: String
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  func run() throws {
    let loaded = try LoadedModel.load(model: model, weights: nil, seed: seed)
    try loaded.parameters.save(out, network: loaded.network)
    if json {
      print(JSONValue.object(provenanceFields(loaded, seed: seed) + [
        ("out", .string(out)), ("parameters", .number(Double(loaded.network.parameterCount))),
      ]).serialized())
    } else {
      print("wrote \(out): \(loaded.network.parameterCount) parameters (\(loaded.network.spec.parameterization.rawValue) initialisation, seed \(seed))")
    }
  }
}

struct ForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "forward", abstract: "Network outputs f(X) as [N, M].")

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @OptionGroup var compute: ComputeOptions
  @Option(help: "Output .npy.") var out: String
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  func run() throws {
    let loaded = try model.load()
    let (x, _) = try input.load(loaded)
    let device = try compute.makeDevice()
    try EvaluationJob.forward(model: loaded, inputs: x, device: device, precision: compute.precision,
                              output: out, fallback: compute.fallback)
    if json {
      print(JSONValue.object(provenanceFields(loaded, weights: model.weights, seed: model.seed) + [
        ("out", .string(out)), ("shape", JSONValue(numbers: [Double(x.rows), Double(loaded.network.outputSize)])),
        ("inputs", .string(input.inputs)), ("indices", input.indices.map { .string($0) } ?? .null),
        ("precision", .string(compute.precision.rawValue)),
      ]).serialized())
    } else {
      print("wrote \(out): outputs [\(x.rows), \(loaded.network.outputSize)]")
    }
  }
}

struct JacobianCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "jacobian", abstract: "Per-sample Jacobians ∂f/∂θ as [N, M, P].")

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @OptionGroup var compute: ComputeOptions
  @Option(help: "Output .npy.") var out: String
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  func run() throws {
    let loaded = try model.load()
    let (x, _) = try input.load(loaded)
    let device = try compute.makeDevice()
    let (n, m, p) = (x.rows, loaded.network.outputSize, loaded.network.parameterCount)
    try EvaluationJob.jacobian(model: loaded, inputs: x, device: device, precision: compute.precision,
                               memoryBudget: compute.budget, output: out, fallback: compute.fallback)
    if json {
      print(JSONValue.object(provenanceFields(loaded, weights: model.weights, seed: model.seed) + [
        ("out", .string(out)), ("shape", JSONValue(numbers: [Double(n), Double(m), Double(p)])),
        ("inputs", .string(input.inputs)), ("indices", input.indices.map { .string($0) } ?? .null),
        ("precision", .string(compute.precision.rawValue)),
      ]).serialized())
    } else {
      print("wrote \(out): Jacobian [\(n), \(m), \(p)]")
    }
  }
}
