#if canImport(Glibc)
import NTKit
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Descriptive statistics and correlations used by the experiment reports.
/// Functions never trap: empty or degenerate input gives NaN, 0 or nil as documented.
public enum Statistics {
  /// Arithmetic mean; NaN for an empty array.
  public static func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
  }

  /// Sample standard deviation with Bessel's correction:
  /// σ = sqrt(Σ (xᵢ − x̄)² / (n − 1)). 0 for n = 1, NaN for n = 0.
  public static func sampleStandardDeviation(_ values: [Double]) -> Double {
    let n = values.count
    if n == 0 { return .nan }
    if n == 1 { return 0 }
    let m = mean(values)
    let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    return (ss / Double(n - 1)).squareRoot()
  }

  /// Standard error of the mean over R repeats: SE = σ / √R, where σ is the
  /// sample standard deviation (n − 1 denominator) and R = values.count.
  /// 0 for R = 1, NaN for R = 0.
  public static func standardError(_ values: [Double]) -> Double {
    let r = values.count
    if r == 0 { return .nan }
    if r == 1 { return 0 }
    return sampleStandardDeviation(values) / Double(r).squareRoot()
  }

  /// Pearson correlation coefficient. nil when the lengths differ, n < 2,
  /// or either side is constant (zero variance).
  public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
    guard x.count == y.count, x.count >= 2 else { return nil }
    let mx = mean(x), my = mean(y)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices {
      let dx = x[i] - mx, dy = y[i] - my
      sxy += dx * dy; sxx += dx * dx; syy += dy * dy
    }
    guard sxx > 0, syy > 0 else { return nil }
    let r = sxy / (sxx * syy).squareRoot()
    return r.isFinite ? min(1, max(-1, r)) : nil
  }

  /// Spearman rank correlation: Pearson on the ranks (ties get average ranks).
  /// nil in the same cases as `pearson`.
  public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
    guard x.count == y.count else { return nil }
    return pearson(ranks(x), ranks(y))
  }

  /// 1-based ranks; tied values share the average of the ranks they span.
  /// Ranks of NaN values are unspecified (filter them out first).
  public static func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var result = [Double](repeating: 0, count: values.count)
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count, values[order[j + 1]] == values[order[i]] { j += 1 }
      let rank = Double(i + j) / 2 + 1
      for k in i...j { result[order[k]] = rank }
      i = j + 1
    }
    return result
  }

  /// Pairwise Pearson correlations between columns; entry [i][j] is nil where
  /// `pearson` is nil (e.g. a constant column). The diagonal is 1 unless nil.
  public static func correlationMatrix(_ columns: [[Double]]) -> [[Double?]] {
    var result = [[Double?]](repeating: [Double?](repeating: nil, count: columns.count), count: columns.count)
    for i in columns.indices {
      for j in i..<columns.count {
        let r = i == j ? pearson(columns[i], columns[i]).map { _ in 1.0 } : pearson(columns[i], columns[j])
        result[i][j] = r; result[j][i] = r
      }
    }
    return result
  }
}
