import COpenBLAS
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
public enum BLASThreads {
  /// The count outside every `withBLASThreads` region.
  public static let defaultCount = 1

  /// Sets the default count once (idempotent); the CPU device, `ntk-mpi`
  /// and the selectors call it before their first BLAS call.
  public static func useDefault() { _ = installed }

  private static let installed: Bool = {
    openblas_set_num_threads(Int32(defaultCount))
    parkPool()
    return true
  }()

  /// Ends OpenBLAS's worker threads. A pthread OpenBLAS starts them when it
  /// loads and each spins in `sched_yield` for about 10⁸ cycles after its
  /// last job (≈ 0.1 s: the whole of a short `ntk select`) even when the
  /// count is 1. `blas_thread_shutdown_` is what OpenBLAS itself runs at
  /// fork; the next multi-threaded call starts the pool again. Looked up by
  /// name, so a serial or OpenMP OpenBLAS (which lacks it) is left as is.
  fileprivate static func parkPool() {
    typealias Shutdown = @convention(c) () -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") else { return }
    _ = unsafeBitCast(symbol, to: Shutdown.self)()
  }

  /// Serialises regions that change the count (it is process-wide).
  fileprivate static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let p = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(p, nil)
    return p
  }()
}

/// Runs `body` with OpenBLAS on `threads` threads (capped to the CPU device's
/// `NTKIT_THREADS`), then back to `BLASThreads.defaultCount`. At the default
/// count this costs nothing (no lock, no call into OpenBLAS); other counts
/// are taken one region at a time, since the setting is process-wide.
public func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
  BLASThreads.useDefault()
  let n = max(1, min(threads, CPUThreads.count))
  guard n != BLASThreads.defaultCount else { return try body() }
  pthread_mutex_lock(BLASThreads.lock)
  openblas_set_num_threads(Int32(n))
  defer {
    openblas_set_num_threads(Int32(BLASThreads.defaultCount))
    BLASThreads.parkPool()
    pthread_mutex_unlock(BLASThreads.lock)
  }
  return try body()
}
