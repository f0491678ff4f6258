import NTKit
/// The nominal float32 peak of a device, for `ntk bench` to print beside
/// measured rates. A rate is only meaningful against a peak of the same
/// device, so the source of the figure is always reported with it.
public enum DevicePeak {
  public struct Estimate: Sendable {
    /// Float32 GFLOP/s (non-tensor-core FMA rate, one FMA = 2 FLOPs).
    public var gflops: Double
    /// Where the figure comes from ("datasheet: …" or "estimate: …").
    public var source: String
  }

  /// Datasheet FP32 (non-tensor) peaks of GPUs we run on, by a substring of
  /// the OpenCL device name; first match wins (so PCIe before SXM).
  static let datasheet: [(match: [String], gflops: Double, label: String)] = [
    (["H100", "PCIe"], 51_200, "H100 PCIe"),
    (["H100"], 66_900, "H100 SXM"),
    (["H200"], 66_900, "H200"),
    (["A100"], 19_500, "A100"),
    (["L40S"], 91_600, "L40S"),
    (["L4"], 30_300, "L4"),
  ]

  /// The peak of `info`, nil when nothing is known. The CPU device: `CPUPeak`
  /// (cores × FMA units × lanes × clock, for the instruction set in use). GPUs: the datasheet
  /// table. CPU OpenCL devices (PoCL): compute units × clock × native float
  /// lanes × 2 FLOPs per FMA × 2 FMA pipes (AVX2/AVX-512 server cores have
  /// two; a core with one reaches half), from what the driver reports.
  public static func estimate(_ info: DeviceInfo) -> Estimate? {
    if info.kind == .cpu { return CPUPeak.current() }
    if let row = datasheet.first(where: { row in row.match.allSatisfy { info.name.contains($0) } }) {
      return Estimate(gflops: row.gflops, source: "datasheet FP32 peak of the \(row.label)")
    }
    guard !info.isGPU, info.clockMHz > 0, info.nativeFloatWidth > 0, info.computeUnits > 0 else { return nil }
    let gflops = Double(info.computeUnits) * Double(info.clockMHz) / 1000 * Double(info.nativeFloatWidth) * 2 * 2
    return Estimate(
      gflops: gflops,
      source: "estimate: \(info.computeUnits) units × \(info.clockMHz) MHz × \(info.nativeFloatWidth) lanes × 2 FMA pipes × 2")
  }
}
