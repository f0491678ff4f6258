import NTKit
import CNTKitCPU
#if canImport(Glibc)
import Glibc
#endif

/// The nominal float32 peak of this machine's CPU for the instruction set
/// the kernels use (`NTKIT_ISA`), estimated as
///
///     cores × FMA units × vector lanes × 2 FLOPs per FMA × clock
///
/// Assumptions, stated in the estimate's `source`:
/// - cores: the online logical CPUs (a VM's vCPUs; SMT siblings would
///   share FMA units and overstate the peak);
/// - clock: the higher of the clock measured by a dependent-add chain
///   (`ntk_measure_clock_mhz`, which sees turbo; a VM's /proc/cpuinfo shows
///   only the nominal clock) and cpufreq's `cpuinfo_max_freq` or, without
///   cpufreq, the highest `cpu MHz` of /proc/cpuinfo; no AVX clock offset;
/// - two FMA units per core; AVX-512 counts 16 lanes per unit, except on AMD
///   Zen 4 (family 25) whose 512-bit operations run as two 256-bit halves
///   (8 lanes per unit, the same peak as AVX2); AVX2 8 lanes; baseline
///   (SSE2, no FMA) 4 lanes with one multiply and one add unit.
public enum CPUPeak {
  public struct Facts: Sendable, Equatable {
    public var cores: Int
    public var clockMHz: Double
    public var vendor: String
    public var family: Int
    public var model: String
    /// The clock the files report (cpufreq max or /proc/cpuinfo), and the measured one (0: not measured).
    public var nominalMHz: Double = 0
    public var measuredMHz: Double = 0
  }

  /// Reads cores, clock and vendor from /proc/cpuinfo and cpufreq; nil when the clock is unknown.
  public static func facts() -> Facts? {
    guard let text = readText("/proc/cpuinfo") else { return nil }
    var mhz = 0.0, vendor = "", family = 0, model = ""
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { trim($0) }
      guard parts.count == 2 else { continue }
      switch parts[0] {
      case "cpu MHz": mhz = max(mhz, Double(parts[1]) ?? 0)
      case "vendor_id": vendor = parts[1]
      case "cpu family": family = Int(parts[1]) ?? 0
      case "model name": if model.isEmpty { model = parts[1] }
      default: break
      }
    }
    if let khz = readText("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").flatMap({ Double(trim($0[...])) }),
       khz > 0 {
      mhz = khz / 1000
    }
    let nominal = mhz
    let measured = ntk_measure_clock_mhz(25)
    mhz = max(mhz, measured)
    guard mhz > 0 else { return nil }
    return Facts(cores: CPUConfiguration.onlineCores, clockMHz: mhz, vendor: vendor, family: family, model: model,
                 nominalMHz: nominal, measuredMHz: measured)
  }

  /// The estimate for `facts` and `isa`.
  public static func estimate(_ facts: Facts, isa: CPUInstructionSet) -> DevicePeak.Estimate {
    let zen4 = facts.vendor == "AuthenticAMD" && facts.family == 25
    let lanes: Int, units: Int, flopsPerLanePerUnit: Int, note: String
    switch isa {
    case .avx512:
      lanes = zen4 ? 8 : 16; units = 2; flopsPerLanePerUnit = 2
      note = zen4 ? "AVX-512 on AMD family 25 as 2×256-bit: 8 lanes" : "AVX-512: 16 lanes"
    case .avx2:
      lanes = 8; units = 2; flopsPerLanePerUnit = 2; note = "AVX2: 8 lanes"
    case .baseline:
      lanes = 4; units = 1; flopsPerLanePerUnit = 2; note = "baseline SSE2: 4 lanes, one multiply + one add unit, no FMA"
    }
    let gflops = Double(facts.cores) * Double(units * lanes * flopsPerLanePerUnit) * facts.clockMHz / 1000
    return DevicePeak.Estimate(
      gflops: gflops,
      source: "estimate: \(facts.cores) cores × \(units) FMA units × \(lanes) lanes × 2 FLOP × \(format(facts.clockMHz, "%.0f")) MHz (\(note); clock: measured \(format(facts.measuredMHz, "%.0f")) MHz, \(clockSource) \(format(facts.nominalMHz, "%.0f")) MHz, the higher used)")
  }

  /// The peak of this CPU for the instruction set in use, nil when unknown.
  public static func current() -> DevicePeak.Estimate? {
    facts().map { estimate($0, isa: CPUConfiguration.current.instructionSet) }
  }

  static var clockSource: String {
    access("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", R_OK) == 0 ? "cpufreq max" : "/proc/cpuinfo"
  }

  static func trim(_ s: Substring) -> String {
    String(s.drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
  }

  static func readText(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = fread(&buf, 1, buf.count, f)
      if n <= 0 { break }
      bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
