/// The optimizers of `Trainer`.
public enum OptimizerKind: Sendable, Equatable {
  /// Adam with bias correction (and optional L2 weight decay added to the gradient).
  case adam(AdamHyper)
  /// Plain stochastic gradient descent: θ ← θ − lr·∇.
  case sgd(learningRate: Double)

  /// Adam with the usual defaults (lr 1e-3, β1 0.9, β2 0.999, ε 1e-8).
  public static var adamDefault: OptimizerKind { .adam(AdamHyper()) }

  /// The learning rate of either optimizer.
  public var learningRate: Double {
    switch self {
    case .adam(let h): return h.learningRate
    case .sgd(let lr): return lr
    }
  }
}
