/// The whitening factor of the Mahalanobis distance: a lower-triangular L
/// with L·Lᵀ = Σ⁻¹ for the covariance Σ of a set of rows, so that
/// ‖(a − b)·L‖₂ = √((a − b) Σ⁻¹ (a − b)ᵀ).
enum MahalanobisWhitening {
  /// Lower Cholesky factor of a symmetric positive-definite m × m matrix (row-major), or nil.
  static func cholesky(_ a: [Double], _ m: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
      for j in 0...i {
        var s = a[i * m + j]
        for k in 0..<j { s -= l[i * m + k] * l[j * m + k] }
        if i == j {
          guard s > 0, s.isFinite else { return nil }
          l[i * m + i] = s.squareRoot()
        } else {
          l[i * m + j] = s / l[j * m + j]
        }
      }
    }
    return l
  }

  /// Σ⁻¹ of a symmetric positive-definite matrix via its Cholesky factor, or nil.
  static func inverse(_ a: [Double], _ m: Int) -> [Double]? {
    guard let c = cholesky(a, m) else { return nil }
    // Solve C·Cᵀ·X = I column by column.
    var inv = [Double](repeating: 0, count: m * m)
    for col in 0..<m {
      var y = [Double](repeating: 0, count: m)
      for i in 0..<m {
        var s = i == col ? 1.0 : 0.0
        for k in 0..<i { s -= c[i * m + k] * y[k] }
        y[i] = s / c[i * m + i]
      }
      var x = [Double](repeating: 0, count: m)
      for i in stride(from: m - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<max(m, i + 1) { s -= c[k * m + i] * x[k] }
        x[i] = s / c[i * m + i]
      }
      for i in 0..<m { inv[i * m + col] = x[i] }
    }
    return inv
  }

  /// L with L·Lᵀ = Σ⁻¹ for the (population) covariance `cov` (m × m). A
  /// singular covariance gets a ridge of 1e-9·trace/m before it fails.
  static func factor(covariance cov: [Double], _ m: Int) throws -> [Double] {
    var c = cov
    let trace = (0..<m).reduce(0.0) { $0 + cov[$1 * m + $1] }
    for attempt in 0..<2 {
      if let inv = inverse(c, m), let l = cholesky(inv, m) { return l }
      guard attempt == 0, trace > 0 else { break }
      for i in 0..<m { c[i * m + i] += 1e-9 * trace / Double(m) + 1e-30 }
    }
    throw NTKitError.numerical(
      "the covariance of the target network's outputs over the pool is singular, so the Mahalanobis distance is undefined; use another distance")
  }
}
