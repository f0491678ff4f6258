/// Row-wise distances of RND selection (F(x) vs G(x)) and k-center, larger =
/// more novel. Parsing and names: `DistanceMetric+Parsing.swift`.
public enum DistanceMetric: Sendable, Equatable {
  /// mean over the row of (a − b)²: the paper's.
  case mse
  case l1
  case l2
  case lp(Double)
  /// 1 − cos(a, b).
  case cosine
  /// arccos(cos(a, b)) / π.
  case angular
}
