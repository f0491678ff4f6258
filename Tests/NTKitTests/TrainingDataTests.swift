import Foundation
import XCTest
@testable import NTKit

/// The library side of "own data end to end": row indices (`--indices`),
/// targets from files, the neural-tangents kernel convention and sparse test
/// evaluation (`--eval-every`).
final class TrainingDataTests: XCTestCase {
  var dir = ""
  override func setUp() { dir = makeTempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  // MARK: - RowIndices

  func testRowIndicesFollowNumpyFancyIndexing() throws {
    try NPY.write(dir + "/i.npy", shape: [5], int64s: [3, -1, 0, 3, -5])
    let idx = try RowIndices.load(dir + "/i.npy")
    XCTAssertEqual(try idx.resolved(rows: 5, of: "x"), [3, 4, 0, 3, 0])
    let t = Tensor(shape: [5, 2], data: (0..<10).map(Float.init))
    XCTAssertEqual(try idx.select(t, of: "x").data, [6, 7, 8, 9, 0, 1, 6, 7, 0, 1])
    // A column [S, 1] and int32 are accepted too.
    try NPY.write(dir + "/c.npy", shape: [2, 1], int32s: [1, 2])
    XCTAssertEqual(try RowIndices.load(dir + "/c.npy").values, [1, 2])
  }

  func testRowIndicesRefuseWhatNumpyRefuses() throws {
    try NPY.write(dir + "/i.npy", shape: [2], int64s: [0, 5])
    XCTAssertThrowsError(try RowIndices.load(dir + "/i.npy").resolved(rows: 5, of: "x.npy")) { e in
      let text = "\(e)"
      XCTAssertTrue(text.contains("index 5 at position 1") && text.contains("-5 to 4") && text.contains("i.npy"), text)
    }
    try NPY.write(dir + "/n.npy", shape: [1], int64s: [-6])
    XCTAssertThrowsError(try RowIndices.load(dir + "/n.npy").resolved(rows: 5, of: "x.npy"))
    try NPY.write(dir + "/f.npy", shape: [2], floats: [0, 1])
    XCTAssertThrowsError(try RowIndices.load(dir + "/f.npy")) { XCTAssertTrue("\($0)".contains("integers"), "\($0)") }
    try NPY.write(dir + "/m.npy", shape: [2, 2], int64s: [0, 1, 2, 3])
    XCTAssertThrowsError(try RowIndices.load(dir + "/m.npy")) { XCTAssertTrue("\($0)".contains("one dimension"), "\($0)") }
    try NPY.write(dir + "/e.npy", shape: [0], int64s: [])
    XCTAssertThrowsError(try RowIndices.load(dir + "/e.npy")) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
  }

  // MARK: - Targets from files

  func testTargetsSelectRowsAndCSVColumnsAreChecked() throws {
    XCTAssertEqual(TrainingTargets.values([1, 2, 3, 4, 5, 6]).selectingRows([2, 0, 2], of: 3), .values([5, 6, 1, 2, 5, 6]))
    XCTAssertEqual(TrainingTargets.labels([7, 8, 9]).selectingRows([1, 1], of: 3), .labels([8, 8]))
    try "a,b,y\n1,2,0\n3,4,1\n".write(toFile: dir + "/d.csv", atomically: true, encoding: .utf8)
    XCTAssertEqual(try TrainingTargets.featureColumns(csv: dir + "/d.csv", excludingTargets: ["y"]), ["a", "b"])
    XCTAssertThrowsError(try TrainingTargets.featureColumns(csv: dir + "/d.csv", excludingTargets: ["bogus"])) { e in
      XCTAssertTrue("\(e)".contains("missing column 'bogus'") && "\(e)".contains("a, b, y"), "\(e)")
    }
    XCTAssertEqual(try TrainingTargets.load(csv: dir + "/d.csv", columns: ["y"], loss: .crossEntropy), .labels([0, 1]))
    try NPY.write(dir + "/y.npy", shape: [2], int64s: [1, 0])
    XCTAssertEqual(try TrainingTargets.load(labels: dir + "/y.npy", rows: 2), .labels([1, 0]))
    XCTAssertThrowsError(try TrainingTargets.load(labels: dir + "/y.npy", rows: 3))
  }

  // MARK: - KernelConvention

  func testNTConventionTransposesFullAndAveragesTrace() {
    let (n1, m, n2) = (2, 3, 4)
    var full = (0..<(n1 * m * n2 * m)).map(Double.init)
    let original = full
    full.withUnsafeMutableBufferPointer { KernelConvention.nt.convert($0, mode: .full, n1: n1, m: m, n2: n2) }
    XCTAssertEqual(KernelConvention.nt.shape(mode: .full, n1: n1, m: m, n2: n2), [2, 4, 3, 3])
    for i in 0..<n1 { for a in 0..<m { for j in 0..<n2 { for b in 0..<m {
      XCTAssertEqual(full[((i * n2 + j) * m + a) * m + b], original[((i * m + a) * n2 + j) * m + b])
    } } } }
    var trace: [Float] = [3, 6, 9, 12]
    trace.withUnsafeMutableBufferPointer { KernelConvention.nt.convert($0, mode: .trace, n1: 2, m: 3, n2: 2) }
    XCTAssertEqual(trace, [1, 2, 3, 4])
    var same: [Float] = [3, 6]
    same.withUnsafeMutableBufferPointer { KernelConvention.ntkit.convert($0, mode: .trace, n1: 1, m: 3, n2: 2) }
    XCTAssertEqual(same, [3, 6])
    XCTAssertThrowsError(try KernelConvention(parsing: "jax"))
  }

  // MARK: - evaluateEvery

  func testSparseEvaluationLeavesTrainingUnchanged() throws {
    let net = try Network(spec: ModelSpec(inputShape: [3], layers: [.dense(4), .activation(.tanh), .dense(2)]))
    let x = Tensor(shape: [6, 3], data: (0..<18).map { Float($0 % 7) / 7 - 0.4 })
    let y = TrainingTargets.values((0..<12).map { Float($0 % 3) / 3 })
    func run(_ every: Int) throws -> (TrainingHistory, [Float]) {
      let trainer = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 3),
                                device: CPUDevice.shared, capacity: 6)
      let h = try trainer.train(inputs: x, targets: y, epochs: 5, batchSize: 4, seed: 1, test: (x, y), evaluateEvery: every)
      return (h, try trainer.parameters.values)
    }
    let (all, p1) = try run(1), (sparse, p2) = try run(2)
    XCTAssertEqual(sparse.epochs.map { $0.testLoss != nil }, [false, true, false, true, true])
    XCTAssertEqual(p1, p2)
    XCTAssertEqual(all.finalTestLoss, sparse.finalTestLoss)
    XCTAssertEqual(all.epochs.map(\.trainLoss), sparse.epochs.map(\.trainLoss))
    XCTAssertThrowsError(try run(0))
  }
}
