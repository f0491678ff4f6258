import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` over `0..<count` split into contiguous chunks on all cores.
/// Chunks are at least `minimumChunk` long, so small loops stay on one thread;
/// inside a `parallelWorkers` worker (or another `parallelFor` chunk) the
/// loop runs on the calling thread.
func parallelFor(_ count: Int, minimumChunk: Int = 4096, _ body: (Range<Int>) -> Void) {
  let workers = ParallelRegion.isInside ? 1 : min(CPUThreads.count, max(1, count / max(minimumChunk, 1)))
  if workers <= 1 {
    if count > 0 { body(0..<count) }
    return
  }
  let chunk = (count + workers - 1) / workers
  DispatchQueue.concurrentPerform(iterations: workers) { w in
    let lo = w * chunk
    let hi = min(count, lo + chunk)
    if lo < hi { ParallelRegion.run { body(lo..<hi) } }
  }
}

/// Runs `body(w)` for w in 0..<workers, each on its own thread, with every
/// `parallelFor` inside running serially on that thread (one level of
/// parallelism: whole independent tasks per core instead of each small loop
/// split across the cores).
func parallelWorkers(_ workers: Int, _ body: (Int) -> Void) {
  if workers <= 1 {
    if workers == 1 { body(0) }
    return
  }
  DispatchQueue.concurrentPerform(iterations: workers) { w in ParallelRegion.run { body(w) } }
}

/// Marks the threads running a parallel chunk (a thread-specific flag).
enum ParallelRegion {
  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  static var isInside: Bool { pthread_getspecific(key) != nil }

  static func run(_ body: () -> Void) {
    let outer = pthread_getspecific(key)
    pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    defer { pthread_setspecific(key, outer) }
    body()
  }
}

/// Number of worker threads the CPU device uses (`NTKIT_THREADS`, default the online cores).
enum CPUThreads {
  static var count: Int { CPUConfiguration.current.threads }
}
