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

/// Number of worker threads the CPU device uses (`NTKIT_THREADS`, default the online cores).
enum CPUThreads {
  static var count: Int { CPUConfiguration.current.threads }
}
