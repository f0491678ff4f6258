import NTKit
/// The bundled data sets of the paper's experiments, split into a selection
/// pool (the training data) and a fixed test set.
public enum ExperimentDataset: String, Sendable, CaseIterable, NamedChoice {
  case fuel, mnist

  public static let choiceName = (one: "dataset", many: "datasets")

  /// Parses `fuel` or `mnist`, listing the valid names otherwise.
  public init(parsing text: String) throws { self = try .named(text) }
}

/// A pool (training candidates) and a test set, ready to feed a network.
///
/// - Fuel (`fuel.csv`): the 7 features `cylinders, displacement, horsepower,
///   weight, acceleration, model_year, origin` (origin as its integer code) and
///   the target `mpg`. `testRows` rows are held out by a seeded permutation
///   (stream "fuel split"), the rest form the pool. Features and target are
///   standardised with the mean and population sd of the **pool** (no test
///   leakage); losses are MSE on the standardised target.
/// - MNIST (`mnist_x.npy` …): the bundled 10 000 training images are the pool,
///   the 500 test images the test set; pixels are `x / 255`; cross-entropy.
public struct ExperimentData: Sendable {
  public var name: String
  /// Pool inputs, `[N, *input_shape]`.
  public var pool: Tensor
  public var poolTargets: TrainingTargets
  public var test: Tensor
  public var testTargets: TrainingTargets
  /// Human-readable description of the preprocessing (for summaries).
  public var description: String

  public init(name: String, pool: Tensor, poolTargets: TrainingTargets, test: Tensor, testTargets: TrainingTargets,
              description: String) {
    self.name = name; self.pool = pool; self.poolTargets = poolTargets
    self.test = test; self.testTargets = testTargets; self.description = description
  }

  public static let fuelFeatures = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin"]
  public static let fuelTarget = "mpg"

  public var isClassification: Bool { poolTargets.loss == .crossEntropy }

  /// Loads `dataset` from `directory` (default `Data`). `seed` picks the Fuel test split.
  public static func load(_ dataset: ExperimentDataset, directory: String, seed: UInt64 = 0,
                          fuelTestRows: Int = 120) throws -> ExperimentData {
    switch dataset {
    case .fuel: return try fuel(path: directory + "/fuel.csv", testRows: fuelTestRows, seed: seed)
    case .mnist: return try mnist(directory: directory)
    }
  }

  /// Fuel from a CSV with the `fuel.md` columns.
  public static func fuel(path: String, testRows: Int = 120, seed: UInt64 = 0) throws -> ExperimentData {
    let table = try CSVTable(path: path)
    let x = try table.columns(fuelFeatures)
    let y = try table.columns([fuelTarget])
    let n = x.rows
    guard testRows >= 1, testRows < n else {
      throw NTKitError.invalidArgument("\(path): cannot hold out \(testRows) test rows of \(n)")
    }
    var order = Array(0..<n)
    var rng = SeededRandom(seed: seed, stream: "fuel split")
    for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    let testIdx = order[0..<testRows].sorted()
    let poolIdx = order[testRows...].sorted()
    let xs = Standardizer.fit(x.gatherRows(poolIdx), columns: fuelFeatures)
    let ys = Standardizer.fit(y.gatherRows(poolIdx), columns: [fuelTarget])
    return ExperimentData(
      name: "fuel",
      pool: try xs.apply(x.gatherRows(poolIdx)), poolTargets: .values(try ys.apply(y.gatherRows(poolIdx)).data),
      test: try xs.apply(x.gatherRows(testIdx)), testTargets: .values(try ys.apply(y.gatherRows(testIdx)).data),
      description: "Fuel (Auto MPG, \(n) rows): 7 standardised features, standardised mpg target (pool mean/sd); "
        + "\(testRows) test rows held out (seed \(seed)), \(poolIdx.count) pool rows; MSE loss")
  }

  /// MNIST from the bundled `.npy` files in `directory`.
  public static func mnist(directory: String) throws -> ExperimentData {
    func images(_ file: String) throws -> Tensor {
      let a = try NPY.read(directory + "/" + file)
      guard a.shape.count == 4, a.shape[1] == 28, a.shape[2] == 28, a.shape[3] == 1 else {
        throw NTKitError.shapeMismatch(context: "\(directory)/\(file)", expected: "[N, 28, 28, 1]", found: "\(a.shape)")
      }
      return a.tensor()
    }
    func labels(_ file: String, rows: Int) throws -> [Int] {
      let a = try NPY.read(directory + "/" + file)
      let l = try a.int64s().map { Int($0) }
      guard l.count == rows else {
        throw NTKitError.shapeMismatch(context: "\(directory)/\(file)", expected: "\(rows) labels", found: "\(l.count)")
      }
      if let bad = l.first(where: { $0 < 0 || $0 > 9 }) {
        throw NTKitError.format(path: "\(directory)/\(file)", reason: "label \(bad) is not a digit 0–9")
      }
      return l
    }
    let x = try images("mnist_x.npy"), tx = try images("mnist_test_x.npy")
    return ExperimentData(
      name: "mnist", pool: x, poolTargets: .labels(try labels("mnist_y.npy", rows: x.rows)),
      test: tx, testTargets: .labels(try labels("mnist_test_y.npy", rows: tx.rows)),
      description: "MNIST: \(x.rows) training images (pool), \(tx.rows) test images, pixels x/255; cross-entropy loss")
  }

  /// Pool rows `indices` with their targets.
  public func subset(_ indices: [Int]) -> (inputs: Tensor, targets: TrainingTargets) {
    let x = pool.gatherRows(indices)
    switch poolTargets {
    case .labels(let l): return (x, .labels(indices.map { l[$0] }))
    case .values(let v):
      let m = v.count / max(pool.rows, 1)
      var out: [Float] = []
      out.reserveCapacity(indices.count * m)
      for i in indices { out.append(contentsOf: v[i * m..<(i + 1) * m]) }
      return (x, .values(out))
    }
  }

  /// The default model spec file (under `modelsDirectory`) for an experiment.
  public static func defaultModelPath(_ dataset: ExperimentDataset, experiment: String, modelsDirectory: String = "Models") -> String {
    switch (dataset, experiment) {
    case (.fuel, "correlate"): return modelsDirectory + "/fuel_table2.model.json"
    case (.mnist, "correlate"): return modelsDirectory + "/mnist_dense_table2.model.json"
    case (.fuel, _): return modelsDirectory + "/fuel_table_a1.model.json"
    case (.mnist, _): return modelsDirectory + "/mnist_table_a1.model.json"
    }
  }
}
