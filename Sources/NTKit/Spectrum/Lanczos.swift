import CNTKitBLAS

/// Largest eigenvalues of a symmetric `N × N` matrix `A` without a full
/// decomposition: the Lanczos method with full reorthogonalisation.
///
/// From a unit start vector `v₁`, Lanczos builds an orthonormal basis
/// `V_m = [v₁ … v_m]` of the Krylov space `span{v₁, Av₁, …, A^{m-1}v₁}` in which
/// `V_mᵀ A V_m = T_m` is tridiagonal (`α_j` on the diagonal, `β_j` beside it):
///
///     w = A v_j − α_j v_j − β_{j−1} v_{j−1},   α_j = v_jᵀ A v_j,
///     β_j = ‖w‖,   v_{j+1} = w / β_j.
///
/// In floating point the `v_j` lose orthogonality, so every `w` is also
/// Gram–Schmidt-orthogonalised against all of `V_m`, twice ("twice is enough").
/// The eigenvalues `θ_i` of `T_m` (Ritz values) approach the extreme eigenvalues
/// of `A`; with `T_m s_i = θ_i s_i` the Ritz pair's residual is exactly
/// `‖A V_m s_i − θ_i V_m s_i‖ = |β_m · s_i[m]|`, which is the stopping test:
/// the top `k` Ritz values are accepted when each residual is `≤ tol · |θ_max|`.
/// Eigenvalue errors are then `O(residual² / gap)`, far below `tol · λ_max`.
///
/// The Krylov space starts at `min(N, max(2k + 20, 3k))` vectors and grows by
/// `max(k, 10)` until the test passes. If `β_j` vanishes, the space is
/// invariant (e.g. `A` has rank below `k`): a fresh seeded vector orthogonal to
/// `V_m` continues the process with `β_j = 0`, so the answer also contains the
/// remaining (zero) eigenvalues. At `m = N` the result is exact.
public enum Lanczos {
  /// The top-`k` Ritz values and what it took to get them.
  public struct Result: Sendable, Equatable {
    /// Largest eigenvalues, descending (`min(k, N)` of them).
    public var eigenvalues: [Double]
    /// Lanczos steps taken, i.e. matrix–vector products (the Krylov dimension).
    public var iterations: Int
  }

  /// The largest `k` eigenvalues of the row-major float32 matrix `a`.
  ///
  /// Each product `A·x` is accumulated in float64 (blocks of rows are widened
  /// and passed to `dgemv`), so the operator is exactly the stored float32
  /// matrix and results agree with `dsyevd` on the same matrix to float64
  /// round-off, not float32's. A slightly non-symmetric `A` behaves as its
  /// symmetric part to first order (`xᵀKx = 0` for skew `K`).
  public static func topEigenvalues(
    _ a: UnsafeBufferPointer<Float>, n: Int, k: Int, tolerance: Double = 1e-8
  ) throws -> Result {
    guard n > 0, a.count == n * n else {
      throw NTKitError.invalidArgument("Lanczos: expected an n×n matrix with n > 0, got n = \(n), \(a.count) values")
    }
    let block = 16
    let workers = CPUThreads.count
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: workers * block * n)
    defer { scratch.deallocate() }
    return try topEigenvalues(n: n, k: k, tolerance: tolerance) { x, y in
      // Row blocks split over the cores, each widened into its own scratch.
      let blocks = (n + block - 1) / block
      let xp = x.baseAddress!, yp = y.baseAddress!
      parallelFor(workers, minimumChunk: 1) { range in
        for w in range {
          let r = scratch + w * block * n
          var b = w
          while b < blocks {
            let start = b * block, count = min(block, n - start)
            for i in 0..<(count * n) { r[i] = Double(a[start * n + i]) }
            ntk_cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(count), blasint(n), 1, r, blasint(n),
                        xp, 1, 0, yp + start, 1)
            b += workers
          }
        }
      }
    }
  }

  /// The largest `k` eigenvalues of the row-major float64 matrix `a` (its
  /// symmetric part to first order, as for float32).
  public static func topEigenvalues(
    _ a: UnsafeBufferPointer<Double>, n: Int, k: Int, tolerance: Double = 1e-8
  ) throws -> Result {
    guard n > 0, a.count == n * n else {
      throw NTKitError.invalidArgument("Lanczos: expected an n×n matrix with n > 0, got n = \(n), \(a.count) values")
    }
    return try topEigenvalues(n: n, k: k, tolerance: tolerance) { x, y in
      ntk_cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(n), 1, a.baseAddress!, blasint(n),
                  x.baseAddress!, 1, 0, y.baseAddress!, 1)
    }
  }

  /// The largest `k` eigenvalues of the symmetric operator `matvec`, which
  /// must write `A·x` (length `n`) into its second argument.
  public static func topEigenvalues(
    n: Int, k: Int, tolerance: Double = 1e-8, maxDimension: Int? = nil,
    matvec: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void
  ) throws -> Result {
    guard n > 0 else { throw NTKitError.invalidArgument("Lanczos: matrix size n must be positive, got \(n)") }
    guard (1...64).contains(k) else { throw NTKitError.invalidArgument("Lanczos: k must be in 1...64, got \(k)") }
    try OpenBLAS.requireLAPACKE()  // dgemv/ddot/dnrm2 here, dstev for the Ritz values
    let k = min(k, n)
    let initial = min(n, max(2 * k + 20, 3 * k))
    let limit = min(n, max(maxDimension ?? max(500, 8 * k), initial))
    var checkpoint = initial
    var rng = SplitMix64(seed: 0x4E54_4B69_744C_616E)  // fixed: results are reproducible

    var basis = [Double]()  // row j is v_{j+1}
    basis.reserveCapacity(checkpoint * n)
    var alpha = [Double](), beta = [Double]()
    var v = (0..<n).map { _ in 1 + 0.1 * rng.nextSigned() }  // all-ones, perturbed
    var w = [Double](repeating: 0, count: n)
    var h = [Double](repeating: 0, count: limit)
    scale(&v, by: 1 / norm(v))
    var normEstimate = 0.0

    for j in 0..<limit {
      FaultInjection.pause("compute")
      try Interrupt.check()
      basis.append(contentsOf: v)
      try v.withUnsafeBufferPointer { x in try w.withUnsafeMutableBufferPointer { try matvec(x, $0) } }
      guard w.allSatisfy(\.isFinite) else { throw NTKitError.numerical("Lanczos: A·v is NaN or Inf") }
      let a = dot(v, w)
      let previous = j > 0 ? beta[j - 1] : 0
      for i in 0..<n { w[i] -= a * v[i] }
      if j > 0 { for i in 0..<n { w[i] -= previous * basis[(j - 1) * n + i] } }
      reorthogonalise(&w, against: basis, count: j + 1, n: n, scratch: &h)
      alpha.append(a)
      var b = norm(w)
      normEstimate = max(normEstimate, abs(a) + b + previous)
      if b <= 1e-10 * normEstimate { b = 0 }  // invariant subspace
      beta.append(b)

      if j + 1 == checkpoint || j + 1 == limit {
        let (theta, last) = try ritz(alpha, beta)
        let top = Array(theta.indices.reversed().prefix(k))
        let bound = tolerance * max(abs(theta.first!), abs(theta.last!))
        if j + 1 == n || (top.count == k && top.allSatisfy { abs(b * last[$0]) <= bound }) {
          return Result(eigenvalues: top.map { theta[$0] }, iterations: j + 1)
        }
        if j + 1 == limit {
          throw NTKitError.numerical("Lanczos: top-\(k) eigenvalues did not converge in \(limit) steps")
        }
        checkpoint = min(limit, checkpoint + max(k, 10))
      }
      if b > 0 {
        v = w; scale(&v, by: 1 / b)
      } else {  // restart with a fresh seeded direction orthogonal to the basis
        var fresh = 0.0
        for _ in 0..<8 where fresh <= 1e-8 {
          v = (0..<n).map { _ in rng.nextSigned() }
          let before = norm(v)
          reorthogonalise(&v, against: basis, count: j + 1, n: n, scratch: &h)
          fresh = norm(v) / before
        }
        guard fresh > 1e-8 else { throw NTKitError.numerical("Lanczos: no direction left to restart from") }
        scale(&v, by: 1 / norm(v))
      }
    }
    throw NTKitError.numerical("Lanczos: unreachable")  // the loop returns at j + 1 == limit
  }

  /// `w ← (I − V Vᵀ)² w` for the first `count` rows of `basis` (two classical
  /// Gram–Schmidt passes with `dgemv`).
  private static func reorthogonalise(
    _ w: inout [Double], against basis: [Double], count: Int, n: Int, scratch h: inout [Double]
  ) {
    for _ in 0..<2 {
      ntk_cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(count), blasint(n), 1, basis, blasint(n), w, 1, 0, &h, 1)
      ntk_cblas_dgemv(CblasRowMajor, CblasTrans, blasint(count), blasint(n), -1, basis, blasint(n), h, 1, 1, &w, 1)
    }
  }

  /// Ritz values of `T_m` (ascending) and the last component of each
  /// eigenvector, via LAPACK `dstev`.
  private static func ritz(_ alpha: [Double], _ beta: [Double]) throws -> ([Double], [Double]) {
    let m = alpha.count
    var d = alpha
    var e = Array(beta.prefix(m - 1)) + [0]
    var z = [Double](repeating: 0, count: m * m)
    let info = ntk_LAPACKE_dstev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), Int32(m), &d, &e, &z, Int32(m))
    guard info == 0 else { throw NTKitError.lapack(routine: "dstev", info: Int(info)) }
    return (d, Array(z[((m - 1) * m)...]))
  }

  private static func dot(_ x: [Double], _ y: [Double]) -> Double {
    ntk_cblas_ddot(blasint(x.count), x, 1, y, 1)
  }

  private static func norm(_ x: [Double]) -> Double { ntk_cblas_dnrm2(blasint(x.count), x, 1) }

  private static func scale(_ x: inout [Double], by s: Double) { for i in x.indices { x[i] *= s } }
}
