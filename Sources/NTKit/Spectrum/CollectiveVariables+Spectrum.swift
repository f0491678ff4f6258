/// Collective variables from a spectrum computed elsewhere (ScaLAPACK's
/// `pdsyevd` or a distributed Lanczos in `ntk-mpi`), with the same entropy
/// and ordering rules as `CollectiveVariables.compute`.
extension CollectiveVariables {
  /// From all `n` eigenvalues (any order) and the trace `Σ Θ_ii`.
  public static func fromSpectrum(n: Int, trace: Double, eigenvalues: [Double]) throws -> CollectiveVariables {
    guard n > 0, eigenvalues.count == n else {
      throw NTKitError.invalidArgument("collective variables: expected \(n) eigenvalues, got \(eigenvalues.count)")
    }
    let sorted = eigenvalues.sorted(by: >)
    return CollectiveVariables(n: n, trace: trace, entropy: try entropy(of: sorted), lambdaMax: sorted[0],
                               eigenvalues: sorted, method: .exact)
  }

  /// From the top `k` eigenvalues (descending) found by Lanczos: no entropy.
  public static func fromTopEigenvalues(n: Int, trace: Double, top: [Double], k: Int) throws -> CollectiveVariables {
    guard let first = top.first else { throw NTKitError.invalidArgument("collective variables: no eigenvalues") }
    return CollectiveVariables(n: n, trace: trace, entropy: nil, lambdaMax: first, eigenvalues: top, method: .lanczos(k: k))
  }
}
