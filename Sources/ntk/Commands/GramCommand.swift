import ArgumentParser
import NTKit

struct GramCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gram",
    abstract: "Empirical NTK Θ = J Jᵀ: N×N (trace: summed over outputs) or [N, M, N, M] (full).",
    discussion: "--convention nt writes neural-tangents' empirical_ntk_fn convention instead: the trace averaged over the M outputs (Θ / M), and the full kernel laid out [N, N₂, M, M]. --indices picks rows of --inputs only.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: InputOptions
  @Option(name: .customLong("inputs2"), help: "Second sample set X₂ for Θ(X, X₂) (N × N₂).") var inputs2: String?
  @Option(help: "Kernel mode: trace (summed over outputs) or full.") var mode: NTKMode = .trace
  @Option(help: "ntkit (trace summed over outputs, full [N, M, N₂, M]) or nt (neural-tangents: trace averaged, full [N, N₂, M, M]).")
  var convention: KernelConvention = .ntkit
  @OptionGroup var compute: ComputeOptions
  @Option(name: .customLong("block-size"), help: "Samples per tile (default: the largest the budget allows).") var blockSize: Int?
  @Option(help: "Output .npy.") var out: String
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  func validate() throws { try usage { try ArgumentRules.atLeast(1, blockSize, flag: "--block-size") } }

  func run() throws {
    let loaded = try model.load()
    let (x1, x2) = try input.load(loaded, second: inputs2)
    let device = try compute.makeDevice()
    var options = GramOptions(mode: mode)
    options.memoryBudget = compute.budget
    options.blockSize = blockSize
    let bar = ProgressBar("ntk gram", total: 1, unit: " tiles")
    options.progress = { done, total in bar.update(done, total: total) }
    options.isCancelled = { Interrupt.isRequested }
    let report = try GramJob.run(model: loaded, inputs1: x1, inputs2: x2, device: device,
                                 precision: compute.precision, options: options, output: out,
                                 convention: convention, fallback: compute.fallback)
    if compute.verbose {
      for line in report.plan.description { stderrLine(line) }
      stderrLine("time: \(format(report.seconds, "%.3f")) s (features \(format(report.featureSeconds, "%.3f")) s, mirror \(format(report.mirrorSeconds, "%.3f")) s)")
      stderrLine("tiles: \(report.tiles) of \(report.blockSize) samples, features \(report.residentFeatures ? "resident" : "recomputed per block"), temporaries \(formatBytes(report.temporaryBytes))")
    }
    let gflops = report.flops / report.seconds / 1e9
    let n2 = x2?.rows ?? x1.rows
    let shape = convention.shape(mode: mode, n1: x1.rows, m: loaded.network.outputSize, n2: n2)
    if json {
      print(JSONValue.object(provenanceFields(loaded, weights: model.weights, seed: model.seed) + [
        ("out", .string(out)), ("mode", .string(mode.rawValue)), ("convention", .string(convention.rawValue)),
        ("shape", JSONValue(numbers: shape.map(Double.init))), ("indices", input.indices.map { .string($0) } ?? .null), ("n1", .number(Double(x1.rows))), ("n2", .number(Double(n2))),
        ("outputs", .number(Double(loaded.network.outputSize))), ("device", .string(report.device)),
        ("precision", .string(compute.precision.rawValue)), ("seconds", .number(report.seconds)), ("gflops", .number(gflops)),
        ("strategies", .array(report.plan.layers.map { .string($0.strategy.rawValue) })),
      ]).serialized())
    } else {
      print("wrote \(out): \(mode.rawValue) NTK [\(shape.map(String.init).joined(separator: ", "))]\(convention == .nt ? " (neural-tangents convention)" : "") in \(format(report.seconds, "%.3f")) s (\(format(gflops, "%.1f")) GFLOP/s on \(report.device))")
    }
  }
}


extension GramCommand: DeviceCommand { var deviceChoice: DeviceChoice? { compute.device } }
