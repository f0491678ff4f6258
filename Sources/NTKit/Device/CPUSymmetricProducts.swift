/// The CPU's symmetric rank-k update (`syrk`): only the upper triangle of
/// `C = alpha·A·Aᵀ + beta·C`, half the FLOPs of a GEMM over the whole square.
///
/// Large updates are split into row panels of a fixed height
/// (`CPUDevice.gemmPanel`), each a `?syrk` on its diagonal block and one GEMM
/// for the columns right of it. The panels do not depend on the worker count
/// (OpenBLAS rounds a partial panel differently from a whole one, so panels
/// per worker would change the bits with NTKIT_THREADS); the workers take
/// them in pairs of a long and a short one (0, P−1, 1, P−2, …) so that their
/// FLOPs even out. OpenBLAS runs single-threaded per call (see `CPUDevice.init`).
extension CPUDevice {
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func syrk<T: DeviceScalar>(_ op: SyrkOp<T>) throws {
    guard op.n > 0 else { return }
    if op.k == 0 {
      try gemm(op.asGemm)  // scales C by beta (see `gemm`)
      return
    }
    try OpenBLAS.require()
    let a = ptr(op.a), c = ptr(op.c)
    let height = CPUDevice.gemmPanel
    guard op.flops >= 2e7, op.n > height else {
      T.blasSyrkUpper(op.n, op.k, op.alpha, a, op.lda, op.beta, c, op.ldc)
      return
    }
    let panels = (op.n + height - 1) / height
    let order = (0..<panels).map { i in i % 2 == 0 ? i / 2 : panels - 1 - i / 2 }
    parallelFor(panels, minimumChunk: 1) { range in
      for i in range {
        let r0 = order[i] * height, r1 = min(op.n, r0 + height), rows = r1 - r0
        T.blasSyrkUpper(rows, op.k, op.alpha, a + r0 * op.lda, op.lda, op.beta, c + r0 * op.ldc + r0, op.ldc)
        if r1 < op.n {
          T.blasGemm(false, true, rows, op.n - r1, op.k, op.alpha, a + r0 * op.lda, op.lda, a + r1 * op.lda, op.lda,
                     op.beta, c + r0 * op.ldc + r1, op.ldc)
        }
      }
    }
  }
}
