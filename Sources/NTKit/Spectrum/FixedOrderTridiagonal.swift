import CNTKitBLAS

/// Eigenvalues of a symmetric matrix with the same bits on every x86-64 CPU
/// and worker count (issue 12): a Householder reduction to tridiagonal form
/// written here, then LAPACK `dsterf` (implicit QL/QR on the tridiagonal,
/// scalar code that calls no BLAS).
///
/// `dsyevd` reduces with OpenBLAS's `dsymv`/`dsyr2k`, whose kernels (and so
/// rounding) depend on the CPU OpenBLAS detects; this reduction runs every
/// sum in a fixed order instead: vectors go across independent outputs
/// (rows of the symmetric matrix, scaled and added in row order) and never
/// split one sum, and Swift does not contract `a * b + c` into an FMA, so
/// the vector width does not change a bit.
///
/// Layout: `s` is the full symmetric `n × n` matrix, row-major, float64
/// (both triangles; overwritten). Cost: `(8/3)n³` flops over `O(n)` passes
/// of the trailing matrix (no blocking), hence `SymmetricEigen` uses it up
/// to `SymmetricEigen.fixedOrderLimit` rows and `dsyevd` above.
enum FixedOrderTridiagonal {
  /// Eigenvalues of `s` (n × n symmetric), ascending, or the LAPACK info of `dsterf` when it fails.
  static func eigenvalues(_ s: inout [Double], n: Int) -> (values: [Double], info: Int32) {
    var d = [Double](repeating: 0, count: n)
    var e = [Double](repeating: 0, count: max(n - 1, 1))
    s.withUnsafeMutableBufferPointer { reduce($0.baseAddress!, n: n, d: &d, e: &e) }
    let info = ntk_LAPACKE_dsterf(Int32(n), &d, &e)
    return (d, info)
  }

  /// Reduces the symmetric `a` (n × n, row-major, full) to tridiagonal `T = Qᵀ A Q`:
  /// diagonal `d` (n), off-diagonal `e` (n − 1). Step k annihilates column k below
  /// its subdiagonal with the reflector `H = I − τ v vᵀ` on the trailing block.
  static func reduce(_ a: UnsafeMutablePointer<Double>, n: Int, d: inout [Double], e: inout [Double]) {
    guard n > 1 else { if n == 1 { d[0] = a[0] }; return }
    let v = UnsafeMutablePointer<Double>.allocate(capacity: n)
    let w = UnsafeMutablePointer<Double>.allocate(capacity: n)
    defer { v.deallocate(); w.deallocate() }
    for k in 0..<(n - 2) {
      let m = n - k - 1          // trailing block rows k+1..<n
      let base = k + 1
      // x = A[k, k+1..<n] (= the column below the diagonal), scaled for a safe norm.
      let row = a + k * n + base
      var scale = 0.0
      for i in 0..<m { scale = max(scale, abs(row[i])) }
      d[k] = a[k * n + k]
      guard scale > 0 else { e[k] = 0; continue }
      var ss = 0.0
      for i in 0..<m { let t = row[i] / scale; ss += t * t }
      let norm = scale * ss.squareRoot()
      let alpha = row[0] > 0 ? -norm : norm
      // v = x − α e₁, τ = 2 / vᵀv (vᵀv = 2(‖x‖² − α x₀) = 2 ‖x‖ (‖x‖ + |x₀|)).
      for i in 0..<m { v[i] = row[i] }
      v[0] -= alpha
      let tau = 1 / (norm * (norm + abs(row[0])))
      e[k] = alpha
      // p = τ B v, as Σ_j v_j · B[j, :] (rows in order: a fixed sum per output).
      for i in 0..<m { w[i] = 0 }
      for j in 0..<m {
        let vj = v[j]
        if vj == 0 { continue }
        let bj = a + (base + j) * n + base
        for i in 0..<m { w[i] += vj * bj[i] }
      }
      for i in 0..<m { w[i] *= tau }
      // w = p − (τ/2)(vᵀp) v
      var vp = 0.0
      for i in 0..<m { vp += v[i] * w[i] }
      let kk = 0.5 * tau * vp
      for i in 0..<m { w[i] -= kk * v[i] }
      // B ← B − v wᵀ − w vᵀ (both triangles, row by row).
      for j in 0..<m {
        let vj = v[j], wj = w[j]
        let bj = a + (base + j) * n + base
        for i in 0..<m { bj[i] -= vj * w[i] + wj * v[i] }
      }
    }
    d[n - 2] = a[(n - 2) * n + (n - 2)]
    d[n - 1] = a[(n - 1) * n + (n - 1)]
    e[n - 2] = a[(n - 2) * n + (n - 1)]
  }
}
