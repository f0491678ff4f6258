#if canImport(Glibc)
import NTKit
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files an experiment writes into its output folder: `runs.csv` (one row
/// per run), `summary.csv`, `summary.json` and `figure_*.svg`. Every file is
/// written atomically.
public enum ExperimentOutputs {
  /// Creates `directory` (and its parents) when missing and checks that a file
  /// can be written there; throws `NTKitError.io` otherwise. Call before the work.
  public static func prepareDirectory(_ directory: String) throws {
    guard !directory.isEmpty else { throw NTKitError.io(path: directory, reason: "the output folder name is empty") }
    var prefix = directory.hasPrefix("/") ? "/" : ""
    for part in directory.split(separator: "/") {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      if POSIXFile.isDirectory(prefix) { continue }
      if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
        throw NTKitError.io(path: prefix, reason: "cannot create the output folder: \(POSIXFile.errnoText())")
      }
    }
    guard POSIXFile.isDirectory(directory) else {
      throw NTKitError.io(path: directory, reason: "not a folder")
    }
    let probe = directory + "/.ntk-write-test-\(getpid())"
    do { try AtomicFile.write(probe, text: "") } catch {
      throw NTKitError.io(path: directory, reason: "the output folder is not writable")
    }
    unlink(probe)
  }

  // MARK: Formatting

  static func field(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "" }
    return JSONValue.numberText(x)
  }

  static func csv(_ header: [String], _ rows: [[String]]) -> String {
    ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
  }

  static func num(_ x: Double?) -> JSONValue { x.flatMap { $0.isFinite ? .number($0) : nil } ?? .null }

  static func meanSE(_ m: MeanSE) -> JSONValue { .object([("mean", num(m.mean)), ("se", num(m.standardError))]) }

  static func matrix(_ m: [[Double?]]) -> JSONValue { .array(m.map { .array($0.map { num($0) }) }) }

  /// Log scale for sizes that span at least a factor of 5.
  static func sizeAxis(_ sizes: [Int]) -> PlotAxis {
    let lo = Double(sizes.min() ?? 1), hi = Double(sizes.max() ?? 1)
    return PlotAxis(label: "training-set size", logScale: lo > 0 && hi / lo >= 5)
  }

  // MARK: Compare

  public static let compareRunColumns = [
    "dataset", "method", "size", "run", "init_seed", "selection_seed", "trace", "entropy", "lambda_max",
    "min_test_loss", "min_test_epoch", "final_test_loss", "final_train_loss", "best_test_accuracy",
    "final_test_accuracy", "selection_seconds", "ntk_seconds", "train_seconds",
  ]

  public static let compareSummaryColumns = [
    "method", "size", "runs", "min_test_loss_mean", "min_test_loss_se", "final_test_loss_mean", "final_test_loss_se",
    "entropy_mean", "entropy_se", "trace_mean", "trace_se", "trace_per_sample_mean", "trace_per_sample_se", "best_test_accuracy_mean", "best_test_accuracy_se",
  ]

  public static func runsCSV(_ result: CompareResult) -> String {
    let rows = result.runs.sorted { ($0.size, $0.method.rawValue, $0.run) < ($1.size, $1.method.rawValue, $1.run) }
    return csv(compareRunColumns, rows.map { r in
      let o = r.outcome
      return [result.dataset, r.method.rawValue, String(r.size), String(r.run), String(r.initSeed), String(r.selectionSeed),
              field(o.trace), field(o.entropy), field(o.lambdaMax), field(o.minTestLoss), String(o.minTestEpoch),
              field(o.finalTestLoss), field(o.finalTrainLoss), field(o.bestTestAccuracy), field(o.finalTestAccuracy),
              field(r.selectionSeconds), field(o.ntkSeconds), field(o.trainSeconds)]
    })
  }

  public static func summaryCSV(_ result: CompareResult) -> String {
    csv(compareSummaryColumns, result.summary.map { s in
      [s.method.rawValue, String(s.size), String(s.runs), field(s.minTestLoss.mean), field(s.minTestLoss.standardError),
       field(s.finalTestLoss.mean), field(s.finalTestLoss.standardError), field(s.entropy.mean), field(s.entropy.standardError),
       field(s.trace.mean), field(s.trace.standardError), field(s.tracePerSample.mean), field(s.tracePerSample.standardError),
       field(s.bestTestAccuracy?.mean), field(s.bestTestAccuracy?.standardError)]
    })
  }

  public static func summaryJSON(_ result: CompareResult) -> JSONValue {
    let s = result.settings
    var rows: [JSONValue] = []
    for row in result.summary {
      var f: [(key: String, value: JSONValue)] = [
        ("method", .string(row.method.rawValue)), ("size", .number(Double(row.size))), ("runs", .number(Double(row.runs))),
        ("min_test_loss", meanSE(row.minTestLoss)), ("final_test_loss", meanSE(row.finalTestLoss)),
        ("entropy", meanSE(row.entropy)), ("trace", meanSE(row.trace)), ("trace_per_sample", meanSE(row.tracePerSample)),
      ]
      if let a = row.bestTestAccuracy { f.append(("best_test_accuracy", meanSE(a))) }
      rows.append(.object(f))
    }
    return .object([
      ("experiment", "compare"), ("dataset", .string(result.dataset)), ("data", .string(result.dataDescription)),
      ("model", s.model.json), ("parameterization", .string(s.model.parameterization.rawValue)),
      ("sizes", JSONValue(numbers: s.sizes.sorted().map(Double.init))), ("runs_per_size", .number(Double(s.runs))),
      ("methods", JSONValue(strings: s.methods.map(\.rawValue))), ("epochs", .number(Double(s.epochs))),
      ("learning_rate", .number(s.learningRate)), ("batch_size", s.batchSize.map { .number(Double($0)) } ?? .string("full")),
      ("optimizer", "adam"), ("selection", "Selection module defaults (RND: default net, 50 epochs per retrain, 1 pick per step)"),
      ("seed", .number(Double(s.seed))), ("jobs", .number(Double(s.jobs))), ("seconds", num(result.seconds)),
      ("error_bars", "standard error sigma/sqrt(R), sample sigma"),
      ("summary", .array(rows)),
    ])
  }

  /// One series per method; x is nudged by ±1.5 % per method so that error bars do not hide each other.
  static func methodSeries(_ result: CompareResult, _ value: (CompareSummaryRow) -> MeanSE?) -> [PlotSeries] {
    let summary = result.summary
    let count = result.settings.methods.count
    return result.settings.methods.enumerated().map { (k, method) in
      let rows = summary.filter { $0.method == method }.compactMap { r in value(r).map { (r.size, $0) } }
      let nudge = 1 + 0.015 * (Double(k) - Double(count - 1) / 2)
      return PlotSeries(label: methodLabel(method), x: rows.map { Double($0.0) * nudge }, y: rows.map(\.1.mean),
                        yError: rows.map(\.1.standardError), style: .lineAndMarkers,
                        color: SVGPlot.palette[k % SVGPlot.palette.count])
    }
  }

  static func methodLabel(_ m: SelectionMethod) -> String {
    switch m {
    case .rnd: return "RND"
    case .random: return "random"
    case .kCenter: return "k-center"
    }
  }

  /// Figure 4 (test losses vs size) and Figure 5 (starting entropy and trace vs size).
  public static func compareFigures(_ result: CompareResult) -> [(name: String, figure: SVGFigure)] {
    let xAxis = sizeAxis(result.settings.sizes)
    let r = "R = \(result.settings.runs), ± SE"
    let lossName = result.dataset == "mnist" ? "cross-entropy" : "MSE"
    func panel(_ title: String, _ y: String, _ v: @escaping (CompareSummaryRow) -> MeanSE?, log: Bool = false) -> SVGPlot {
      SVGPlot(title: title, xAxis: xAxis, yAxis: PlotAxis(label: y, logScale: log), series: methodSeries(result, v))
    }
    var lossPanels = [
      panel("Minimum test loss (\(r))", "min test loss (\(lossName))", { $0.minTestLoss }),
      panel("Final test loss (\(r))", "final test loss (\(lossName))", { $0.finalTestLoss }),
    ]
    if result.summary.contains(where: { $0.bestTestAccuracy != nil }) {
      lossPanels.append(panel("Best test accuracy (\(r))", "best test accuracy", { $0.bestTestAccuracy }))
    }
    let title = "\(result.dataset): \(result.settings.model.parameterization.rawValue) parameterization, \(result.settings.epochs) epochs"
    return [
      ("figure_test_loss.svg", SVGFigure(panels: lossPanels, columns: lossPanels.count, title: "Test loss vs training-set size — " + title)),
      ("figure_ntk.svg", SVGFigure(panels: [
        panel("Starting NTK entropy (\(r))", "von Neumann entropy", { $0.entropy }),
        panel("Starting NTK trace (\(r))", "NTK trace", { $0.trace }, log: true),
        panel("Trace per sample, Tr Θ / N (\(r))", "NTK trace / set size", { $0.tracePerSample }),
      ], columns: 3, title: "Starting NTK collective variables vs training-set size — " + title)),
    ]
  }

  /// Writes runs.csv, summary.csv, summary.json and the figures into `directory`.
  /// Returns the paths written.
  @discardableResult
  public static func write(_ result: CompareResult, to directory: String) throws -> [String] {
    try writeFiles([
      ("runs.csv", runsCSV(result)), ("summary.csv", summaryCSV(result)),
      ("summary.json", summaryJSON(result).serialized(pretty: true) + "\n"),
    ] + compareFigures(result).map { ($0.name, $0.figure.render()) }, to: directory)
  }

  /// Writes each (file name, text) into `directory` atomically; returns the paths.
  static func writeFiles(_ files: [(String, String)], to directory: String) throws -> [String] {
    try prepareDirectory(directory)
    return try files.map { name, text in
      try AtomicFile.write(directory + "/" + name, text: text)
      return directory + "/" + name
    }
  }

  // MARK: Correlate

  public static let correlateRunColumns = [
    "dataset", "run", "size", "subset_seed", "init_seed", "trace", "entropy", "lambda_max", "min_test_loss",
    "min_test_epoch", "final_test_loss", "final_train_loss", "best_test_accuracy", "final_test_accuracy",
    "ntk_seconds", "train_seconds",
  ]

  public static func runsCSV(_ result: CorrelateResult) -> String {
    csv(correlateRunColumns, result.runs.sorted { $0.run < $1.run }.map { r in
      let o = r.outcome
      return [result.dataset, String(r.run), String(r.size), String(r.subsetSeed), String(r.initSeed), field(o.trace),
              field(o.entropy), field(o.lambdaMax), field(o.minTestLoss), String(o.minTestEpoch), field(o.finalTestLoss),
              field(o.finalTrainLoss), field(o.bestTestAccuracy), field(o.finalTestAccuracy), field(o.ntkSeconds),
              field(o.trainSeconds)]
    })
  }

  /// The correlation matrices in long form: `correlation,variable,<variables…>`.
  public static func summaryCSV(_ result: CorrelateResult) -> String {
    let vars = CorrelateResult.variables
    var rows: [[String]] = []
    for (name, m) in [("pearson", result.pearson), ("spearman", result.spearman)] {
      for (i, v) in vars.enumerated() { rows.append([name, v] + m[i].map { field($0) }) }
    }
    return csv(["correlation", "variable"] + vars, rows)
  }

  public static func summaryJSON(_ result: CorrelateResult) -> JSONValue {
    let s = result.settings
    let vars = CorrelateResult.variables
    let cols = result.columns
    return .object([
      ("experiment", "correlate"), ("dataset", .string(result.dataset)), ("data", .string(result.dataDescription)),
      ("model", s.model.json), ("parameterization", .string(s.model.parameterization.rawValue)),
      ("runs", .number(Double(result.runs.count))),
      ("size_range", JSONValue(numbers: [Double(s.sizeRange.lowerBound), Double(s.sizeRange.upperBound)])),
      ("epochs", .number(Double(s.epochs))), ("learning_rate", .number(s.learningRate)),
      ("batch_size", s.batchSize.map { .number(Double($0)) } ?? .string("full")), ("optimizer", "adam"),
      ("seed", .number(Double(s.seed))), ("jobs", .number(Double(s.jobs))), ("seconds", num(result.seconds)),
      ("variables", JSONValue(strings: vars)),
      ("pearson", matrix(result.pearson)), ("spearman", matrix(result.spearman)),
      ("means", .object(zip(vars, cols).map { ($0, meanSE(MeanSE($1))) })),
    ])
  }

  /// Figure 2: entropy vs trace (coloured by min test loss, then by size),
  /// trace vs min test loss and entropy vs min test loss (coloured by size).
  public static func correlateFigure(_ result: CorrelateResult) -> SVGFigure {
    let trace = result.runs.map(\.outcome.trace), entropy = result.runs.map(\.outcome.entropy)
    let loss = result.runs.map(\.outcome.minTestLoss), size = result.runs.map { Double($0.size) }
    let traceLog = (trace.min() ?? 0) > 0 && (trace.max() ?? 0) / max(trace.min() ?? 1, .leastNormalMagnitude) >= 10
    let lossLog = (loss.min() ?? 0) > 0 && (loss.max() ?? 0) / max(loss.min() ?? 1, .leastNormalMagnitude) >= 10
    let traceAxis = PlotAxis(label: "starting NTK trace", logScale: traceLog)
    let entropyAxis = PlotAxis(label: "starting NTK entropy")
    let lossAxis = PlotAxis(label: "min test loss", logScale: lossLog)
    func scatter(_ title: String, _ x: PlotAxis, _ xs: [Double], _ y: PlotAxis, _ ys: [Double], _ c: [Double], _ cl: String) -> SVGPlot {
      SVGPlot(title: title, xAxis: x, yAxis: y, series: [PlotSeries(label: "runs", x: xs, y: ys, colorValues: c)],
              colorbarLabel: cl)
    }
    let title = "\(result.dataset): \(result.runs.count) runs, \(result.settings.model.parameterization.rawValue) parameterization, "
      + "sizes \(result.settings.sizeRange.lowerBound)–\(result.settings.sizeRange.upperBound), \(result.settings.epochs) epochs"
    return SVGFigure(panels: [
      scatter("Entropy vs trace, colour: min test loss", traceAxis, trace, entropyAxis, entropy, loss, "min test loss"),
      scatter("Entropy vs trace, colour: set size", traceAxis, trace, entropyAxis, entropy, size, "set size"),
      scatter("Trace vs min test loss, colour: set size", traceAxis, trace, lossAxis, loss, size, "set size"),
      scatter("Entropy vs min test loss, colour: set size", entropyAxis, entropy, lossAxis, loss, size, "set size"),
    ], columns: 2, title: title)
  }

  /// Figure 3: the Pearson and Spearman matrices of the run variables.
  public static func correlationHeatmap(_ result: CorrelateResult) -> SVGHeatmap {
    SVGHeatmap(
      title: "Correlations over \(result.runs.count) runs — \(result.dataset), \(result.settings.model.parameterization.rawValue) parameterization",
      labels: CorrelateResult.variables,
      panels: [.init(title: "Pearson", matrix: result.pearson), .init(title: "Spearman", matrix: result.spearman)])
  }

  @discardableResult
  public static func write(_ result: CorrelateResult, to directory: String) throws -> [String] {
    try writeFiles([
      ("runs.csv", runsCSV(result)), ("summary.csv", summaryCSV(result)),
      ("summary.json", summaryJSON(result).serialized(pretty: true) + "\n"),
      ("figure_correlate.svg", correlateFigure(result).render()),
      ("figure_correlation_matrix.svg", correlationHeatmap(result).render()),
    ], to: directory)
  }
}
