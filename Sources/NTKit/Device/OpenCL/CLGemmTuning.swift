#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tile sizes of the `ntk_gemm` kernel (gemm.cl) for one device, passed as
/// `-D` build options. A small table keyed by device name or vendor, with a
/// default that always works (it needs 256 work-items per group and 8 KiB of
/// local memory in float32; smaller devices get the 64-work-item entry).
struct CLGemmTuning: Equatable, CustomStringConvertible {
  /// Tile of C per work-group (rows, columns) and depth of a local slice.
  var tm: Int, tn: Int, tk: Int
  /// Block of C per work-item (rows, columns).
  var wptm: Int, wptn: Int

  /// Work-group size (dimension 0, dimension 1).
  var localSize: (Int, Int) { (tn / wptn, tm / wptm) }
  var workGroupSize: Int { (tn / wptn) * (tm / wptm) }

  var buildOptions: String { "-DTM=\(tm) -DTN=\(tn) -DTK=\(tk) -DWPTM=\(wptm) -DWPTN=\(wptn)" }
  var description: String { "gemm tile \(tm)×\(tn)×\(tk), \(wptm)×\(wptn) per work-item" }

  static let fallback = CLGemmTuning(tm: 32, tn: 32, tk: 16, wptm: 4, wptn: 4)
  static let standard = CLGemmTuning(tm: 64, tn: 64, tk: 16, wptm: 4, wptn: 4)

  /// (substring of the device name or vendor, tiles), first match wins.
  static let table: [(match: String, tuning: CLGemmTuning)] = [
    // PoCL on x86: fewer, fatter work-items vectorise better.
    ("pthread", CLGemmTuning(tm: 64, tn: 64, tk: 16, wptm: 8, wptn: 4)),
    ("NVIDIA", standard),
    ("AMD", standard),
    ("Intel(R) Graphics", CLGemmTuning(tm: 32, tn: 64, tk: 16, wptm: 4, wptn: 4)),
  ]

  /// `NTKIT_GEMM_TILES="tm,tn,tk,wptm,wptn"` (for tuning runs), when valid.
  static func fromEnvironment() -> CLGemmTuning? {
    guard let v = TuningKnobs.current.openCLGemmTiles else { return nil }
    return CLGemmTuning(tm: v[0], tn: v[1], tk: v[2], wptm: v[3], wptn: v[4])
  }

  /// The entry for `info`, or the default, shrunk to fit `maxWorkGroupSize`.
  static func forDevice(_ info: DeviceInfo, maxWorkGroupSize: Int) -> CLGemmTuning {
    if let forced = fromEnvironment(), forced.workGroupSize <= maxWorkGroupSize { return forced }
    let chosen = table.first { info.name.contains($0.match) || info.vendor.contains($0.match) }?.tuning ?? standard
    if chosen.workGroupSize <= maxWorkGroupSize { return chosen }
    if standard.workGroupSize <= maxWorkGroupSize { return standard }
    return fallback
  }
}
