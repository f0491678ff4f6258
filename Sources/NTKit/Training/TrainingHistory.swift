/// One epoch of training as `Trainer.train` records it.
public struct EpochRecord: Sendable, Equatable {
  /// 1-based epoch number.
  public var epoch: Int
  /// Mean training loss over the epoch's batches (weighted by batch size),
  /// each taken before its update; nil when not recorded.
  public var trainLoss: Double?
  /// Training accuracy (cross-entropy only).
  public var trainAccuracy: Double?
  /// Loss on the test set after the epoch's updates; nil without a test set.
  public var testLoss: Double?
  /// Test accuracy (cross-entropy with a test set only).
  public var testAccuracy: Double?
  /// Wall-clock seconds of the epoch (test evaluation included).
  public var seconds: Double

  public init(epoch: Int, trainLoss: Double?, trainAccuracy: Double?, testLoss: Double?, testAccuracy: Double?,
              seconds: Double) {
    self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
    self.testLoss = testLoss; self.testAccuracy = testAccuracy; self.seconds = seconds
  }
}

/// Per-epoch losses of a training run, with the summary figures the paper uses.
public struct TrainingHistory: Sendable, Equatable {
  public var loss: Loss
  public var epochs: [EpochRecord]

  public init(loss: Loss, epochs: [EpochRecord] = []) {
    self.loss = loss
    self.epochs = epochs
  }

  /// Records one epoch (and reports it to `onEpoch`) once its losses are finite;
  /// a non-finite loss stops training with a hint.
  mutating func append(_ record: EpochRecord, onEpoch: ((EpochRecord) -> Void)?) throws {
    if let l = record.trainLoss, !l.isFinite {
      throw NTKitError.numerical("training loss became \(l) at epoch \(record.epoch); lower the learning rate")
    }
    if let l = record.testLoss, !l.isFinite {
      throw NTKitError.numerical("test loss became \(l) at epoch \(record.epoch); lower the learning rate")
    }
    epochs.append(record)
    onEpoch?(record)
  }

  /// The smallest test loss over all epochs (nil without a test set).
  public var minTestLoss: Double? { epochs.compactMap(\.testLoss).min() }
  /// The epoch (1-based) at which the smallest test loss occurred.
  public var minTestLossEpoch: Int? {
    var best: (Int, Double)?
    for e in epochs { if let t = e.testLoss, best == nil || t < best!.1 { best = (e.epoch, t) } }
    return best?.0
  }
  /// The test loss after the last epoch.
  public var finalTestLoss: Double? { epochs.last?.testLoss }
  /// The training loss of the last epoch.
  public var finalTrainLoss: Double? { epochs.last?.trainLoss }
  /// The test accuracy after the last epoch (cross-entropy only).
  public var finalTestAccuracy: Double? { epochs.last?.testAccuracy }
  /// Total seconds over all epochs.
  public var seconds: Double { epochs.reduce(0) { $0 + $1.seconds } }

  /// The history as CSV (`--history`): a header line, then one line per epoch;
  /// absent values are empty fields. Accuracy columns appear for cross-entropy.
  public func csv() -> String {
    let accuracy = loss == .crossEntropy
    var header = ["epoch", "train_loss"]
    if accuracy { header.append("train_accuracy") }
    header.append("test_loss")
    if accuracy { header.append("test_accuracy") }
    header.append("seconds")
    var out = header.joined(separator: ",") + "\n"
    func field(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
    for e in epochs {
      var row = [String(e.epoch), field(e.trainLoss)]
      if accuracy { row.append(field(e.trainAccuracy)) }
      row.append(field(e.testLoss))
      if accuracy { row.append(field(e.testAccuracy)) }
      row.append(field(e.seconds))
      out += row.joined(separator: ",") + "\n"
    }
    return out
  }

  /// Writes `csv()` to `path` atomically.
  public func writeCSV(_ path: String) throws {
    try AtomicFile.write(path, text: csv())
  }
}
