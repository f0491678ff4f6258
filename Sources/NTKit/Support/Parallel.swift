import Dispatch

/// Runs `body` over `0..<count` split into contiguous chunks on all cores.
/// Chunks are at least `minimumChunk` long, so small loops stay on one thread.
func parallelFor(_ count: Int, minimumChunk: Int = 4096, _ body: (Range<Int>) -> Void) {
  let workers = min(CPUThreads.count, max(1, count / max(minimumChunk, 1)))
  if workers <= 1 {
    if count > 0 { body(0..<count) }
    return
  }
  let chunk = (count + workers - 1) / workers
  DispatchQueue.concurrentPerform(iterations: workers) { w in
    let lo = w * chunk
    let hi = min(count, lo + chunk)
    if lo < hi { body(lo..<hi) }
  }
}

/// Number of hardware threads the CPU device uses.
enum CPUThreads {
  static let count: Int = {
    // NTKIT_THREADS=k caps the workers (ntk-mpi sets 1: one thread a rank).
    if let text = getenv("NTKIT_THREADS"), let k = Int(String(cString: text)), k >= 1 { return k }
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
  }()
}
#if canImport(Glibc)
import Glibc
#endif
