import NTKit

/// The user's own pool and test set for `ntk experiment compare --pool …`.
///
/// - Inputs: `.npy` `[N, *input_shape]` (or `[N, d]`, reshaped to the model's
///   `input_shape`), or `.csv` with a header (`features` columns; default:
///   every column but the `target` columns).
/// - Targets: a labels `.npy` per set (floats → mse, integers → cross-entropy,
///   unless `loss` says), or the `target` columns of the CSV files.
/// - `standardize`: each input column (and an mse target) is standardised
///   with the mean and population sd of the **pool** and the same transform
///   is applied to the test set (no test leakage); otherwise data are used as given.
public struct UserDataFiles: Sendable, Equatable {
  public var pool: String
  public var poolLabels: String?
  public var test: String
  public var testLabels: String?
  public var features: [String]?
  public var target: [String]?
  public var loss: Loss?
  public var standardize = false

  public init(pool: String, poolLabels: String?, test: String, testLabels: String?, features: [String]? = nil,
              target: [String]? = nil, loss: Loss? = nil, standardize: Bool = false) {
    self.pool = pool; self.poolLabels = poolLabels; self.test = test; self.testLabels = testLabels
    self.features = features; self.target = target; self.loss = loss; self.standardize = standardize
  }
}

extension ExperimentData {
  /// Loads the user's pool and test set for a model with `inputShape`.
  public static func user(_ files: UserDataFiles, inputShape: [Int]) throws -> ExperimentData {
    if files.target == nil {
      guard files.poolLabels != nil, files.testLabels != nil else {
        throw NTKitError.invalidArgument("give the targets: --labels and --test-labels (.npy), or --target COLUMN for CSV data")
      }
    }
    var features = files.features
    if features == nil, let target = files.target {
      features = try TrainingTargets.featureColumns(csv: files.pool, excludingTargets: target)
    }
    func inputs(_ path: String) throws -> Tensor {
      var x = try InputData.load(path, features: features)
      let width = inputShape.reduce(1, *)
      guard x.rowLength == width else {
        throw NTKitError.shapeMismatch(context: "\(path): inputs", expected: "\(width) values per row (input_shape \(inputShape) of the model)",
                                       found: "shape \(x.shape)")
      }
      guard x.rows > 0 else { throw NTKitError.format(path: path, reason: "no samples (N = 0)") }
      x.shape = [x.rows] + inputShape
      return x
    }
    func targets(_ labels: String?, csv: String, rows: Int, like: Loss?) throws -> TrainingTargets {
      if let labels { return try TrainingTargets.load(labels: labels, rows: rows, loss: like) }
      let t = try TrainingTargets.load(csv: csv, columns: files.target!, loss: like)
      return t
    }
    var pool = try inputs(files.pool), test = try inputs(files.test)
    var poolY = try targets(files.poolLabels, csv: files.pool, rows: pool.rows, like: files.loss)
    var testY = try targets(files.testLabels, csv: files.test, rows: test.rows, like: poolY.loss)
    if case .values(let v) = poolY, case .values(let t) = testY, v.count / pool.rows != t.count / test.rows {
      throw NTKitError.shapeMismatch(context: "\(files.testLabels ?? files.test): test targets",
                                     expected: "\(v.count / pool.rows) value(s) per row (as the pool's)", found: "\(t.count / test.rows)")
    }
    var note = "used as given"
    if files.standardize {
      let shape = pool.shape, testShape = test.shape
      let flat = Tensor(shape: [pool.rows, pool.rowLength], data: pool.data)
      let xs = Standardizer.fit(flat)
      pool = Tensor(shape: shape, data: try xs.apply(flat).data)
      test = Tensor(shape: testShape, data: try xs.apply(Tensor(shape: [test.rows, test.rowLength], data: test.data)).data)
      if case .values(let v) = poolY, case .values(let t) = testY {
        let m = v.count / pool.rows
        let ys = Standardizer.fit(Tensor(shape: [pool.rows, m], data: v))
        poolY = .values(try ys.apply(Tensor(shape: [pool.rows, m], data: v)).data)
        testY = .values(try ys.apply(Tensor(shape: [test.rows, m], data: t)).data)
      }
      note = "standardised with the pool's mean and sd"
    }
    let lossName = poolY.loss == .mse ? "MSE" : "cross-entropy"
    return ExperimentData(
      name: files.pool, pool: pool, poolTargets: poolY, test: test, testTargets: testY,
      description: "user data: pool \(files.pool) (\(pool.rows) rows), test \(files.test) (\(test.rows) rows), \(note); \(lossName) loss")
  }
}
