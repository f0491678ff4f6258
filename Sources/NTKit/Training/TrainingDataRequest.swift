/// The data of `ntk train`, described by its flags: training inputs with
/// labels (`.npy`) or CSV target columns, optional rows (`--indices`), input
/// standardisation, target standardisation and an optional test set. `load`
/// reads it all in one place, with the policies the CLI documents:
///
/// - CSV inputs with `--target` and no `--features`: every other column is a feature.
/// - Without a loss, integer labels mean cross-entropy and float labels mse;
///   the test targets follow the training targets' loss.
/// - `--indices` picks training rows of inputs and targets alike; the input
///   scaler is fitted on the picked rows and applied to the test inputs.
/// - `--standardize-target`: regression targets only (a `UsageError` for
///   class labels), fitted on the training targets and applied to the test targets.
public struct TrainingDataRequest: Sendable {
  public var train: String
  public var labels: String?
  /// CSV target columns of `train` (and `test`), instead of `labels`.
  public var targetColumns: [String]?
  public var features: [String]?
  public var indices: String?
  public var scaling = InputScaling()
  public var standardizeTarget = false
  public var test: String?
  public var testLabels: String?
  public var loss: Loss?

  public init(train: String) { self.train = train }

  /// Inputs and targets ready for `Trainer.train`.
  public struct Data {
    public var inputs: Tensor
    public var targets: TrainingTargets
    public var test: (inputs: Tensor, targets: TrainingTargets)?
  }

  /// Reads and prepares the data for `model` (whose input shape and output count it must fit).
  public func load(for model: LoadedModel) throws -> Data {
    let m = model.network.outputSize
    var featureList = features
    if featureList == nil, let targetColumns, train.lowercased().hasSuffix(".csv") {
      featureList = try TrainingTargets.featureColumns(csv: train, excludingTargets: targetColumns)
    }
    var x = try model.loadInputs(train, features: featureList)
    let allRows = x.rows
    let picked = try indices.map { try RowIndices.load($0).resolved(rows: allRows, of: train) }
    if let picked { x = x.gatherRows(picked) }
    let scaler = try scaling.scaler(fittingOn: x, columns: InputData.columnNames(train, features: featureList))
    if let scaler { x = try scaler.apply(x) }
    var y = try targets(labels: labels, csv: train, rows: allRows, loss: loss)
    if let picked { y = y.selectingRows(picked, of: allRows) }
    var targetScaler: Standardizer?
    if standardizeTarget {
      guard case .values(let v) = y else { throw UsageError("--standardize-target applies to regression targets only") }
      let s = Standardizer.fit(Tensor(shape: [x.rows, m], data: v))
      y = .values(try s.apply(Tensor(shape: [x.rows, m], data: v)).data)
      targetScaler = s
    }
    var testSet: (inputs: Tensor, targets: TrainingTargets)?
    if let test {
      var tx = try model.loadInputs(test, features: featureList)
      if let scaler { tx = try scaler.apply(tx) }
      var ty = try targets(labels: testLabels, csv: test, rows: tx.rows, loss: y.loss)
      if let targetScaler, case .values(let v) = ty {
        ty = .values(try targetScaler.apply(Tensor(shape: [tx.rows, m], data: v)).data)
      }
      testSet = (tx, ty)
    }
    return Data(inputs: x, targets: y, test: testSet)
  }

  /// Targets from a labels `.npy`, or from the target columns of `csv`.
  private func targets(labels: String?, csv: String, rows: Int, loss: Loss?) throws -> TrainingTargets {
    if let labels { return try TrainingTargets.load(labels: labels, rows: rows, loss: loss) }
    guard let targetColumns else {
      throw NTKitError.invalidArgument("give the training targets: --labels Y.npy (or --target COLUMN for CSV)")
    }
    return try TrainingTargets.load(csv: csv, columns: targetColumns, loss: loss)
  }
}
