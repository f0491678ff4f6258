import ArgumentParser
import NTKit

struct StatsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "NTK collective variables: trace, von Neumann entropy, largest eigenvalue, spectrum.",
    discussion: "Give a kernel (--kernel K.npy, N×N) or a model and inputs (the trace NTK is computed first).")

  @Option(help: "A kernel (.npy): N×N, or full-mode [N, M, N, M] (read as NM×NM). <f8 stays float64.") var kernel: String?
  @Option(help: "Model spec JSON (docs/formats.md), instead of --kernel.") var model: String?
  @Option(help: "Weights (.safetensors).") var weights: String?
  @Option(help: "Seed of a fresh initialisation when --weights is left out.") var seed: UInt64?
  @Option(help: "Inputs (.npy or .csv), with --model.") var inputs: String?
  @Option(help: "CSV feature columns, comma-separated.") var features: String?
  @Option(help: IndicesOption.help("--inputs")) var indices: String?
  @Option(help: "Write the eigenvalues (descending, <f8) to this .npy.") var spectrum: String?
  @Option(help: "exact (LAPACK dsyevd), lanczos (top --top-k), or auto (exact up to N = \(CollectiveVariables.lanczosThreshold)).")
  var method: SpectrumMethodChoice = .auto
  @Option(name: .customLong("top-k"), help: "Eigenvalues computed by Lanczos.") var topK: Int = 16
  @OptionGroup var compute: ComputeOptions
  @Flag(help: "One JSON object on stdout.") var json = false

  func validate() throws {
    guard (kernel == nil) != (model == nil) else { throw ValidationError("give either --kernel or --model (with --inputs)") }
    if model != nil && inputs == nil { throw ValidationError("--model needs --inputs") }
    if indices != nil && model == nil { throw ValidationError("--indices applies to --model with --inputs, not to --kernel") }
    try usage { try ArgumentRules.topK(topK) }
  }

  func run() throws {
    var loadedModel: LoadedModel?
    let report: StatsJob.Report
    if let kernel {
      // <f4 stays float32, <f8 float64; [N, M, N, M] is read as NM × NM.
      report = try StatsJob.run(kernelFile: kernel, method: method, topK: topK)
    } else {
      let loaded = try LoadedModel.load(model: model!, weights: weights, seed: seed)
      loadedModel = loaded
      var x = try loaded.loadInputs(inputs!, features: features.map(commaSeparatedList))
      if let indices { x = try RowIndices.load(indices).select(x, of: inputs!) }
      var options = GramOptions(mode: .trace)
      options.memoryBudget = compute.budget
      options.isCancelled = { Interrupt.isRequested }
      report = try StatsJob.run(model: loaded, inputs: x, source: inputs!, device: try compute.makeDevice(),
                                precision: compute.precision, options: options, method: method, topK: topK,
                                fallback: compute.fallback)
    }
    let (n, cv, deviceName) = (report.n, report.variables, report.device)
    if let spectrum, let values = cv.eigenvalues { try NPY.write(spectrum, shape: [values.count], doubles: values) }
    if json {
      let fields: [(key: String, value: JSONValue)] = provenanceFields(loadedModel, weights: weights, seed: seed) + [
        ("kernel", kernel.map { .string($0) } ?? .null), ("inputs", inputs.map { .string($0) } ?? .null),
        ("indices", indices.map { .string($0) } ?? .null),
        ("n", .number(Double(n))), ("trace", .number(cv.trace)),
        ("entropy", cv.entropy.map { .number($0) } ?? .null), ("lambda_max", .number(cv.lambdaMax)),
        ("device", .string(deviceName)),
      ]
      print(JSONValue.object(fields + spectrumFields(cv, exactRoutine: SymmetricEigen.routine(n: cv.n))).serialized())
    } else {
      for line in cv.summaryLines { print(line) }
      print("device = \(deviceName)")
      if let spectrum { print("wrote \(spectrum): \(cv.eigenvalues?.count ?? 0) eigenvalues") }
    }
  }
}

struct DevicesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "devices", abstract: "List the compute devices and which one --device auto picks.")

  @Flag(help: "JSON array on stdout.") var json = false

  func run() throws {
    let devices = DeviceSelector.listAll()
    let auto = DeviceSelector.autoChoice()
    if json {
      print(JSONValue.array(devices.map { d in
        .object([
          ("id", .string(d.identifier)), ("name", .string(d.name)), ("kind", .string(d.kind.rawValue)),
          ("vendor", .string(d.vendor)), ("compute_units", .number(Double(d.computeUnits))),
          ("memory_bytes", .number(Double(d.globalMemoryBytes))), ("fp64", .bool(d.supportsF64)),
          ("gpu", .bool(d.isGPU)), ("auto", .bool(d.identifier == auto)), ("detail", .string(d.detail)),
        ])
      }).serialized(pretty: true))
      return
    }
    for d in devices {
      let mark = d.identifier == auto ? "*" : " "
      print("\(mark) \(d.identifier)\t\(d.name)\t\(d.computeUnits) compute units, \(formatBytes(d.globalMemoryBytes)), fp64 \(d.supportsF64 ? "yes" : "no")\t\(d.detail)")
    }
    print("(* = what --device auto picks)")
  }
}

/// The `--json` fields of `ntk stats` and `ntk-mpi stats` after the common
/// ones: "method" as in the text output (exact / lanczos), what was computed
/// (`exactRoutine`: dsyevd or pdsyevd) and the top eigenvalues.
func spectrumFields(_ cv: CollectiveVariables, exactRoutine: String) -> [(key: String, value: JSONValue)] {
  var fields: [(key: String, value: JSONValue)]
  switch cv.method {
  case .exact:
    fields = [("method", .string("exact")), ("eigenvalues_computed", .string("all (\(exactRoutine))"))]
  case .lanczos(let k):
    fields = [("method", .string("lanczos")), ("top_k", .number(Double(k))),
              ("eigenvalues_computed", .string("top \(k) (Lanczos)")),
              ("entropy_note", .string("not computed: only the top \(k) eigenvalues are known"))]
  }
  if let values = cv.eigenvalues { fields.append(("top_eigenvalues", JSONValue(numbers: Array(values.prefix(16))))) }
  return fields
}

extension StatsCommand: DeviceCommand { var deviceChoice: DeviceChoice? { model == nil ? nil : compute.device } }
