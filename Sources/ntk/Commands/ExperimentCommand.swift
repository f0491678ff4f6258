import ArgumentParser
import NTKit
import NTKitExperiments

#if canImport(Glibc)
import Glibc
#endif

extension ExperimentDataset: ExpressibleByArgument {}

struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "The paper's experiments: NTK collective variables vs test loss (3.2), RND vs random vs k-center (3.3).",
    subcommands: [CorrelateCommand.self, CompareCommand.self])
}

/// Flags shared by both experiments.
struct ExperimentOptions: ParsableArguments {
  @Option(help: "Bundled data set (default: fuel).") var dataset: ExperimentDataset?
  @Option(name: .customLong("data-dir"), help: "Folder with fuel.csv and the mnist_*.npy files.") var dataDir: String = "Data"
  @Option(help: "Model spec JSON (default: the paper's net for the data set, from Models/).") var model: String?
  @Option(help: "Parameterization (default: the model spec's).") var parameterization: Parameterization?
  @Option(help: "Training epochs (default: fuel 500, mnist 30).") var epochs: Int?
  @Option(help: "Adam learning rate.") var lr: Double = 1e-3
  @Option(name: .customLong("batch-size"), help: "Mini-batch size (default: full batch).") var batchSize: Int?
  @Option(help: "Seed of every random choice (split, subsets, selections, initialisations).") var seed: UInt64 = 0
  @Option(name: .customLong("test-rows"), help: "Fuel rows held out for testing.") var testRows: Int = 120
  @Option(name: .customLong("out-dir"), help: "Output folder: runs.csv, summary.csv, summary.json, figure_*.svg.")
  var outDir: String
  @Option(help: DeviceOption.smallNetHelp) var device: DeviceChoice = .auto
  @Option(help: "Runs in parallel (default: the number of cores; 1 on a non-CPU device).") var jobs: Int?
  @Flag(help: "Print a JSON summary on stdout (the tables go to --out-dir as usual).") var json = false

  func validate() throws {
    try usage {
      try ArgumentRules.atLeast(1, epochs, flag: "--epochs")
      try ArgumentRules.learningRate(lr)
      try ArgumentRules.atLeast(1, batchSize, flag: "--batch-size")
      try ArgumentRules.atLeast(1, jobs, flag: "--jobs")
    }
    guard !outDir.isEmpty else { throw ValidationError("--out-dir is empty") }
  }

  var epochCount: Int { epochs ?? ExperimentDefaults.epochs(dataset) }

  func loadData() throws -> ExperimentData {
    try ExperimentData.load(dataset ?? .fuel, directory: dataDir, seed: seed, fuelTestRows: testRows)
  }

  /// The model spec file: --model, or the default for the data set (`ExperimentDefaults.modelPath`).
  func modelPath(experiment: String) -> String {
    ExperimentDefaults.modelPath(model: model, dataset: dataset ?? .fuel, experiment: experiment, dataDirectory: dataDir)
  }

  /// The model spec, in --parameterization when given.
  func loadModel(experiment: String) throws -> ModelSpec {
    var spec = try ModelSpec.load(modelPath(experiment: experiment))
    if let parameterization { spec.parameterization = parameterization }
    return spec
  }

  /// Sets the common settings from these flags, opens the device and
  /// prepares --out-dir; returns the device.
  func prepare<S: ExperimentRunSettings>(_ settings: inout S, runs: Int) throws -> any ComputeDevice {
    settings.runs = runs
    settings.epochs = epochCount
    settings.learningRate = lr
    settings.batchSize = batchSize
    settings.seed = seed
    let (device, jobs) = try makeDevice()
    settings.jobs = jobs
    try ExperimentOutputs.prepareDirectory(outDir)
    return device
  }

  func makeDevice() throws -> (device: any ComputeDevice, jobs: Int) {
    let d = try resolveSmallNetDevice(device)
    let (count, warning) = ExperimentDefaults.jobs(requested: jobs, device: d)
    if let warning { stderrLine("ntk: warning: " + warning) }
    return (d, count)
  }

  /// The `--json` summary's common fields: version, model, parameterization, seed, data, outputs.
  func jsonFields(spec: ModelSpec, modelPath: String?, data: String, seconds: Double, files: [String])
    -> [(key: String, value: JSONValue)] {
    [("ntkit_version", .string(NTKitVersion.string)), ("model", modelPath.map { .string($0) } ?? .null),
     ("parameterization", .string(spec.parameterization.rawValue)), ("seed", .number(Double(seed))),
     ("data", .string(data)), ("out_dir", .string(outDir)), ("seconds", .number(seconds)),
     ("files", .array(files.map { .string($0) }))]
  }
}

/// Parses "10,20,50" into sizes (a usage error on bad or empty lists).
func parseIntList(_ text: String, flag: String) throws -> [Int] {
  try usage { try ArgumentRules.sizes(text, flag: flag) }
}

/// Runs `body` with a progress bar on stderr (runs done / runs in all),
/// cleared if the work fails or is interrupted.
func withRunProgress<R>(_ label: String, _ body: (@escaping (Int, Int) -> Void) throws -> R) throws -> R {
  let bar = ProgressBar(label, total: 1, unit: " runs")
  do {
    return try body { done, total in bar.update(done, total: total) }
  } catch {
    bar.finish()
    throw error
  }
}

/// The compare summary for `--json`: mean and standard error per method and
/// size (with `accuracy`, the best test accuracy too, null for regression).
func compareSummaryJSON(_ result: CompareResult, accuracy: Bool) -> JSONValue {
  func ms(_ m: MeanSE) -> JSONValue { .object([("mean", .number(m.mean)), ("standard_error", .number(m.standardError))]) }
  return .array(result.summary.map { r in
    var fields: [(key: String, value: JSONValue)] = [
      ("method", .string(r.method.rawValue)), ("size", .number(Double(r.size))),
      ("min_test_loss", ms(r.minTestLoss)), ("final_test_loss", ms(r.finalTestLoss)),
      ("entropy", ms(r.entropy)), ("trace", ms(r.trace)),
    ]
    if accuracy { fields.append(("best_test_accuracy", r.bestTestAccuracy.map(ms) ?? .null)) }
    return .object(fields)
  })
}

/// The compare summary table: mean ± standard error per method and size.
func printCompareSummary(_ result: CompareResult, accuracy: Bool) {
  print("method    size  min test loss        final test loss      entropy              trace" + (accuracy ? "                best accuracy" : ""))
  for r in result.summary {
    var line = "\(r.method.rawValue.padding(9)) \(String(r.size).padding(5)) \(pm(r.minTestLoss)) \(pm(r.finalTestLoss)) \(pm(r.entropy)) \(pm(r.trace))"
    if accuracy, let a = r.bestTestAccuracy { line += " \(pm(a))" }
    print(line.trimmingWhitespace())  // the last column's padding would end the line in blanks
  }
}

struct CorrelateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "correlate",
    abstract: "Section 3.2: starting NTK trace and entropy of random training sets vs the test loss after training.",
    discussion: """
      For each run: draw a training-set size from --size-range and a random subset of the pool of that size, \
      and an initialisation; compute the trace and von Neumann entropy of the starting NTK on the subset; \
      train with Adam; record the minimum and final test loss (and accuracy for MNIST). \
      Writes runs.csv, summary.csv (Pearson and Spearman matrices), summary.json and figure_correlate.svg. \
      Default model: Models/fuel_table2.model.json or Models/mnist_dense_table2.model.json (Table 2).
      """)

  @OptionGroup var options: ExperimentOptions
  @Option(help: "Number of runs K.") var runs: Int = 100
  @Option(name: .customLong("size-range"), help: "Training-set sizes lo:hi, drawn uniformly (default: fuel 10:272, mnist 100:1000).")
  var sizeRange: String?

  func validate() throws {
    try usage { try ArgumentRules.atLeast(1, runs, flag: "--runs") }
    if let sizeRange { _ = try parseRange(sizeRange) }
  }

  func parseRange(_ text: String) throws -> ClosedRange<Int> {
    try usage { try ArgumentRules.sizeRange(text, flag: "--size-range") }
  }

  func run() throws {
    let data = try options.loadData()
    let spec = try options.loadModel(experiment: "correlate")
    let range = try sizeRange.map(parseRange) ?? ExperimentDefaults.correlateSizeRange(data)
    try ExperimentDefaults.checkSizes([range.upperBound], fit: data)
    var settings = CorrelateSettings(model: spec, sizeRange: range)
    let device = try options.prepare(&settings, runs: runs)
    let jobs = settings.jobs
    stderrLine("correlate: \(data.name), \(runs) runs, sizes \(range.lowerBound)–\(range.upperBound), "
      + "\(settings.epochs) epochs, \(spec.parameterization.rawValue) parameterization, \(jobs) jobs on \(device.identifier)")
    let result = try withRunProgress("correlate") { update in
      try CorrelateExperiment.run(data: data, settings: settings, device: device,
                                  isCancelled: { Interrupt.isRequested }, progress: update)
    }
    let paths = try ExperimentOutputs.write(result, to: options.outDir)
    let vars = CorrelateResult.variables
    let p = result.pearson, s = result.spearman
    if options.json {
      let j = vars.firstIndex(of: "min_test_loss")!
      func num(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
      print(JSONValue.object(options.jsonFields(spec: spec, modelPath: options.modelPath(experiment: "correlate"), data: data.description,
                                                seconds: result.seconds, files: paths) + [
        ("runs", .number(Double(runs))),
        ("correlation_with_min_test_loss", .object(vars.enumerated().filter { $0.element != "min_test_loss" }.map { i, v in
          (key: v, value: .object([("pearson", num(p[i][j])), ("spearman", num(s[i][j]))]))
        })),
      ]).serialized())
      return
    }
    print("correlation with min_test_loss (pearson / spearman):")
    for (i, v) in vars.enumerated() where v != "min_test_loss" {
      let j = vars.firstIndex(of: "min_test_loss")!
      print("  \(v.padding(16)) \(fmt(p[i][j]))  /  \(fmt(s[i][j]))")
    }
    print("entropy vs trace (pearson / spearman): \(fmt(p[1][2]))  /  \(fmt(s[1][2]))")
    print(String(format2: "%.1f", result.seconds) + " s; wrote " + paths.joined(separator: ", "))
  }
}

struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Section 3.3: training sets chosen by RND, random and k-center selection, their starting NTK and test loss.",
    discussion: """
      For each size and each of --runs repeats, every method chooses a training set from the pool (fresh seeds per \
      run; RND with the Selection module's defaults), the starting NTK entropy and trace of the set are computed \
      under the trained architecture, and the architecture is trained with Adam. The initialisation is shared by \
      the methods at the same (size, run). Writes runs.csv, summary.csv and summary.json (mean ± standard error \
      σ/√R per size and method), figure_test_loss.svg (Figure 4) and figure_ntk.svg (Figure 5). \
      Default model: Models/fuel_table_a1.model.json or Models/mnist_table_a1.model.json (Table A1, NTK parameterization). \
      On your own data: --pool X --labels Y --test X2 --test-labels Y2 (.npy; float labels mean mse, integer labels \
      cross-entropy, unless --loss), or CSV files with --target COLUMN (and --features), with --model and --sizes; \
      --standardize standardises inputs (and an mse target) with the pool's mean and sd.
      """)

  @OptionGroup var options: ExperimentOptions
  @Option(help: "Your own pool (selection candidates): .npy [N, *input_shape] or .csv with a header (instead of --dataset).")
  var pool: String?
  @Option(help: "Targets of --pool (.npy): N or N × M floats (mse) or N integer classes (cross-entropy).") var labels: String?
  @Option(help: "Your own test set (same format as --pool).") var test: String?
  @Option(name: .customLong("test-labels"), help: "Targets of --test (.npy).") var testLabels: String?
  @Option(help: "CSV feature columns, comma-separated (default: every column but --target).") var features: String?
  @Option(help: "CSV target column(s), comma-separated (instead of --labels and --test-labels).") var target: String?
  @Option(help: "Loss (default: from the labels' dtype).") var loss: Loss?
  @Flag(help: "Standardise --pool/--test columns (and an mse target) with the pool's mean and sd.") var standardize = false
  @Option(help: "Runs R per size and method.") var runs: Int = 20
  @Option(help: "Comma-separated training-set sizes (default: fuel 10,20,50,100; mnist 50,100,200).") var sizes: String?
  @Option(help: "Comma-separated selection methods: rnd, random, kcenter.") var methods: String = "rnd,random,kcenter"

  func validate() throws {
    try usage { try ArgumentRules.atLeast(1, runs, flag: "--runs") }
    if let sizes { _ = try parseIntList(sizes, flag: "--sizes") }
    _ = try parsedMethods()
    if pool == nil {
      let given = [("--labels", labels), ("--test", test), ("--test-labels", testLabels), ("--features", features),
                   ("--target", target), ("--loss", loss?.rawValue)].filter { $0.1 != nil }.map(\.0)
      if !given.isEmpty || standardize {
        throw ValidationError("\((given + (standardize ? ["--standardize"] : [])).joined(separator: ", ")) apply to your own data: add --pool (and --test)")
      }
      return
    }
    if options.dataset != nil { throw ValidationError("give --dataset or --pool (your own data), not both") }
    guard test != nil else { throw ValidationError("--pool needs --test (the held-out test set)") }
    guard options.model != nil else { throw ValidationError("--pool needs --model (a spec whose input_shape fits your data)") }
    guard sizes != nil else { throw ValidationError("--pool needs --sizes (training-set sizes to compare, e.g. 10,20,50)") }
    if target != nil {
      if labels != nil || testLabels != nil { throw ValidationError("give --target (CSV columns) or --labels/--test-labels, not both") }
      guard pool!.lowercased().hasSuffix(".csv"), test!.lowercased().hasSuffix(".csv") else {
        throw ValidationError("--target applies to CSV --pool and --test files only")
      }
    } else if labels == nil || testLabels == nil {
      throw ValidationError("--pool needs --labels and --test-labels (or --target COLUMN for CSV files)")
    }
  }

  /// The data to compare on: the user's files, or the bundled data set.
  func loadData(spec: ModelSpec) throws -> ExperimentData {
    guard let pool, let test else { return try options.loadData() }
    let files = UserDataFiles(pool: pool, poolLabels: labels, test: test, testLabels: testLabels,
                              features: features.map(commaSeparatedList), target: target.map(commaSeparatedList),
                              loss: loss, standardize: standardize)
    return try ExperimentData.user(files, inputShape: spec.inputShape)
  }

  func parsedMethods() throws -> [SelectionMethod] {
    let names = commaSeparatedList(methods).filter { !$0.isEmpty }
    guard !names.isEmpty else { throw ValidationError("--methods is empty: give e.g. rnd,random,kcenter") }
    let parsed = try names.map { n -> SelectionMethod in
      do { return try SelectionMethod(parsing: n) } catch let e as NTKitError { throw ValidationError(e.description) }
    }
    guard Set(parsed).count == parsed.count else { throw ValidationError("--methods repeats a method") }
    return parsed
  }

  func run() throws {
    let spec = try options.loadModel(experiment: "compare")
    let data = try loadData(spec: spec)
    let sizeList = try sizes.map { try parseIntList($0, flag: "--sizes") } ?? ExperimentDefaults.compareSizes(data)
    try ExperimentDefaults.checkSizes(sizeList, fit: data)
    var settings = CompareSettings(model: spec, sizes: sizeList)
    settings.methods = try parsedMethods()
    let device = try options.prepare(&settings, runs: runs)
    let jobs = settings.jobs
    let total = settings.sizes.count * settings.methods.count * runs
    stderrLine("compare: \(data.name), sizes \(settings.sizes.sorted().map(String.init).joined(separator: ",")), "
      + "methods \(settings.methods.map(\.rawValue).joined(separator: ",")), R = \(runs) (\(total) runs), "
      + "\(settings.epochs) epochs, \(spec.parameterization.rawValue) parameterization, \(jobs) jobs on \(device.identifier)")
    let result = try withRunProgress("compare") { update in
      try CompareExperiment.run(data: data, settings: settings, device: device,
                                isCancelled: { Interrupt.isRequested }, progress: update)
    }
    let paths = try ExperimentOutputs.write(result, to: options.outDir)
    if options.json {
      print(JSONValue.object(options.jsonFields(spec: spec, modelPath: options.modelPath(experiment: "compare"),
                                                data: data.description, seconds: result.seconds, files: paths) + [
        ("runs", .number(Double(runs))), ("summary", compareSummaryJSON(result, accuracy: true)),
      ]).serialized())
      return
    }
    printCompareSummary(result, accuracy: data.isClassification)
    print(String(format2: "%.1f", result.seconds) + " s; wrote " + paths.joined(separator: ", "))
  }
}

func fmt(_ x: Double?) -> String { x.map { String(format2: "%+.3f", $0) } ?? "  n/a " }

func pm(_ m: MeanSE) -> String {
  let digits = abs(m.mean) >= 100 ? "%.1f" : "%.4f"
  return (String(format2: digits, m.mean) + " ± " + String(format2: digits, m.standardError)).padding(20)
}

extension String {
  /// printf-style formatting of one Double (Foundation-free).
  init(format2 f: String, _ x: Double) {
    self = format(x, f)
  }

  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
