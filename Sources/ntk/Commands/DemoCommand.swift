import ArgumentParser
import NTKit
import NTKitExperiments

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "The main job on the bundled Fuel data: RND vs random selection, with NTK collective variables.",
    discussion: """
      Fuel (Auto MPG, 7 standardised features, standardised mpg): 120 seeded test rows, 272 pool rows. \
      For each size, R runs of RND and of random selection; each chosen set's starting NTK trace and \
      entropy under the paper's Table A1 net (NTK parameterization), then 500 epochs of full-batch Adam. \
      Writes runs.csv, summary.csv, summary.json and SVG figures to --out-dir.
      """)

  @Option(help: "Folder with fuel.csv.") var dataDir = "Data"
  @Option(help: "Folder with the model specs.") var modelsDir = "Models"
  @Option(help: "Output folder.") var outDir = "out/demo"
  @Option(help: "Selection sizes, comma-separated.") var sizes = "20,50"
  @Option(help: "Runs per size and method.") var runs = 10
  @Option(help: "Seed.") var seed: UInt64 = 0
  @Flag(help: "Print a JSON summary on stdout instead of the report.") var json = false

  func run() throws {
    var settings = Demo.Settings()
    settings.dataDirectory = dataDir
    settings.modelsDirectory = modelsDir
    settings.sizes = try parseIntList(sizes, flag: "--sizes")
    settings.runs = runs
    settings.seed = seed
    try ExperimentOutputs.prepareDirectory(outDir)
    if !json { print("NTKit demo: RND vs random selection on Fuel (Auto MPG), \(settings.runs) runs per size, sizes \(sizes)") }
    let result = try withRunProgress("demo") { update in
      try Demo.run(settings, isCancelled: { Interrupt.isRequested }, progress: update)
    }
    let paths = try ExperimentOutputs.write(result.compare, to: outDir)
    if json { return printJSON(result, paths: paths) }
    print("")
    print("NTK of the whole pool (\(result.pool.n) points, Table A1 net at initialisation):")
    for line in result.pool.summaryLines.dropFirst() { print("  " + line) }
    print("")
    printCompareSummary(result.compare, accuracy: false)
    print("(mean ± standard error over runs; losses are MSE on the standardised mpg)")
    print("")
    for line in result.verdicts { print(line) }
    print("")
    print("\(format(result.seconds, "%.1f")) s; wrote \(paths.joined(separator: ", "))")
  }

  private func printJSON(_ result: Demo.Result, paths: [String]) {
    print(JSONValue.object([
      ("ntkit_version", .string(NTKitVersion.string)), ("model", .string(ExperimentData.defaultModelPath(.fuel, experiment: "compare", modelsDirectory: modelsDir))),
      ("parameterization", .string(result.compare.settings.model.parameterization.rawValue)),
      ("seed", .number(Double(seed))), ("data", .string(result.compare.dataDescription)), ("out_dir", .string(outDir)),
      ("seconds", .number(result.seconds)), ("files", .array(paths.map { .string($0) })),
      ("summary", compareSummaryJSON(result.compare, accuracy: false)),
      ("verdicts", .array(result.verdicts.map { .string($0) })),
    ]).serialized())
  }
}
