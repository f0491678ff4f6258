import CNTKitCPU
import Dispatch

extension CPUDevice {
  /// `C = alpha·A·op(B)` (beta = 0, A not transposed) with a fixed reduction
  /// order (`ntkit_fixed_gemm.c`): the same bits on every instruction set,
  /// worker count and CPU. For the NTK's features, whose products are small
  /// next to the Gram; rows split over the workers.
  func gemmFixedOrder(_ op: GemmOp<Float>) {
    precondition(!op.transA && op.beta == 0, "gemmFixedOrder: C = alpha·A·op(B) only")
    guard op.m > 0, op.n > 0 else { return }
    let a = ptr(op.a), c = ptr(op.c)
    var b = UnsafePointer(ptr(op.b)), ldb = op.ldb
    var transposed: UnsafeMutablePointer<Float>?
    if op.transB {
      // op(B)[p, j] = B[j, p]: transpose once (B is a layer's kernel, small).
      let t = UnsafeMutablePointer<Float>.allocate(capacity: op.k * op.n)
      for j in 0..<op.n { for p in 0..<op.k { t[p * op.n + j] = b[j * op.ldb + p] } }
      transposed = t
      b = UnsafePointer(t)
      ldb = op.n
    }
    defer { transposed?.deallocate() }
    // One level of parallelism: inside a worker (a propagator per core) the rows stay on this thread.
    let workers = op.flops >= 1e7 && !ParallelRegion.isInside ? CPUThreads.count : 1
    let chunk = (op.m + workers - 1) / workers
    let run: (Int) -> Void = { w in
      let r0 = w * chunk
      guard r0 < op.m else { return }
      ntk_gemm_fixed_f32(0, min(chunk, op.m - r0), op.n, op.k, op.alpha, a + r0 * op.lda, op.lda, b, ldb,
                         c + r0 * op.ldc, op.ldc, nil)
    }
    if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
  }
}
