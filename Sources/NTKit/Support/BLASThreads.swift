import CNTKitBLAS
#if canImport(Glibc)
import Glibc
#endif

/// The one owner of OpenBLAS's thread count.
///
/// NTKit runs OpenBLAS single-threaded: the CPU device splits large products
/// over the cores itself, RND's products are far too small to pay for a
/// thread wake-up, and LAPACK's eigensolver runs on one thread so that its
/// bits do not depend on the worker count. One thread also means OpenBLAS's
/// own pool is never woken, so it never spins in `sched_yield` beside our
/// workers. A region that wants OpenBLAS's threads asks for them with
/// `withBLASThreads(n)`; nothing else calls `openblas_set_num_threads`.
///
/// OpenBLAS is loaded on first use (`OpenBLAS`, CNTKitBLAS): the loader sets
/// the default count and parks OpenBLAS's pool as the library loads, so a
/// process that never calls BLAS (e.g. `ntk select` on the fused RND path)
/// never loads it, and nothing here forces the load.
public enum BLASThreads {
  /// The count outside every `withBLASThreads` region.
  public static let defaultCount = Int(NTK_BLAS_DEFAULT_THREADS)

  /// The default count is in force from the moment OpenBLAS loads (the
  /// loader sets it), so this no longer calls into OpenBLAS; kept for the
  /// callers that state "single-threaded OpenBLAS from here on".
  public static func useDefault() {}

  /// Ends OpenBLAS's worker threads. A pthread OpenBLAS starts them when it
  /// loads and each spins in `sched_yield` for about 10⁸ cycles after its
  /// last job (≈ 0.1 s: the whole of a short `ntk select`) even when the
  /// count is 1. `blas_thread_shutdown_` is what OpenBLAS itself runs at
  /// fork; the next multi-threaded call starts the pool again. A serial or
  /// OpenMP OpenBLAS (which lacks it) is left as is.
  fileprivate static func parkPool() { ntk_blas_park_pool() }

  /// Serialises regions that change the count (it is process-wide).
  fileprivate static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let p = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(p, nil)
    return p
  }()
}

/// Runs `body` with OpenBLAS on `threads` threads (capped to the CPU device's
/// `NTKIT_THREADS`), then back to `BLASThreads.defaultCount`. At the default
/// count this costs nothing (no lock, no call into OpenBLAS, which is not
/// even loaded until the body's first BLAS call); other counts load OpenBLAS
/// and are taken one region at a time, since the setting is process-wide.
public func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
  let n = max(1, min(threads, CPUThreads.count))
  guard n != BLASThreads.defaultCount else { return try body() }
  pthread_mutex_lock(BLASThreads.lock)
  ntk_openblas_set_num_threads(Int32(n))
  defer {
    ntk_openblas_set_num_threads(Int32(BLASThreads.defaultCount))
    BLASThreads.parkPool()
    pthread_mutex_unlock(BLASThreads.lock)
  }
  return try body()
}

/// OpenBLAS and LAPACKE, loaded on first use (CNTKitBLAS). Code that can
/// throw calls `require()` / `requireLAPACKE()` before its first BLAS or
/// LAPACKE call, so that a missing library is an error naming the library
/// and the package to install, not a crash.
public enum OpenBLAS {
  /// Loads OpenBLAS (once per process), or throws why it cannot.
  public static func require() throws {
    guard ntk_blas_load() == 0 else { throw loadError() }
  }

  /// Loads OpenBLAS and LAPACKE (once per process), or throws why they cannot.
  public static func requireLAPACKE() throws {
    guard ntk_lapack_load() == 0 else { throw loadError() }
  }

  /// Whether OpenBLAS has been loaded in this process (loads nothing).
  public static var isLoaded: Bool { ntk_blas_is_loaded() != 0 }

  private static func loadError() -> NTKitError {
    let text = String(cString: ntk_blas_error())
    // "<library>: <reason>" as every NTKitError that names a file.
    let bytes = Array(text.utf8)
    if let i = bytes.indices.dropLast().first(where: { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == UInt8(ascii: " ") }) {
      return .io(path: String(decoding: bytes[..<i], as: UTF8.self),
                 reason: String(decoding: bytes[(i + 2)...], as: UTF8.self))
    }
    return .invalidArgument(text)
  }
}
