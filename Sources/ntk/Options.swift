import ArgumentParser
import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// `--model`, `--weights`, `--seed`.
struct ModelOptions: ParsableArguments {
  @Option(help: "Model spec JSON (docs/formats.md).")
  var model: String

  @Option(help: "Weights (.safetensors). Leave out for a fresh initialisation from --seed.")
  var weights: String?

  @Option(help: "Seed of a fresh initialisation when --weights is left out.")
  var seed: UInt64?

  func load() throws -> LoadedModel { try LoadedModel.load(model: model, weights: weights, seed: seed) }
}

/// `--device`, `--precision`, `--memory-budget`, `--verbose`.
struct ComputeOptions: ParsableArguments {
  @Option(help: "Compute device: auto, cpu, opencl, opencl:<platform>:<device>.")
  var device: String = "auto"

  @Option(help: "Arithmetic precision: f32 (default) or f64 (float64 end to end).")
  var precision: String = "f32"

  @Option(name: .customLong("memory-budget"), help: "Cap on temporaries, e.g. 1G, 512M (output not counted).")
  var memoryBudget: String = "1G"

  @Flag(help: "Say what was chosen (device, per-layer strategy, tiling) on stderr.")
  var verbose = false

  func validate() throws {
    guard Precision(rawValue: precision) != nil else {
      throw ValidationError("--precision must be f32 or f64, found \"\(precision)\"")
    }
    guard parseByteSize(memoryBudget) != nil else {
      throw ValidationError("--memory-budget must be a size such as 1G or 512M, found \"\(memoryBudget)\"")
    }
  }

  var parsedPrecision: Precision { Precision(rawValue: precision) ?? .f32 }
  var budget: Int { parseByteSize(memoryBudget) ?? GramOptions.defaultMemoryBudget }

  func makeDevice(fastMath: Bool = false) throws -> any ComputeDevice {
    let d = try resolveDevice(device, fastMath: fastMath)
    if verbose { stderrLine("device: \(d.info.identifier) (\(d.info.name))") }
    return d
  }

  /// Under `--device auto`, the printer of the one-line warning with which a
  /// failing OpenCL device hands the work to the CPU; nil for an explicit
  /// device (which must fail with an error instead).
  var fallback: ((String) -> Void)? { deviceFallback(device) }
}

/// `--inputs`, `--features`.
struct InputOptions: ParsableArguments {
  @Option(help: "Inputs: .npy [N, *input_shape] or .csv with a header.")
  var inputs: String

  @Option(help: "CSV feature columns, comma-separated (default: every column).")
  var features: String?

  var featureList: [String]? { features.map { $0.split(separator: ",").map { String($0).trimmingCharacters() } } }

  @OptionGroup var scaling: ScalingOptions

  /// The inputs (and optional second set), standardised on request with one scaler.
  func load(_ model: LoadedModel, second: String? = nil) throws -> (Tensor, Tensor?) {
    var x = try model.loadInputs(inputs, features: featureList)
    var x2 = try second.map { try model.loadInputs($0, features: featureList) }
    if let s = try scaling.library.scaler(fittingOn: x, columns: InputData.columnNames(inputs, features: featureList)) {
      x = try s.apply(x)
      x2 = try x2.map { try s.apply($0) }
    }
    return (x, x2)
  }
}

/// `--standardize`, `--scaler`, `--save-scaler`.
struct ScalingOptions: ParsableArguments {
  @Flag(help: "Standardise each input column (mean 0, sd 1) using these inputs.") var standardize = false
  @Option(help: "Apply a saved scaler (JSON written by --save-scaler) instead.") var scaler: String?
  @Option(name: .customLong("save-scaler"), help: "With --standardize: write the scaler here for later data.") var saveScaler: String?

  func validate() throws {
    if saveScaler != nil && !standardize { throw ValidationError("--save-scaler needs --standardize") }
    if scaler != nil && standardize { throw ValidationError("give --standardize or --scaler, not both") }
  }

  var library: InputScaling { InputScaling(standardize: standardize, scalerPath: scaler, saveTo: saveScaler) }
}

func stderrLine(_ text: String) { fputs(text + "\n", stderr) }

extension String {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while s.first?.isWhitespace == true { s.removeFirst() }
    while s.last?.isWhitespace == true { s.removeLast() }
    return String(s)
  }
}

/// `--device` value → device, with the fallback rules of `DeviceSelector`.
/// The library's warnings already start with "warning: ".
func resolveDevice(_ name: String, fastMath: Bool = false) throws -> any ComputeDevice {
  let choice: DeviceChoice
  do { choice = try DeviceChoice(parsing: name) } catch let error as NTKitError {
    throw ValidationError(error.description)
  }
  return try DeviceSelector.make(choice, options: OpenCLOptions(fastRelaxedMath: fastMath)) { stderrLine("ntk: \($0)") }
}

/// The mid-run fallback warning printer for `--device name` (only `auto` falls back).
func deviceFallback(_ name: String) -> ((String) -> Void)? {
  (try? DeviceChoice(parsing: name)) == .auto ? { stderrLine("ntk: \($0)") } : nil
}

/// Drops what stdout holds unwritten (a failed command's "wrote …" line).
func discardStdout() { OutputTransaction.discardBufferedStdout() }
