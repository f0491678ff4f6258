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
    printEvaluationSummary(loaded, model: model, input: input, compute: compute, out: out,
                           shape: [x.rows, loaded.network.outputSize], json: json, what: "outputs")
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
    printEvaluationSummary(loaded, model: model, input: input, compute: compute, out: out,
                           shape: [n, m, p], json: json, what: "Jacobian")
  }
}

/// `forward` and `jacobian`: the `--json` summary, or the one line naming the
/// output `out` of `shape` (`what`: outputs, Jacobian).
func printEvaluationSummary(_ loaded: LoadedModel, model: ModelOptions, input: InputOptions, compute: ComputeOptions,
                            out: String, shape: [Int], json: Bool, what: String) {
  if json {
    print(JSONValue.object(provenanceFields(loaded, weights: model.weights, seed: model.seed) + [
      ("out", .string(out)), ("shape", JSONValue(numbers: shape.map(Double.init))),
      ("inputs", .string(input.inputs)), ("indices", input.indices.map { .string($0) } ?? .null),
      ("precision", .string(compute.precision.rawValue)),
    ]).serialized())
  } else {
    print("wrote \(out): \(what) [\(shape.map(String.init).joined(separator: ", "))]")
  }
}
