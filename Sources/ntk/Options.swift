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

/// A command that runs on the device of `--device`: under anything but
/// `cpu`, main starts `DeviceSelector.beginProbe()` before the command reads
/// its inputs. nil: this invocation uses no device.
protocol DeviceCommand {
  var deviceChoice: DeviceChoice? { get }
}

/// `--device`, `--precision`, `--memory-budget`, `--verbose`.
struct ComputeOptions: ParsableArguments {
  @Option(help: DeviceOption.help) var device: DeviceChoice = .auto

  @Option(help: "Arithmetic precision (f64: float64 end to end).")
  var precision: Precision = .f32

  @Option(name: .customLong("memory-budget"), help: "Cap on temporaries, e.g. 1G, 512M (output not counted).")
  var memoryBudget: String = "1G"

  @Flag(help: "Say what was chosen (device, per-layer strategy, tiling) on stderr.")
  var verbose = false

  func validate() throws { _ = try usage { try ArgumentRules.memoryBudget(memoryBudget) } }

  var budget: Int { (try? ArgumentRules.memoryBudget(memoryBudget)) ?? GramOptions.defaultMemoryBudget }

  func makeDevice(fastMath: Bool = false) throws -> any ComputeDevice {
    let d = try resolveDevice(device, fastMath: fastMath)
    if verbose { stderrLine("device: \(d.identifier) (\(d.info.name))") }
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

  var featureList: [String]? { features.map(commaSeparatedList) }

  @Option(help: IndicesOption.help("--inputs")) var indices: String?

  @OptionGroup var scaling: ScalingOptions

  /// The inputs (rows --indices of them, when given) and the optional second
  /// set, standardised on request with one scaler fitted on the chosen rows.
  func load(_ model: LoadedModel, second: String? = nil) throws -> (Tensor, Tensor?) {
    var x = try model.loadInputs(inputs, features: featureList)
    if let indices { x = try RowIndices.load(indices).select(x, of: inputs) }
    var x2 = try second.map { try model.loadInputs($0, features: featureList) }
    if let s = try scaling.library.scaler(fittingOn: x, columns: InputData.columnNames(inputs, features: featureList)) {
      x = try s.apply(x)
      x2 = try x2.map { try s.apply($0) }
    }
    return (x, x2)
  }
}

/// `--device`: one default (auto) and one help text for every command.
enum DeviceOption {
  static let help = ArgumentHelp(
    "Compute device: auto (default), cpu, opencl, opencl:<platform>:<device>.",
    discussion: "auto picks a GPU OpenCL device when there is one, else the CPU; when OpenCL is missing or the GPU is unusable it says so in one warning line and uses the CPU. See `ntk devices`.")

  /// For `select` and `experiment`, whose networks are tiny.
  static let smallNetHelp = ArgumentHelp(
    "Compute device: auto (default), cpu, opencl, opencl:<platform>:<device>.",
    discussion: "RND's and the experiments' networks are tiny: per-epoch device round trips cost more than a GPU saves, so auto is the CPU here; name an OpenCL device to use it.")
}

/// `--indices`: the help line shared by every command that takes it.
enum IndicesOption {
  static func help(_ flag: String) -> ArgumentHelp {
    ArgumentHelp(
      "Use only these rows of \(flag): an integer .npy of row indices, such as `ntk select --out`.",
      discussion: "As NumPy's x[idx]: negative indices count from the end, duplicates are kept (and weigh twice), order is kept; out-of-range indices or a float array are errors.")
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

/// One line on stdout (buffered as `print`'s, so `discardStdout` drops it),
/// without `print`'s casts of its `Any` arguments, whose first use scans
/// every protocol conformance in the binary.
func stdoutLine(_ text: String) { fputs(text + "\n", stdout) }

/// The library's `UsageError` (`ArgumentRules`, flags that do not fit the
/// data) as swift-argument-parser's: exit 2 with its one line.
func usage<R>(_ body: () throws -> R) throws -> R {
  do { return try body() } catch let error as UsageError { throw ValidationError(error.description) }
}

/// `--device` choice → device, with the fallback rules of `DeviceSelector`.
/// The library's warnings already start with "warning: ".
func resolveDevice(_ choice: DeviceChoice, fastMath: Bool = false) throws -> any ComputeDevice {
  try DeviceSelector.make(choice, options: OpenCLOptions(fastRelaxedMath: fastMath)) { stderrLine("ntk: \($0)") }
}

/// `--device` as a string (`ntk bench`'s flag): a bad name is a usage error.
func resolveDevice(_ name: String, fastMath: Bool = false) throws -> any ComputeDevice {
  let choice: DeviceChoice
  do { choice = try DeviceChoice(parsing: name) } catch let error as NTKitError { throw ValidationError(error.description) }
  return try resolveDevice(choice, fastMath: fastMath)
}

/// `--device` for work on tiny networks (RND's target and predictor, the
/// experiments' runs): `auto` is the CPU without probing OpenCL, since
/// per-epoch device round trips cost more than a GPU saves and probing starts
/// driver threads; an explicit device is honoured.
func resolveSmallNetDevice(_ choice: DeviceChoice) throws -> any ComputeDevice {
  choice == .auto ? CPUDevice.shared : try resolveDevice(choice)
}

/// The mid-run fallback warning printer for `--device name` (only `auto` falls back).
func deviceFallback(_ choice: DeviceChoice) -> ((String) -> Void)? {
  choice == .auto ? { stderrLine("ntk: \($0)") } : nil
}

/// Drops what stdout holds unwritten (a failed command's "wrote …" line).
func discardStdout() { OutputTransaction.discardBufferedStdout() }

/// The fields every `--json` summary starts with: the NTKit version and, for
/// a command that runs a model, the spec, its parameterization, the weights
/// file (null for a fresh initialisation) and the seed of that initialisation
/// (null when weights were given).
func provenanceFields(_ loaded: LoadedModel? = nil, weights: String? = nil, seed: UInt64? = nil)
  -> [(key: String, value: JSONValue)] {
  var fields: [(key: String, value: JSONValue)] = [("ntkit_version", .string(NTKitVersion.string))]
  if let loaded {
    fields.append(("model", .string(loaded.modelPath)))
    fields.append(("parameterization", .string(loaded.network.spec.parameterization.rawValue)))
    fields.append(("weights", weights.map { .string($0) } ?? .null))
    fields.append(("seed", weights == nil ? .number(Double(seed ?? 0)) : .null))
  } else if let seed {
    fields.append(("seed", .number(Double(seed))))
  }
  return fields
}

/// Refuses (usage error, exit 2) an output path whose extension names another
/// format than the one written: `--out k.csv` for an `.npy` output. Only the
/// formats ntk reads and writes count (a name without one of them, such as
/// `w.st`, is taken as the user's choice); devices and FIFOs (`/dev/stdout`)
/// are written as they are.
func checkOutputExtension(_ path: String, flag: String, expected: String) throws {
  var info = stat()
  if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG { return }
  let lower = path.lowercased()
  let name = lower.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? lower
  guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return }
  let found = String(name[dot...])
  let known = [".npy", ".npz", ".csv", ".tsv", ".json", ".safetensors", ".svg", ".txt", ".pt", ".pth", ".h5"]
  guard found != expected, known.contains(found) else { return }
  throw ValidationError("\(flag) \(path): this command writes \(expected), not \(found); name the file with \(expected)")
}

/// The command line as swift-argument-parser should see it: `--flag -1`
/// becomes `--flag=-1`, so that a negative number is read (and refused or
/// accepted) as the flag's value rather than taken for an unknown short
/// option, which the parser reports as "Missing value".
func normalizedArguments(_ arguments: [String]) -> [String] {
  var out: [String] = []
  var i = 0
  while i < arguments.count {
    let a = arguments[i]
    if a == "--" { out += arguments[i...]; break }
    if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
      out.append(a + "=" + arguments[i + 1])
      i += 2
      continue
    }
    out.append(a)
    i += 1
  }
  return out
}

private func isNegativeNumber(_ s: String) -> Bool {
  guard s.hasPrefix("-"), s.count > 1 else { return false }
  let rest = s.dropFirst()
  return (rest.first?.isNumber == true || rest.first == ".") && Double(String(rest)) != nil
    || rest.lowercased() == "inf" || rest.lowercased() == "nan"
}

/// `ntk help TOPIC…`: nil when the topic names a (sub)command, else the
/// one-line usage error listing the valid topics (the caller exits 2).
func unknownHelpTopic(_ arguments: [String], root: ParsableCommand.Type) -> String? {
  guard arguments.count >= 2, arguments[0] == "help" else { return nil }
  var command = root
  for topic in arguments.dropFirst() where !topic.hasPrefix("-") {
    let subcommands = command.configuration.subcommands
    guard let next = subcommands.first(where: { $0._commandName == topic }) else {
      let names = subcommands.map { $0._commandName }
      return names.isEmpty
        ? "no help topic '\(topic)': '\(command._commandName)' has no subcommands"
        : "no help topic '\(topic)'; topics: \(names.joined(separator: ", "))"
    }
    command = next
  }
  return nil
}
