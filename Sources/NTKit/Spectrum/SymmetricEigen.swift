import CNTKitBLAS

/// Full eigenvalue decomposition of a real symmetric `n × n` matrix.
///
/// For a (nearly) symmetric input `A` the routine works on the symmetric part
/// `S = (A + Aᵀ) / 2`, formed in float64, and returns the eigenvalues
/// `λ_1 ≥ λ_2 ≥ … ≥ λ_n` of `S` (so `S = Q diag(λ) Qᵀ`, `Σ λ_k = Tr S = Tr A`).
/// Averaging with the transpose removes round-off asymmetry (an NTK assembled in
/// float32 on a GPU is symmetric only up to rounding) exactly as NumPy's
/// `eigvalsh((A + A.T) / 2)` does, rather than silently reading one triangle.
///
/// Up to `fixedOrderLimit` rows: a fixed-order Householder reduction and
/// LAPACK `dsterf` (`FixedOrderTridiagonal`); above: LAPACK `dsyevd` (divide
/// and conquer, values only: `8n²` bytes for the matrix plus `O(n)`
/// workspace, `O(n³)` time), single-threaded. Row-major.
public enum SymmetricEigen {
  /// Largest n reduced by `FixedOrderTridiagonal` (the same eigenvalues, to the
  /// bit, on every x86-64 CPU and worker count: every experiment size); above
  /// it, `dsyevd` on one OpenBLAS thread (the same bits for any worker count,
  /// but OpenBLAS's CPU-specific kernels may change the last bits).
  public static let fixedOrderLimit = 1024

  /// What computes the eigenvalues of an `n × n` matrix, as printed by
  /// `stats` ("fixed-order tridiagonal + dsterf" or "dsyevd").
  public static func routine(n: Int) -> String {
    n <= fixedOrderLimit ? "fixed-order tridiagonal + dsterf" : "dsyevd"
  }

  /// Eigenvalues, descending, of the symmetric part of the row-major float64
  /// matrix `a` (`a.count == n * n`).
  public static func eigenvalues(_ a: [Double], n: Int) throws -> [Double] {
    try a.withUnsafeBufferPointer { p in try eigenvalues(n: n, count: p.count) { p[$0] } }
  }

  /// Eigenvalues, descending, of the symmetric part of the row-major float32
  /// matrix `a`; the matrix is widened to float64 before symmetrising.
  public static func eigenvalues(_ a: UnsafeBufferPointer<Float>, n: Int) throws -> [Double] {
    try eigenvalues(n: n, count: a.count) { Double(a[$0]) }
  }

  /// Shared path: validate, build `S = (A + Aᵀ)/2` in float64, call `dsyevd`.
  private static func eigenvalues(
    n: Int, count: Int, _ element: (Int) -> Double
  ) throws -> [Double] {
    guard n > 0 else { throw NTKitError.invalidArgument("eigenvalues: matrix size n must be positive, got \(n)") }
    guard count == n * n else {
      throw NTKitError.invalidArgument("eigenvalues: expected \(n)×\(n) = \(n * n) values, got \(count)")
    }
    try OpenBLAS.requireLAPACKE()
    var s = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n {
        let v = 0.5 * (element(i * n + j) + element(j * n + i))
        guard v.isFinite else { throw NTKitError.numerical("eigenvalues: matrix entry (\(i), \(j)) is NaN or Inf") }
        s[i * n + j] = v
        s[j * n + i] = v
      }
    }
    if n == 1 { return [s[0]] }
    if n <= fixedOrderLimit {
      // Same bits on every CPU: our own fixed-order reduction, then dsterf (no BLAS).
      // As dsyevd below: a signal during it removes the staged outputs and exits 130 at once.
      let r = Interrupt.unpollable {
        FaultInjection.pause("lapack")
        return FixedOrderTridiagonal.eigenvalues(&s, n: n)
      }
      guard r.info == 0 else { throw NTKitError.lapack(routine: "dsterf", info: Int(r.info)) }
      return r.values.sorted(by: >)
    }
    var w = [Double](repeating: 0, count: n)
    // dsyevd cannot poll: a signal during it removes the staged outputs and exits 130 at once.
    let info = Interrupt.unpollable { withBLASThreads(1) {
      FaultInjection.pause("lapack")
      return       ntk_LAPACKE_dsyevd(
        LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "U")),
        Int32(n), &s, Int32(n), &w)
    } }
    guard info == 0 else { throw NTKitError.lapack(routine: "dsyevd", info: Int(info)) }
    return w.sorted(by: >)  // LAPACK returns ascending order
  }
}
