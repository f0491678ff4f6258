/// Adam hyper-parameters; `step` is 1-based (bias correction 1 − β^step).
public struct AdamHyper: Sendable, Equatable {
  public var learningRate: Double = 1e-3
  public var beta1: Double = 0.9
  public var beta2: Double = 0.999
  public var epsilon: Double = 1e-8
  public var weightDecay: Double = 0
  public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
              epsilon: Double = 1e-8, weightDecay: Double = 0) {
    self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
    self.epsilon = epsilon; self.weightDecay = weightDecay
  }
}
