#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The paper's collective variables of an `N × N` neural tangent kernel `Θ`
/// with eigenvalues `λ_1 ≥ … ≥ λ_N`:
///
/// - trace `Tr Θ = Σ_i Θ_ii = Σ_k λ_k`, summed in float64 from the diagonal
///   (as `np.trace`), so it needs no decomposition;
/// - von Neumann entropy `S = −Σ_k p_k ln p_k`, `p_k = λ_k⁺ / Σ_j λ_j⁺`, with
///   round-off negatives clipped (`λ⁺ = max(λ, 0)`) and `p_k = 0` terms dropped;
///   `0 ≤ S ≤ ln N`, and `e^S` reads as an effective rank;
/// - the largest eigenvalue `λ_max = λ_1`.
///
/// The entropy needs every eigenvalue, hence a full `dsyevd`; for large `N`
/// only the top `k` are found by Lanczos and the entropy is left out.
public struct CollectiveVariables: Sendable, Equatable {
  public var n: Int
  /// `Σ_i Θ_ii`, in float64 from the matrix diagonal (`np.trace`).
  public var trace: Double
  /// Von Neumann entropy (natural log); `nil` when only top-k were computed.
  public var entropy: Double?
  public var lambdaMax: Double
  /// Descending: all `N` (exact) or the top `k` (Lanczos).
  public var eigenvalues: [Double]?
  public var method: Method

  /// How the spectrum is obtained.
  public enum Method: Sendable, Equatable {
    /// Full decomposition (LAPACK `dsyevd`): every eigenvalue and the entropy.
    case exact
    /// Top-`k` eigenvalues by Lanczos (`k ≤ 64`): `λ_max` but no entropy.
    case lanczos(k: Int)
  }

  /// Largest `N` decomposed exactly by `automaticMethod(n:)`. Why: `dsyevd` on an
  /// `N × N` float64 matrix needs `8N²` bytes (plus the float32 kernel) and
  /// `O(N³)` time; at `N = 8192` that is 512 MiB and some tens of seconds, and
  /// both grow quickly past it (`N = 32768`: 8 GiB, 64× the time).
  public static let lanczosThreshold = 8192

  /// Default for an `N × N` kernel: exact up to `lanczosThreshold`, else top-16 Lanczos.
  public static func automaticMethod(n: Int) -> Method {
    n <= lanczosThreshold ? .exact : .lanczos(k: 16)
  }

  /// Collective variables of a row-major float32 kernel (`kernel.count == n * n`).
  /// The spectrum is that of the symmetric part `(Θ + Θᵀ)/2`, in float64.
  public static func compute(
    kernel: UnsafeBufferPointer<Float>, n: Int, method: Method = .exact
  ) throws -> CollectiveVariables {
    try validate(count: kernel.count, n: n)
    var trace = 0.0
    for i in 0..<n { trace += Double(kernel[i * n + i]) }
    switch method {
    case .exact:
      return try exact(SymmetricEigen.eigenvalues(kernel, n: n), n: n, trace: trace)
    case .lanczos(let k):
      let top = try Lanczos.topEigenvalues(kernel, n: n, k: k).eigenvalues
      return CollectiveVariables(
        n: n, trace: trace, entropy: nil, lambdaMax: top[0], eigenvalues: top, method: method)
    }
  }

  /// Collective variables of a row-major float64 kernel, by full decomposition.
  public static func compute(kernel: [Double], n: Int) throws -> CollectiveVariables {
    try compute(kernel: kernel, n: n, method: .exact)
  }

  /// Collective variables of a row-major float64 kernel (`--precision f64`,
  /// an `<f8` kernel file): never rounded to float32.
  public static func compute(kernel: [Double], n: Int, method: Method) throws -> CollectiveVariables {
    try validate(count: kernel.count, n: n)
    var trace = 0.0
    for i in 0..<n { trace += kernel[i * n + i] }
    switch method {
    case .exact:
      return try exact(SymmetricEigen.eigenvalues(kernel, n: n), n: n, trace: trace)
    case .lanczos(let k):
      let top = try kernel.withUnsafeBufferPointer { try Lanczos.topEigenvalues($0, n: n, k: k).eigenvalues }
      return CollectiveVariables(n: n, trace: trace, entropy: nil, lambdaMax: top[0], eigenvalues: top, method: method)
    }
  }

  /// Von Neumann entropy of a spectrum: clip negatives to 0, `p = λ / Σλ`,
  /// `S = −Σ_{p>0} p ln p` (natural log). Throws `.numerical` when `Σλ ≤ 0`.
  public static func entropy(of eigenvalues: [Double]) throws -> Double {
    let clipped = eigenvalues.map { max($0, 0) }
    let total = clipped.reduce(0, +)
    guard total > 0, total.isFinite else {
      throw NTKitError.numerical("entropy: the eigenvalues sum to \(total) after clipping negatives; need a positive finite sum")
    }
    var s = 0.0
    for lambda in clipped where lambda > 0 {
      let p = lambda / total
      s -= p * log(p)
    }
    return s
  }

  /// Human-readable lines, e.g. `"trace = 3.233875e+02"`.
  public var summaryLines: [String] {
    var lines = ["n = \(n)", "trace = \(format(trace, "%.6e"))"]
    if let entropy {
      lines.append("entropy = \(format(entropy, "%.6f"))")
    } else if case .lanczos(let k) = method {
      lines.append("entropy: not computed (Lanczos, top-\(k) eigenvalues only)")
    }
    lines.append("lambda_max = \(format(lambdaMax, "%.6e"))")
    switch method {
    case .exact: lines.append("method = exact (\(SymmetricEigen.routine(n: n)))")
    case .lanczos(let k): lines.append("method = lanczos (top-\(k))")
    }
    return lines
  }

  private static func validate(count: Int, n: Int) throws {
    guard n > 0 else { throw NTKitError.invalidArgument("collective variables: kernel size n must be positive, got \(n)") }
    guard count == n * n else {
      throw NTKitError.invalidArgument("collective variables: expected an \(n)×\(n) kernel (\(n * n) values), got \(count)")
    }
  }

  private static func exact(_ eigenvalues: [Double], n: Int, trace: Double) throws -> CollectiveVariables {
    CollectiveVariables(
      n: n, trace: trace, entropy: try entropy(of: eigenvalues), lambdaMax: eigenvalues[0],
      eigenvalues: eigenvalues, method: .exact)
  }
}
