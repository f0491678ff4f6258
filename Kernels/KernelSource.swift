/// The OpenCL C sources shipped inside the binary, by file name (e.g. "gemm.cl").
public enum KernelSource {
  /// Every embedded kernel file, keyed by its file name.
  public static func embedded(_ name: String) -> String? {
    guard let bytes = table[name] else { return nil }
    return String(decoding: bytes, as: UTF8.self)
  }

  static let table: [String: [UInt8]] = [
    "common.cl": PackageResources.common_cl,
    "gemm.cl": PackageResources.gemm_cl,
    "ntk_accumulate.cl": PackageResources.ntk_accumulate_cl,
    "activation.cl": PackageResources.activation_cl,
    "conv.cl": PackageResources.conv_cl,
    "avgpool.cl": PackageResources.avgpool_cl,
    "elementwise.cl": PackageResources.elementwise_cl,
    "pool_distance.cl": PackageResources.pool_distance_cl,
  ]
}
