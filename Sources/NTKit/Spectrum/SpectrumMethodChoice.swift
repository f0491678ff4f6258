/// What `ntk stats --method` asks for: `auto` (exact up to
/// `CollectiveVariables.lanczosThreshold`, else top-16 Lanczos), `exact` or
/// `lanczos` (top `k`).
public enum SpectrumMethodChoice: String, Sendable, Equatable, CaseIterable {
  case exact, lanczos, auto

  /// Parses `exact`, `lanczos` or `auto` (case-insensitive), listing the valid names otherwise.
  public init(parsing text: String) throws {
    guard let c = SpectrumMethodChoice(rawValue: text.lowercased()) else {
      throw NTKitError.invalidArgument(
        "unknown method '\(text)'; valid methods: \(SpectrumMethodChoice.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    self = c
  }

  /// The method named explicitly (`lanczos` with `topK` eigenvalues), or nil for `auto`,
  /// which depends on the kernel's size.
  public func explicitMethod(topK: Int) -> CollectiveVariables.Method? {
    switch self {
    case .exact: return .exact
    case .lanczos: return .lanczos(k: topK)
    case .auto: return nil
    }
  }

  /// The method for an `n × n` kernel.
  public func method(n: Int, topK: Int) -> CollectiveVariables.Method {
    explicitMethod(topK: topK) ?? CollectiveVariables.automaticMethod(n: n)
  }
}
