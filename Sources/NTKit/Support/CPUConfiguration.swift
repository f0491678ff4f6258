import CNTKitCPU
#if canImport(Glibc)
import Glibc
#endif

/// The instruction set the CPU kernels use.
public enum CPUInstructionSet: String, CaseIterable, Sendable, Comparable {
  /// x86-64 baseline (SSE2, no FMA).
  case baseline
  /// AVX2 with FMA.
  case avx2
  /// AVX-512F.
  case avx512

  var level: Int32 {
    switch self {
    case .baseline: return Int32(NTK_ISA_BASELINE)
    case .avx2: return Int32(NTK_ISA_AVX2)
    case .avx512: return Int32(NTK_ISA_AVX512)
    }
  }

  init(level: Int32) {
    switch level {
    case Int32(NTK_ISA_AVX512): self = .avx512
    case Int32(NTK_ISA_AVX2): self = .avx2
    default: self = .baseline
    }
  }

  public static func < (a: Self, b: Self) -> Bool { a.level < b.level }

  /// The widest instruction set this CPU supports.
  public static var widestSupported: CPUInstructionSet { CPUInstructionSet(level: ntk_isa_detect()) }
}

/// How the CPU device runs: which instruction set its kernels use and how many
/// worker threads it starts. Read once from the environment:
///
/// - `NTKIT_ISA=baseline|avx2|avx512` restricts the kernels to that instruction
///   set, capped to what the CPU has (default: the widest it has);
/// - `NTKIT_THREADS=N` sets the worker count (default: the online cores).
///
/// Results do not depend on either setting (fixed reduction orders); they
/// exist to test that and to benchmark narrower machines.
public struct CPUConfiguration: Sendable, Equatable {
  /// The instruction set the kernels use.
  public var instructionSet: CPUInstructionSet
  /// Worker threads of the CPU device.
  public var threads: Int

  /// The configuration in force for this process (from the environment; an
  /// invalid setting falls back to the default, and `validateEnvironment`
  /// reports it).
  public static let current: CPUConfiguration = {
    let config = (try? fromEnvironment()) ?? CPUConfiguration(
      instructionSet: .widestSupported, threads: onlineCores)
    ntk_isa_set(config.instructionSet.level)
    return config
  }()

  /// Parses `NTKIT_ISA` and `NTKIT_THREADS`; throws a one-line error for an invalid value.
  public static func fromEnvironment() throws -> CPUConfiguration {
    try parse(isa: environment("NTKIT_ISA"), threads: environment("NTKIT_THREADS"))
  }

  /// Throws if `NTKIT_ISA` or `NTKIT_THREADS` holds an invalid value (the CLI calls this first).
  public static func validateEnvironment() throws { _ = try fromEnvironment() }

  /// Parses the two settings (nil or empty: default).
  public static func parse(isa: String?, threads: String?) throws -> CPUConfiguration {
    var instructionSet = CPUInstructionSet.widestSupported
    if let isa, !isa.isEmpty {
      guard let requested = CPUInstructionSet(rawValue: isa.lowercased()) else {
        throw NTKitError.invalidArgument(
          "NTKIT_ISA: expected one of baseline, avx2, avx512, found '\(isa)'")
      }
      instructionSet = min(requested, instructionSet)
    }
    var count = onlineCores
    if let threads, !threads.isEmpty {
      guard let n = Int(threads), n >= 1, n <= 4096 else {
        throw NTKitError.invalidArgument(
          "NTKIT_THREADS: expected a whole number from 1 to 4096, found '\(threads)'")
      }
      count = n
    }
    return CPUConfiguration(instructionSet: instructionSet, threads: count)
  }

  /// Online cores of this machine.
  public static var onlineCores: Int {
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
  }

  private static func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }
}
