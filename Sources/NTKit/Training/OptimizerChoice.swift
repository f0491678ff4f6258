/// The optimizer names of `ntk train --optimizer` and the C ABI's `"optimizer"`.
public enum OptimizerChoice: String, Sendable, Equatable, CaseIterable, NamedChoice {
  case adam, sgd

  public static let choiceName = (one: "optimizer", many: "optimizers")

  /// Parses `adam` or `sgd` (case-insensitive), listing the valid names otherwise.
  public init(parsing text: String) throws { self = try .named(text) }

  /// The optimizer with these hyperparameters (SGD uses the learning rate only).
  public func make(_ hyper: AdamHyper) -> OptimizerKind {
    switch self {
    case .adam: return .adam(hyper)
    case .sgd: return .sgd(learningRate: hyper.learningRate)
    }
  }
}
