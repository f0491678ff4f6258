/// Times RND steps for benchmarks: restores a target set of picks, then runs
/// `repeats` selection steps (pool evaluation + retraining) and reports the
/// fastest evaluation and retraining times. Used by `NTKitBench`; the selector
/// it drives is the one `DataSelection.run` would use for `request`.
public enum RNDStepTiming {
  public struct Result: Sendable {
    /// Fastest pool evaluation of one step, seconds.
    public var evaluationSeconds: Double
    /// Fastest retraining of one step, seconds.
    public var trainingSeconds: Double
    /// Whether the fused CPU path ran (false: the generic device path).
    public var fastPath: Bool
  }

  /// `request.size` must exceed `picks.count` by at least `repeats`.
  public static func measure(_ request: SelectionRequest, device: any ComputeDevice, restoring picks: [Int],
                             repeats: Int) throws -> Result {
    let selector = try RNDSelector(request, device: device)
    try selector.restore(picks, predictor: nil)
    var evaluation = Double.infinity, training = Double.infinity
    for k in 0..<repeats {
      let r = try selector.step(number: k + 1, count: 1, retrain: true)
      evaluation = min(evaluation, r.evaluation)
      training = min(training, r.training)
    }
    return Result(evaluationSeconds: evaluation, trainingSeconds: training, fastPath: selector.isFused)
  }
}
