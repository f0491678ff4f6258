import NTKit
/// Micro-benchmarks shared by `ntk bench` and the tests.
public enum OpenCLBench {
  /// Float32 GEMM throughput of `device` on n×n·n×n, in GFLOP/s: one warm-up
  /// call (kernel build, first touch), then the best of three timed calls,
  /// each ending with `synchronize()`. Inputs are fixed pseudo-random values.
  public static func gemmGFLOPS(device: any ComputeDevice, n: Int) throws -> Double {
    precondition(n > 0, "n must be positive")
    var random = SeededRandom(seed: 42)
    let a = try device.upload((0..<n * n).map { _ in Float(random.uniform() - 0.5) })
    let b = try device.upload((0..<n * n).map { _ in Float(random.uniform() - 0.5) })
    let c = try device.makeBuffer(Float.self, count: n * n)
    let op = GemmOp(m: n, n: n, k: n, a: a.view, lda: n, b: b.view, ldb: n, c: c.view, ldc: n)
    try device.gemm(op)
    try device.synchronize()
    var best = Double.infinity
    for _ in 0..<3 {
      let start = monotonicSeconds()
      try device.gemm(op)
      try device.synchronize()
      best = min(best, monotonicSeconds() - start)
    }
    return op.flops / best / 1e9
  }
}
