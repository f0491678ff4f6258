import XCTest
@testable import NTKit
@testable import NTKitExperiments

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Small, fast versions of `ntk experiment correlate` and `compare` on the
/// bundled Fuel data (tiny sizes, few epochs, R = 2); no timings.
final class ExperimentTests: XCTestCase {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  func fuel() throws -> ExperimentData {
    try ExperimentData.load(.fuel, directory: Self.repoRoot + "/Data", seed: 3)
  }

  func spec(_ name: String) throws -> ModelSpec { try ModelSpec.load(Self.repoRoot + "/Models/" + name) }

  func tempDir(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "ntkit-exp-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    return dir
  }

  /// Header and data rows of a CSV text.
  func parseCSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    return (lines[0], Array(lines.dropFirst()))
  }

  /// Parses an SVG with XMLParser (fails the test when it is not well-formed XML)
  /// and returns the `data-label` of every `<g class="series">`.
  func seriesLabels(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let parser = XMLParser(data: data)
    let collector = SeriesCollector()
    parser.delegate = collector
    XCTAssertTrue(parser.parse(), "\(path) is not well-formed XML: \(String(describing: parser.parserError))", file: file, line: line)
    XCTAssertEqual(collector.root, "svg", file: file, line: line)
    return collector.labels
  }

  func testStandardErrorOnHandMadeInput() {
    // x = 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x − x̄)² = 32, sample σ = √(32/7), SE = σ/√8.
    let x: [Double] = [2, 4, 4, 4, 5, 5, 7, 9]
    let m = MeanSE(x)
    XCTAssertEqual(m.mean, 5, accuracy: 1e-12)
    XCTAssertEqual(m.standardError, (32.0 / 7).squareRoot() / 8.0.squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(MeanSE([3]).standardError, 0)
  }

  func testFuelDataSplitAndStandardisation() throws {
    let d = try fuel()
    XCTAssertEqual(d.pool.shape, [272, 7])
    XCTAssertEqual(d.test.shape, [120, 7])
    guard case .values(let y) = d.poolTargets else { return XCTFail("fuel targets must be values") }
    XCTAssertEqual(y.count, 272)
    XCTAssertEqual(Statistics.mean(y.map(Double.init)), 0, accuracy: 1e-5)
    for c in 0..<7 {
      let col = (0..<272).map { Double(d.pool.data[$0 * 7 + c]) }
      XCTAssertEqual(Statistics.mean(col), 0, accuracy: 1e-5)
    }
    // The split is seeded: the same seed gives the same test set, another seed another one.
    XCTAssertEqual(try fuel().test, d.test)
    XCTAssertNotEqual(try ExperimentData.load(.fuel, directory: Self.repoRoot + "/Data", seed: 4).test, d.test)
  }

  func testCompareSmall() throws {
    var settings = CompareSettings(model: try spec("fuel_table_a1.model.json"), sizes: [8, 4])
    settings.runs = 2
    settings.epochs = 5
    settings.jobs = 2
    let result = try CompareExperiment.run(data: try fuel(), settings: settings)
    XCTAssertEqual(result.runs.count, 2 * 2 * 3)
    for r in result.runs {
      XCTAssertTrue(r.outcome.trace > 0 && r.outcome.entropy >= 0 && r.outcome.entropy <= log(Double(r.size)) + 1e-9)
      XCTAssertLessThanOrEqual(r.outcome.minTestLoss, r.outcome.finalTestLoss)
    }
    // Paired design: the methods share the initialisation at the same (size, run).
    let inits = Dictionary(grouping: result.runs, by: { "\($0.size)/\($0.run)" }).mapValues { Set($0.map(\.initSeed)).count }
    XCTAssertTrue(inits.values.allSatisfy { $0 == 1 })
    // Results do not depend on the number of jobs.
    settings.jobs = 1
    let serial = try CompareExperiment.run(data: try fuel(), settings: settings)
    // (LAPACK may round the spectrum differently with other thread counts: entropy to 1e-9.)
    for (a, b) in zip(serial.summary, result.summary) {
      XCTAssertEqual(a.minTestLoss, b.minTestLoss)
      XCTAssertEqual(a.finalTestLoss, b.finalTestLoss)
      XCTAssertEqual(a.trace, b.trace)
      XCTAssertEqual(a.entropy.mean, b.entropy.mean, accuracy: 1e-9)
    }

    let dir = tempDir("compare")
    let paths = try ExperimentOutputs.write(result, to: dir + "/nested")
    XCTAssertEqual(Set(paths.map { ($0 as NSString).lastPathComponent }),
                   ["runs.csv", "summary.csv", "summary.json", "figure_test_loss.svg", "figure_ntk.svg"])
    let runs = try parseCSV(dir + "/nested/runs.csv")
    XCTAssertEqual(runs.header, ExperimentOutputs.compareRunColumns)
    XCTAssertEqual(runs.rows.count, 12)
    XCTAssertTrue(runs.rows.allSatisfy { $0.count == runs.header.count })
    let summary = try parseCSV(dir + "/nested/summary.csv")
    XCTAssertEqual(summary.header, ExperimentOutputs.compareSummaryColumns)
    XCTAssertEqual(summary.rows.map { "\($0[0])/\($0[1])" },
                   ["rnd/4", "rnd/8", "random/4", "random/8", "kcenter/4", "kcenter/8"])
    // The summary's SE is σ/√R of the runs.
    let rnd4 = result.runs.filter { $0.method == .rnd && $0.size == 4 }.map(\.outcome.minTestLoss)
    let row = result.summary.first { $0.method == .rnd && $0.size == 4 }!
    XCTAssertEqual(row.minTestLoss.standardError, abs(rnd4[0] - rnd4[1]) / 2, accuracy: 1e-12)

    let json = try JSONValue.parse(try String(contentsOfFile: dir + "/nested/summary.json", encoding: .utf8))
    for key in ["experiment", "dataset", "model", "parameterization", "sizes", "runs_per_size", "methods", "epochs",
                "learning_rate", "seconds", "summary"] {
      XCTAssertNotNil(json[key], "summary.json lacks \(key)")
    }
    XCTAssertEqual(json["parameterization"]?.stringValue, "ntk")
    let first = json["summary"]?.arrayValue?.first
    for key in ["method", "size", "runs", "min_test_loss", "final_test_loss", "entropy", "trace"] {
      XCTAssertNotNil(first?[key], "summary rows lack \(key)")
    }
    XCTAssertNotNil(first?["min_test_loss"]?["se"]?.doubleValue)

    for (name, panels) in [("figure_test_loss.svg", 2), ("figure_ntk.svg", 3)] {
      let labels = try seriesLabels(dir + "/nested/" + name)
      XCTAssertEqual(labels, Array([[String]](repeating: ["RND", "random", "k-center"], count: panels).joined()), name)
    }
    try? FileManager.default.removeItem(atPath: dir)
  }

  func testCorrelateSmall() throws {
    var model = try spec("fuel_table2.model.json")
    model.parameterization = .ntk
    var settings = CorrelateSettings(model: model, sizeRange: 4...12)
    settings.runs = 5
    settings.epochs = 4
    let result = try CorrelateExperiment.run(data: try fuel(), settings: settings)
    XCTAssertEqual(result.runs.count, 5)
    XCTAssertTrue(result.runs.allSatisfy { (4...12).contains($0.size) })
    let vars = CorrelateResult.variables
    XCTAssertEqual(Array(vars.prefix(4)), ["size", "trace", "entropy", "min_test_loss"])
    for (i, row) in result.pearson.enumerated() { XCTAssertEqual(row[i] ?? 0, 1, accuracy: 1e-12) }

    let dir = tempDir("correlate")
    try ExperimentOutputs.write(result, to: dir)
    let runs = try parseCSV(dir + "/runs.csv")
    XCTAssertEqual(runs.header, ExperimentOutputs.correlateRunColumns)
    XCTAssertEqual(runs.rows.count, 5)
    let summary = try parseCSV(dir + "/summary.csv")
    XCTAssertEqual(summary.header, ["correlation", "variable"] + vars)
    XCTAssertEqual(summary.rows.count, 2 * vars.count)
    let json = try JSONValue.parse(try String(contentsOfFile: dir + "/summary.json", encoding: .utf8))
    for key in ["experiment", "dataset", "model", "parameterization", "runs", "size_range", "epochs", "variables",
                "pearson", "spearman", "means"] {
      XCTAssertNotNil(json[key], "summary.json lacks \(key)")
    }
    XCTAssertEqual(json["parameterization"]?.stringValue, "ntk")
    XCTAssertEqual(json["pearson"]?.arrayValue?.count, vars.count)
    XCTAssertEqual(json["spearman"]?.arrayValue?.first?.arrayValue?.count, vars.count)
    XCTAssertEqual(try seriesLabels(dir + "/figure_correlate.svg"), ["runs", "runs", "runs", "runs"])
    // Figure 3: two heatmaps of vars × vars cells.
    XCTAssertEqual(try seriesLabels(dir + "/figure_correlation_matrix.svg"), ["Pearson", "Spearman"])
    let heatmap = try String(contentsOfFile: dir + "/figure_correlation_matrix.svg", encoding: .utf8)
    XCTAssertEqual(heatmap.components(separatedBy: "class=\"cell\"").count - 1, 2 * vars.count * vars.count)
    try? FileManager.default.removeItem(atPath: dir)
  }

  func testBadInput() throws {
    let data = try fuel()
    let model = try spec("fuel_table_a1.model.json")
    func expectInvalid(_ settings: CompareSettings, _ fragment: String, line: UInt = #line) {
      XCTAssertThrowsError(try CompareExperiment.run(data: data, settings: settings), line: line) { error in
        XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
      }
    }
    expectInvalid(CompareSettings(model: model, sizes: []), "empty")
    expectInvalid(CompareSettings(model: model, sizes: [10, 300]), "larger than the fuel pool")
    var mnistNet = CompareSettings(model: try spec("mnist_table_a1.model.json"), sizes: [5])
    mnistNet.runs = 1
    expectInvalid(mnistNet, "model input")
    XCTAssertThrowsError(try CorrelateExperiment.run(data: data, settings: CorrelateSettings(model: model, sizeRange: 5...500)))
    XCTAssertThrowsError(try ExperimentDataset(parsing: "gait"))
    XCTAssertThrowsError(try ExperimentOutputs.prepareDirectory("/proc/ntkit-not-writable/out"))
  }

  func testShippedModelSpecsLoad() throws {
    for (name, inputs, outputs) in [("fuel_table_a1", 7, 1), ("fuel_table2", 7, 1), ("mnist_table_a1", 784, 10),
                                    ("mnist_dense_table2", 784, 10), ("mnist_conv_table2", 784, 10),
                                    ("gait_table_a1", 328, 16), ("concrete_table_a1", 7, 3)] {
      let net = try Network(spec: try spec(name + ".model.json"))
      XCTAssertEqual(net.inputSize, inputs, name)
      XCTAssertEqual(net.outputSize, outputs, name)
    }
  }
}

/// Collects the root element and the `data-label` of every `<g class="series">`.
private final class SeriesCollector: NSObject, XMLParserDelegate {
  var root: String?
  var labels: [String] = []
  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
              attributes: [String: String] = [:]) {
    if root == nil { root = name }
    if name == "g", attributes["class"] == "series", let label = attributes["data-label"] { labels.append(label) }
  }
}
