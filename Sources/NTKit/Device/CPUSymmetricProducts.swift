/// The CPU's symmetric rank-k update (`syrk`): only the upper triangle of
/// `C = alpha·A·Aᵀ + beta·C`, half the FLOPs of a GEMM over the whole square.
///
/// Split over the workers as 2W row panels of equal height, worker w taking
/// panels w and 2W−1−w (each panel: a `?syrk` on its diagonal block and one
/// GEMM for the columns right of it), so every worker has the same FLOPs.
/// OpenBLAS runs single-threaded per call (see `CPUDevice.init`).
extension CPUDevice {
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func syrk<T: DeviceScalar>(_ op: SyrkOp<T>) throws {
    guard op.n > 0 else { return }
    if op.k == 0 {
      try gemm(op.asGemm)  // scales C by beta (see `gemm`)
      return
    }
    let a = ptr(op.a), c = ptr(op.c)
    let workers = CPUThreads.count
    guard workers > 1, op.flops >= 2e7, op.n >= 4 * workers else {
      T.blasSyrkUpper(op.n, op.k, op.alpha, a, op.lda, op.beta, c, op.ldc)
      return
    }
    let panels = 2 * workers
    func bound(_ i: Int) -> Int { i * op.n / panels }
    parallelFor(workers, minimumChunk: 1) { range in
      for w in range {
        for p in [w, panels - 1 - w] {
          let r0 = bound(p), r1 = bound(p + 1), rows = r1 - r0
          guard rows > 0 else { continue }
          T.blasSyrkUpper(rows, op.k, op.alpha, a + r0 * op.lda, op.lda, op.beta, c + r0 * op.ldc + r0, op.ldc)
          if r1 < op.n {
            T.blasGemm(false, true, rows, op.n - r1, op.k, op.alpha, a + r0 * op.lda, op.lda, a + r1 * op.lda, op.lda,
                       op.beta, c + r0 * op.ldc + r1, op.ldc)
          }
        }
      }
    }
  }
}
