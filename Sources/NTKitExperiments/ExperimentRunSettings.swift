import NTKit

/// The settings both experiments share: repeats, training schedule, seed and
/// parallel jobs (`ntk experiment`'s common flags set them in one place).
public protocol ExperimentRunSettings {
  var runs: Int { get set }
  var epochs: Int { get set }
  var learningRate: Double { get set }
  /// nil: full batch.
  var batchSize: Int? { get set }
  var seed: UInt64 { get set }
  var jobs: Int { get set }
}

extension CorrelateSettings: ExperimentRunSettings {}
extension CompareSettings: ExperimentRunSettings {}
