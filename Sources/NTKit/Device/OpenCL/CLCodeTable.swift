import CNTKitCPU

/// The code table of `Sources/CNTKitCPU/include/ntkit_codes.h` as OpenCL C
/// `#define`s, written from the macros themselves and put in front of every
/// program, so the kernels (`pool_distance.cl`, `activation.cl`) branch on the
/// same `NTK_METRIC_*` / `NTK_ACT_*` values as Swift and CFastMLP without a copy
/// of the table.
enum CLCodeTable {
  static let entries: [(name: String, value: Int32)] = [
    ("NTK_METRIC_MSE", NTK_METRIC_MSE), ("NTK_METRIC_L1", NTK_METRIC_L1), ("NTK_METRIC_L2", NTK_METRIC_L2),
    ("NTK_METRIC_LP", NTK_METRIC_LP), ("NTK_METRIC_COSINE", NTK_METRIC_COSINE), ("NTK_METRIC_ANGULAR", NTK_METRIC_ANGULAR),
    ("NTK_ACT_IDENTITY", NTK_ACT_IDENTITY), ("NTK_ACT_RELU", NTK_ACT_RELU), ("NTK_ACT_TANH", NTK_ACT_TANH),
    ("NTK_ACT_SIGMOID", NTK_ACT_SIGMOID), ("NTK_ACT_GELU", NTK_ACT_GELU), ("NTK_ACT_SOFTPLUS", NTK_ACT_SOFTPLUS),
    ("NTK_ACT_SILU", NTK_ACT_SILU), ("NTK_ACT_LEAKY_RELU", NTK_ACT_LEAKY_RELU),
  ]

  /// `#define NAME value` lines, one per entry.
  static let prelude: String = entries.map { "#define \($0.name) \($0.value)\n" }.joined()
}
