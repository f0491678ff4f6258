import Foundation
import XCTest
@testable import NTKit
@testable import NTKitExperiments

/// The logic the CLI used to hold, now in the library: the shared validation
/// rules, the option enums' parsing, the training-data policies (loss
/// inference, feature columns, target standardisation), the pool dtype
/// policy, the experiments' defaults and `StatsJob`.
final class FrontEndLogicTests: XCTestCase {
  var dir = ""
  override func setUp() { dir = makeTempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
  }

  // MARK: - ArgumentRules

  func testAtLeastNamesFlagBoundAndValue() {
    XCTAssertNil(message { try ArgumentRules.atLeast(1, nil, flag: "--batch-size") })
    XCTAssertNil(message { try ArgumentRules.atLeast(1, 1, flag: "--size") })
    XCTAssertEqual(message { try ArgumentRules.atLeast(1, -3, flag: "--size") }, "--size must be at least 1, found -3")
    XCTAssertEqual(message { try ArgumentRules.atLeast(0, -1, flag: "--epochs") }, "--epochs must be ≥ 0, found -1")
    XCTAssertNil(message { try ArgumentRules.atLeast(0, 0, flag: "--epochs") })
    XCTAssertThrowsError(try ArgumentRules.atLeast(1, 0, flag: "--jobs")) { XCTAssertTrue($0 is UsageError) }
  }

  func testLearningRateAdamTopKFinite() {
    XCTAssertNil(message { try ArgumentRules.learningRate(1e-3) })
    for bad in [0, -1, Double.infinity, Double.nan] {
      XCTAssertNotNil(message { try ArgumentRules.learningRate(bad) }, "\(bad)")
    }
    XCTAssertEqual(message { try ArgumentRules.learningRate(-1) }, "--lr must be a positive number, found -1.0")
    XCTAssertNil(message { try ArgumentRules.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0) })
    XCTAssertNotNil(message { try ArgumentRules.adam(beta1: 1, beta2: 0.999, epsilon: 1e-8, weightDecay: 0) })
    XCTAssertNotNil(message { try ArgumentRules.adam(beta1: 0.9, beta2: 0.999, epsilon: 0, weightDecay: 0) })
    XCTAssertNotNil(message { try ArgumentRules.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: -1) })
    XCTAssertNil(message { try ArgumentRules.topK(1) })
    XCTAssertNil(message { try ArgumentRules.topK(ArgumentRules.maxLanczosK) })
    XCTAssertEqual(message { try ArgumentRules.topK(0) }, "--top-k must be between 1 and 64, found 0")
    XCTAssertNotNil(message { try ArgumentRules.topK(65) })
    XCTAssertNil(message { try ArgumentRules.finite(nil, flag: "--threshold") })
    XCTAssertEqual(message { try ArgumentRules.finite(.nan, flag: "--threshold") }, "--threshold must be finite")
  }

  func testMemoryBudget() throws {
    XCTAssertEqual(try ArgumentRules.memoryBudget("1G"), 1 << 30)
    XCTAssertEqual(try ArgumentRules.memoryBudget("512M"), 512 << 20)
    XCTAssertEqual(message { _ = try ArgumentRules.memoryBudget("lots") },
                   "--memory-budget must be a size such as 1G or 512M, found \"lots\"")
    XCTAssertNotNil(message { _ = try ArgumentRules.memoryBudget("-1G") })
  }

  func testSizesAndSizeRange() throws {
    XCTAssertEqual(try ArgumentRules.sizes("10, 20,50", flag: "--sizes"), [10, 20, 50])
    XCTAssertEqual(message { _ = try ArgumentRules.sizes("", flag: "--sizes") },
                   "--sizes is empty: give a comma-separated list, e.g. 10,20,50")
    XCTAssertEqual(message { _ = try ArgumentRules.sizes("10,x", flag: "--sizes") }, "--sizes: \"x\" is not a whole number")
    XCTAssertEqual(message { _ = try ArgumentRules.sizes("0", flag: "--sizes") }, "--sizes: sizes must be at least 1, found 0")
    XCTAssertEqual(try ArgumentRules.sizeRange("10:200", flag: "--size-range"), 10...200)
    XCTAssertEqual(try ArgumentRules.sizeRange(" 5 : 5 ", flag: "--size-range"), 5...5)
    XCTAssertEqual(message { _ = try ArgumentRules.sizeRange("5:2", flag: "--size-range") }, "--size-range needs 1 ≤ lo ≤ hi, found 5:2")
    XCTAssertNotNil(message { _ = try ArgumentRules.sizeRange("10", flag: "--size-range") })
    XCTAssertEqual(commaSeparatedList(" a,b ,, c"), ["a", "b", "", "c"])
  }

  // MARK: - Option enums

  func testSpectrumMethodChoice() throws {
    XCTAssertEqual(try SpectrumMethodChoice(parsing: "EXACT"), .exact)
    XCTAssertEqual(SpectrumMethodChoice.auto.method(n: CollectiveVariables.lanczosThreshold, topK: 5), .exact)
    XCTAssertEqual(SpectrumMethodChoice.auto.method(n: CollectiveVariables.lanczosThreshold + 1, topK: 5), .lanczos(k: 16))
    XCTAssertEqual(SpectrumMethodChoice.lanczos.method(n: 10, topK: 5), .lanczos(k: 5))
    XCTAssertEqual(SpectrumMethodChoice.exact.method(n: 1 << 20, topK: 5), .exact)
    XCTAssertNil(SpectrumMethodChoice.auto.explicitMethod(topK: 5))
    XCTAssertEqual(message { _ = try SpectrumMethodChoice(parsing: "qr") }, "unknown method 'qr'; valid methods: exact, lanczos, auto")
  }

  func testOptimizerChoice() throws {
    let hyper = AdamHyper(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-7, weightDecay: 0.1)
    XCTAssertEqual(try OptimizerChoice(parsing: "SGD").make(hyper), .sgd(learningRate: 0.01))
    XCTAssertEqual(try OptimizerChoice(parsing: "adam").make(hyper), .adam(hyper))
    XCTAssertEqual(message { _ = try OptimizerChoice(parsing: "lbfgs") }, "unknown optimizer 'lbfgs'; valid optimizers: adam, sgd")
  }

  // MARK: - Training data

  private func writeSpec(inputs: Int, outputs: Int) throws -> String {
    let path = dir + "/m\(inputs)x\(outputs).model.json"
    try #"{"input_shape": [\#(inputs)], "layers": [{"type": "dense", "units": 4}, {"type": "relu"}, {"type": "dense", "units": \#(outputs)}]}"#
      .write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testLossInferredFromLabelDtypeAndFollowedByTestTargets() throws {
    let model = try LoadedModel.load(model: try writeSpec(inputs: 2, outputs: 3), weights: nil, seed: 0)
    try NPY.write(dir + "/x.npy", shape: [4, 2], floats: [0, 1, 2, 3, 4, 5, 6, 7])
    try NPY.write(dir + "/c.npy", shape: [4], int64s: [0, 2, 1, 2])
    try NPY.write(dir + "/tc.npy", shape: [4], floats: [1, 0, 2, 1])
    var request = TrainingDataRequest(train: dir + "/x.npy")
    request.labels = dir + "/c.npy"
    request.test = dir + "/x.npy"
    request.testLabels = dir + "/tc.npy"
    let data = try request.load(for: model)
    XCTAssertEqual(data.targets, .labels([0, 2, 1, 2]))
    // Float test labels, read as class indices since the training targets are classes.
    XCTAssertEqual(data.test?.targets, .labels([1, 0, 2, 1]))

    try NPY.write(dir + "/y.npy", shape: [4, 3], floats: (0..<12).map(Float.init))
    request = TrainingDataRequest(train: dir + "/x.npy")
    request.labels = dir + "/y.npy"
    XCTAssertEqual(try request.load(for: model).targets.loss, .mse)
    // An explicit loss wins over the dtype.
    request.labels = dir + "/c.npy"
    request.loss = .mse
    XCTAssertEqual(try request.load(for: model).targets.loss, .mse)
  }

  func testCSVTargetsFeaturesIndicesAndStandardizedTargets() throws {
    let model = try LoadedModel.load(model: try writeSpec(inputs: 2, outputs: 1), weights: nil, seed: 0)
    let csv = dir + "/d.csv"
    try "a,y,b\n1,10,2\n3,20,4\n5,30,6\n".write(toFile: csv, atomically: true, encoding: .utf8)
    try NPY.write(dir + "/i.npy", shape: [2], int64s: [2, 0])
    var request = TrainingDataRequest(train: csv)
    request.targetColumns = ["y"]
    request.indices = dir + "/i.npy"
    let data = try request.load(for: model)
    // Features: every column but the target, in file order; rows 2 then 0.
    XCTAssertEqual(data.inputs.data, [5, 6, 1, 2])
    XCTAssertEqual(data.targets, .values([30, 10]))
    request.standardizeTarget = true
    guard case .values(let v) = try request.load(for: model).targets else { return XCTFail("regression targets expected") }
    XCTAssertEqual(v[0], -v[1], accuracy: 1e-6)
    XCTAssertEqual(abs(v[0]), 1, accuracy: 1e-5)
  }

  func testStandardizedClassLabelsAreAUsageError() throws {
    let model = try LoadedModel.load(model: try writeSpec(inputs: 2, outputs: 3), weights: nil, seed: 0)
    try NPY.write(dir + "/x.npy", shape: [2, 2], floats: [0, 1, 2, 3])
    try NPY.write(dir + "/c.npy", shape: [2], int64s: [0, 2])
    var request = TrainingDataRequest(train: dir + "/x.npy")
    request.labels = dir + "/c.npy"
    request.standardizeTarget = true
    XCTAssertThrowsError(try request.load(for: model)) { error in
      XCTAssertEqual(error as? UsageError, UsageError("--standardize-target applies to regression targets only"))
    }
  }

  // MARK: - Pools

  func testPoolDtypePolicyAndChecks() throws {
    try NPY.write(dir + "/p.npy", shape: [3, 2], floats: [0, 1, 2, 3, 4, 5])
    let pool = try PoolSource.open(dir + "/p.npy")
    guard case .mapped = pool else { return XCTFail(".npy pools are memory-mapped") }
    XCTAssertEqual(pool.rows, 3)
    XCTAssertNoThrow(try pool.check(size: 3, path: "p.npy"))
    XCTAssertEqual(message { try pool.check(size: 4, path: "p.npy") }, "p.npy: --size 4 is larger than the pool (3 points)")
    try NPY.write(dir + "/i.npy", shape: [3, 2], int64s: [0, 1, 2, 3, 4, 5])
    let refused = message { _ = try PoolSource.open(dir + "/i.npy") } ?? ""
    XCTAssertTrue(refused.contains("i.npy") && refused.contains("<i8") && refused.contains("<f4, <f8 or |u1"), refused)
    XCTAssertTrue(PoolSource.supports(.uint8) && PoolSource.supports(.float64) && !PoolSource.supports(.int32))
    try "a,b\n1,2\n3,4\n".write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let csv = try PoolSource.open(dir + "/p.csv", features: ["b"])
    guard case .tensor(let t) = csv else { return XCTFail("CSV pools are read whole") }
    XCTAssertEqual(t.data, [2, 4])
    XCTAssertFalse(PoolSource.isMappable(dir + "/p.csv"))
    let mismatch = message { _ = try pool.model(try writeSpec(inputs: 3, outputs: 1), path: "p.npy") } ?? ""
    XCTAssertTrue(mismatch.contains("2 features") && mismatch.contains("p.npy"), mismatch)
    XCTAssertEqual(try pool.model(try writeSpec(inputs: 2, outputs: 1), path: "p.npy").inputShape, [2])
  }

  // MARK: - Experiments

  func testExperimentDefaults() throws {
    XCTAssertEqual(ExperimentDefaults.epochs(.mnist), 30)
    XCTAssertEqual(ExperimentDefaults.epochs(.fuel), 500)
    XCTAssertEqual(ExperimentDefaults.epochs(nil), 500)
    XCTAssertEqual(ExperimentDefaults.modelPath(model: "my.json", dataset: .fuel, experiment: "compare", dataDirectory: dir), "my.json")
    XCTAssertTrue(ExperimentDefaults.modelPath(model: nil, dataset: .mnist, experiment: "correlate", dataDirectory: dir)
      .hasSuffix("Models/mnist_dense_table2.model.json"))
    let pool = Tensor(shape: [40, 1], data: [Float](repeating: 0, count: 40))
    let fuel = ExperimentData(name: "fuel", pool: pool, poolTargets: .values([Float](repeating: 0, count: 40)),
                              test: pool, testTargets: .values([Float](repeating: 0, count: 40)), description: "fuel")
    XCTAssertEqual(ExperimentDefaults.correlateSizeRange(fuel), 10...40)
    XCTAssertEqual(ExperimentDefaults.compareSizes(fuel), [10, 20, 50, 100])
    var mnist = fuel
    mnist.name = "mnist"
    XCTAssertEqual(ExperimentDefaults.correlateSizeRange(mnist), 100...1000)
    XCTAssertEqual(ExperimentDefaults.compareSizes(mnist), [50, 100, 200])
    XCTAssertEqual(ExperimentDefaults.jobs(requested: 3, device: CPUDevice.shared).jobs, 3)
    XCTAssertEqual(ExperimentDefaults.jobs(requested: nil, device: CPUDevice.shared).jobs, ExperimentRunner.cores)
    XCTAssertNil(ExperimentDefaults.jobs(requested: 3, device: CPUDevice.shared).warning)
    XCTAssertNoThrow(try ExperimentDefaults.checkSizes([10, 40], fit: fuel))
    XCTAssertEqual(message { try ExperimentDefaults.checkSizes([10, 41], fit: fuel) }, "size 41 is larger than the fuel pool (40 points)")
  }

  // MARK: - StatsJob

  func testStatsJobOnAKernelFileAndOnAModel() throws {
    try NPY.write(dir + "/k.npy", shape: [2, 2], floats: [2, 0, 0, 1])
    let fromFile = try StatsJob.run(kernelFile: dir + "/k.npy", method: .auto, topK: 16)
    XCTAssertEqual(fromFile.n, 2)
    XCTAssertEqual(fromFile.device, "cpu")
    XCTAssertEqual(fromFile.variables.trace, 3, accuracy: 1e-12)
    XCTAssertEqual(fromFile.variables.lambdaMax, 2, accuracy: 1e-9)
    XCTAssertEqual(fromFile.variables.method, .exact)

    let c = "01_dense_relu_standard"
    let model = try LoadedModel.load(model: Fixtures.path("golden/\(c)/model.json"),
                                     weights: Fixtures.path("golden/\(c)/weights.safetensors"), seed: nil)
    let x = try model.loadInputs(Fixtures.path("golden/\(c)/inputs.npy"), features: nil)
    let reference = try NPY.read(Fixtures.path("golden/\(c)/ntk_trace.npy")).doubles()
    let n = x.rows
    let trace = (0..<n).reduce(0.0) { $0 + reference[$1 * n + $1] }
    for precision in Precision.allCases {
      let r = try StatsJob.run(model: model, inputs: x, source: "inputs.npy", device: CPUDevice.shared,
                               precision: precision, options: GramOptions(mode: .full), method: .exact, topK: 4)
      XCTAssertEqual(r.n, n)
      XCTAssertEqual(r.variables.trace, trace, accuracy: 1e-4 * abs(trace), "\(precision)")
      XCTAssertEqual(r.device, CPUDevice.shared.info.identifier)
    }
  }
}
