#if canImport(Glibc)
import Glibc
#endif

/// The environment knobs that tune how NTKit runs — never what it computes —
/// read in this one place, once per process. Each is for tuning runs and
/// benchmarks; none is needed in normal use.
///
/// | variable | meaning |
/// |---|---|
/// | `NTKIT_GEMM_KERNEL=tiled` | a CPU OpenCL device (PoCL) uses the local-memory GEMM kernel instead of the register-block one |
/// | `NTKIT_GEMM_TILES=tm,tn,tk,wptm,wptn` | tile sizes of the OpenCL tiled GEMM (tm % wptm = tn % wptn = 0) |
/// | `NTKIT_GEMM_BLOCK=rbm,rbn` | rows × columns per work-item of the register-block GEMM (rbn ∈ 2, 4, 8, 16) |
/// | `NTKIT_GEMM_BLOCK_LOCAL=lx,ly` | work-group of the register-block GEMM |
/// | `NTKIT_KERNEL_DIR=dir` | read the OpenCL kernels from `dir` instead of the embedded copies |
/// | `NTKIT_MPI_WRITE=rows` | `ntk-mpi gram` writes tiles row by row with independent writes (default `collective`) |
///
/// `NTKIT_KERNEL_DIR` is read each time kernels are compiled (a process may
/// point a fresh device at other sources); the rest once.
/// `NTKIT_ISA` and `NTKIT_THREADS` are `CPUConfiguration`'s. An invalid value
/// is ignored by `current` and reported by `validateEnvironment()`, which the
/// command-line tools call at start-up (exit 2).
public struct TuningKnobs: Sendable, Equatable {
  public var openCLGemmTiledOnCPU = false
  public var openCLGemmTiles: [Int]?
  public var openCLGemmBlock: [Int]?
  public var openCLGemmBlockLocal: [Int]?
  public var mpiCollectiveWrite = true

  public init() {}

  /// The knobs of this process (invalid settings fall back to the defaults).
  public static let current: TuningKnobs = (try? parse(environmentValue)) ?? TuningKnobs()

  /// Throws `NTKitError.invalidArgument` naming the first invalid variable.
  public static func validateEnvironment() throws { _ = try parse(environmentValue) }

  /// The knobs described by `value(name)` (an environment lookup).
  public static func parse(_ value: (String) -> String?) throws -> TuningKnobs {
    var knobs = TuningKnobs()
    if let v = value("NTKIT_GEMM_KERNEL") {
      guard ["tiled", "block"].contains(v) else { throw invalid("NTKIT_GEMM_KERNEL", v, "tiled or block") }
      knobs.openCLGemmTiledOnCPU = v == "tiled"
    }
    if let v = value("NTKIT_GEMM_TILES") {
      let t = integers(v)
      guard let t, t.count == 5, t.allSatisfy({ $0 > 0 }), t[0] % t[3] == 0, t[1] % t[4] == 0 else {
        throw invalid("NTKIT_GEMM_TILES", v, "tm,tn,tk,wptm,wptn: 5 positive integers with tm % wptm = tn % wptn = 0")
      }
      knobs.openCLGemmTiles = t
    }
    if let v = value("NTKIT_GEMM_BLOCK") {
      guard let b = integers(v), b.count == 2, b[0] > 0, [2, 4, 8, 16].contains(b[1]) else {
        throw invalid("NTKIT_GEMM_BLOCK", v, "rbm,rbn with rbm > 0 and rbn one of 2, 4, 8, 16")
      }
      knobs.openCLGemmBlock = b
    }
    if let v = value("NTKIT_GEMM_BLOCK_LOCAL") {
      guard let l = integers(v), l.count == 2, l.allSatisfy({ $0 > 0 }) else {
        throw invalid("NTKIT_GEMM_BLOCK_LOCAL", v, "lx,ly: 2 positive integers")
      }
      knobs.openCLGemmBlockLocal = l
    }
    if let v = value("NTKIT_MPI_WRITE") {
      guard ["rows", "collective"].contains(v) else { throw invalid("NTKIT_MPI_WRITE", v, "rows or collective") }
      knobs.mpiCollectiveWrite = v == "collective"
    }
    return knobs
  }

  /// `NTKIT_KERNEL_DIR`, now (nil when unset or empty).
  public static var kernelDirectory: String? {
    environmentValue("NTKIT_KERNEL_DIR").flatMap { $0.isEmpty ? nil : $0 }
  }

  private static func environmentValue(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

  private static func integers(_ text: String) -> [Int]? {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int(String($0.filter { $0 != " " })) }
    return parts.contains(nil) ? nil : parts.compactMap { $0 }
  }

  private static func invalid(_ name: String, _ value: String, _ expected: String) -> NTKitError {
    .invalidArgument("\(name)=\(displayed(value)): expected \(expected)")
  }

  private static func displayed(_ value: String) -> String { value.debugDescription }
}
