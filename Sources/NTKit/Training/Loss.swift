/// The training objectives.
public enum Loss: String, Sendable, Equatable, CaseIterable {
  /// Mean squared error, averaged over samples and outputs: Σ(y − t)² / (N·M).
  case mse
  /// Softmax cross-entropy against integer labels, averaged over samples;
  /// also reports accuracy (arg-max of the logits equals the label).
  case crossEntropy = "cross_entropy"

  /// The spec names, as the CLI spells them.
  public static let names = allCases.map(\.rawValue)

  /// Parses `mse` or `cross_entropy` (also `cross-entropy`), listing the valid names otherwise.
  public init(parsing name: String) throws {
    let normalized = name.lowercased().replacingOccurrences("-", with: "_")
    guard let loss = Loss(rawValue: normalized) else {
      throw NTKitError.invalidArgument(
        "unknown loss '\(name)'; valid losses: \(Loss.names.joined(separator: ", "))")
    }
    self = loss
  }
}

extension String {
  /// `self` with every `target` character replaced (Foundation-free helper).
  func replacingOccurrences(_ target: Character, with replacement: Character) -> String {
    String(map { $0 == target ? replacement : $0 })
  }
}
