/// What `ntk stats --method` asks for: `auto` (exact up to
/// `CollectiveVariables.lanczosThreshold`, else top-16 Lanczos), `exact` or
/// `lanczos` (top `k`).
public enum SpectrumMethodChoice: String, Sendable, Equatable, CaseIterable, NamedChoice {
  case exact, lanczos, auto

  public static let choiceName = (one: "method", many: "methods")

  /// Parses `exact`, `lanczos` or `auto` (case-insensitive), listing the valid names otherwise.
  public init(parsing text: String) throws { self = try .named(text) }

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
