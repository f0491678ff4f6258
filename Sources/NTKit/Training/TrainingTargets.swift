/// What a network is trained to produce, which also picks the loss.
public enum TrainingTargets: Sendable, Equatable {
  /// Regression targets, N × M row-major, trained with `Loss.mse`.
  case values([Float])
  /// Integer class labels in 0..<M, trained with `Loss.crossEntropy`.
  case labels([Int])

  /// The loss these targets train with.
  public var loss: Loss {
    switch self {
    case .values: return .mse
    case .labels: return .crossEntropy
    }
  }

  /// Checks the targets against `rows` samples of a network with `outputs` outputs.
  func validate(rows: Int, outputs: Int, context: String) throws {
    switch self {
    case .values(let v):
      guard v.count == rows * outputs else {
        throw NTKitError.shapeMismatch(context: "\(context) targets", expected: "\(rows) × \(outputs) = \(rows * outputs) values",
                                       found: "\(v.count)")
      }
      if let bad = v.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: "\(context) targets", detail: "at row \(bad / max(outputs, 1))")
      }
    case .labels(let l):
      guard l.count == rows else {
        throw NTKitError.shapeMismatch(context: "\(context) labels", expected: "\(rows) labels", found: "\(l.count)")
      }
      if let bad = l.firstIndex(where: { $0 < 0 || $0 >= outputs }) {
        throw NTKitError.invalidArgument(
          "\(context) label \(l[bad]) at row \(bad) is out of range: the network has \(outputs) outputs (classes 0..<\(outputs))")
      }
    }
  }
}
