/// The optimizer names of `ntk train --optimizer` and the C ABI's `"optimizer"`.
public enum OptimizerChoice: String, Sendable, Equatable, CaseIterable {
  case adam, sgd

  /// Parses `adam` or `sgd` (case-insensitive), listing the valid names otherwise.
  public init(parsing text: String) throws {
    guard let c = OptimizerChoice(rawValue: text.lowercased()) else {
      throw NTKitError.invalidArgument(
        "unknown optimizer '\(text)'; valid optimizers: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    self = c
  }

  /// The optimizer with these hyperparameters (SGD uses the learning rate only).
  public func make(_ hyper: AdamHyper) -> OptimizerKind {
    switch self {
    case .adam: return .adam(hyper)
    case .sgd: return .sgd(learningRate: hyper.learningRate)
    }
  }
}
