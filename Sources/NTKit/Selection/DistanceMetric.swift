import CNTKitCPU

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

  /// Small integer code: `NTK_METRIC_*` of the one code table (ntkit_codes.h), which the
  /// CFastMLP kernels use and the OpenCL kernels mirror (pool_distance.cl).
  public var code: Int32 {
    switch self {
    case .mse: return NTK_METRIC_MSE
    case .l1: return NTK_METRIC_L1
    case .l2: return NTK_METRIC_L2
    case .lp: return NTK_METRIC_LP
    case .cosine: return NTK_METRIC_COSINE
    case .angular: return NTK_METRIC_ANGULAR
    }
  }
}
