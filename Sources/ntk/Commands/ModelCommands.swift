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

/// The flags of `forward` and `jacobian`: a model, inputs, a device and one `.npy` output.
struct EvaluationOptions: ParsableArguments {
  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @OptionGroup var compute: ComputeOptions
  @Option(help: "Output .npy.") var out: String
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  /// The model, the (scaled) inputs and the device.
  func prepare() throws -> (LoadedModel, Tensor, any ComputeDevice) {
    let loaded = try model.load()
    let (x, _) = try input.load(loaded)
    return (loaded, x, try compute.makeDevice())
  }

  /// The `--json` summary, or the one line naming the output of `shape`
  /// (`what`: outputs, Jacobian).
  func printSummary(_ loaded: LoadedModel, shape: [Int], what: String) {
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
}

struct ForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "forward", abstract: "Network outputs f(X) as [N, M].")

  @OptionGroup var options: EvaluationOptions

  func run() throws {
    let (loaded, x, device) = try options.prepare()
    try EvaluationJob.forward(model: loaded, inputs: x, device: device, precision: options.compute.precision,
                              output: options.out, fallback: options.compute.fallback)
    options.printSummary(loaded, shape: [x.rows, loaded.network.outputSize], what: "outputs")
  }
}

struct JacobianCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "jacobian", abstract: "Per-sample Jacobians ∂f/∂θ as [N, M, P].")

  @OptionGroup var options: EvaluationOptions

  func run() throws {
    let (loaded, x, device) = try options.prepare()
    try EvaluationJob.jacobian(model: loaded, inputs: x, device: device, precision: options.compute.precision,
                               memoryBudget: options.compute.budget, output: options.out, fallback: options.compute.fallback)
    options.printSummary(loaded, shape: [x.rows, loaded.network.outputSize, loaded.network.parameterCount], what: "Jacobian")
  }
}

extension ForwardCommand: DeviceCommand { var deviceChoice: DeviceChoice? { options.compute.device } }
extension JacobianCommand: DeviceCommand { var deviceChoice: DeviceChoice? { options.compute.device } }
