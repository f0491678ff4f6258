import CNTKitBLAS

#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel server CPUs
/// that report a generic model name and falls back to its "Prescott" (SSE3)
/// kernels: 4× slower SGEMM here (23 vs 97 GFLOP/s at 2048³). OpenBLAS picks
/// its kernels when the library loads, so the only remedy is to set
/// `OPENBLAS_CORETYPE` and start the process again; `ntk` does this once at
/// start-up. `NTKIT_BLAS_CORETYPE=keep` turns it off. A user's own
/// `OPENBLAS_CORETYPE` is always respected.
public enum BLASCoreSelection {
  /// The core OpenBLAS is using now (loads OpenBLAS; "unknown" when it cannot be loaded).
  public static var currentCore: String {
    guard (try? OpenBLAS.require()) != nil else { return "unknown" }
    return ntk_openblas_get_corename().map { String(cString: $0) } ?? "unknown"
  }

  /// The core type to restart with, or nil when nothing should change.
  public static func betterCoreType() -> String? {
    guard getenv("OPENBLAS_CORETYPE") == nil else { return nil }
    if let setting = getenv("NTKIT_BLAS_CORETYPE"), String(cString: setting) == "keep" { return nil }
    let generic: Set<String> = ["Prescott", "Core2", "Katmai", "Coppermine", "Northwood", "Banias", "Atom", "Nehalem", "Penryn", "Dunnington"]
    guard generic.contains(currentCore) else { return nil }
    guard let flags = cpuFlags() else { return nil }
    if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") { return "SkylakeX" }
    if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
    return nil
  }

  /// The `flags` line of /proc/cpuinfo.
  static func cpuFlags() -> Set<String>? {
    // /proc files report size 0, so read line by line.
    guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
      let text = String(cString: line)
      guard text.hasPrefix("flags"), let colon = text.firstIndex(of: ":") else { continue }
      return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }
    return nil
  }

  /// If a better core type exists, sets it and replaces this process with a
  /// fresh copy of itself (same arguments). Returns only when nothing changed.
  public static func restartWithBetterCoreIfNeeded() {
    guard let core = betterCoreType() else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    // The CPU device runs OpenBLAS single-threaded (it splits work itself):
    // without a pool, no idle OpenBLAS thread spins against our workers.
    setenv("OPENBLAS_NUM_THREADS", "1", 0)
    setenv("NTKIT_BLAS_CORETYPE", "keep", 1)  // never loop
    _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
    // exec failed: go on with the slow kernels.
  }
}
