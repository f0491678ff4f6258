import CNTKitBLAS

/// Floating-point precision of a computation: float32 (default) or float64.
public enum Precision: String, Sendable, CaseIterable {
  case f32, f64
}

/// The scalar types a device computes in (Float and Double), with their BLAS
/// entry points so that CPU code is written once for both precisions.
public protocol DeviceScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
  static var precision: Precision { get }
  /// `C = alpha·op(A)·op(B) + beta·C`, row-major (cblas_?gemm).
  static func blasGemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
    _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
  /// Upper triangle of `C = alpha·A·Aᵀ + beta·C`, A n × k, row-major (cblas_?syrk);
  /// the strict lower triangle of C is not touched.
  static func blasSyrkUpper(
    _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
    _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
  var float: Float { get }
  var double: Double { get }
  static func exp(_ x: Self) -> Self
  static func tanh(_ x: Self) -> Self
  static func erf(_ x: Self) -> Self
  static func log1p(_ x: Self) -> Self
}

@inline(__always) private func trans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: DeviceScalar {
  public static var precision: Precision { .f32 }
  public static func blasGemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    ntk_cblas_sgemm(CblasRowMajor, trans(transA), trans(transB), blasint(m), blasint(n), blasint(k),
                alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
  public static func blasSyrkUpper(
    _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    ntk_cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(k), alpha, a, blasint(lda),
                beta, c, blasint(ldc))
  }
  public var float: Float { self }
  public var double: Double { Double(self) }
  public static func exp(_ x: Float) -> Float { libm_expf(x) }
  public static func tanh(_ x: Float) -> Float { libm_tanhf(x) }
  public static func erf(_ x: Float) -> Float { libm_erff(x) }
  public static func log1p(_ x: Float) -> Float { libm_log1pf(x) }
}

extension Double: DeviceScalar {
  public static var precision: Precision { .f64 }
  public static func blasGemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
    _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    ntk_cblas_dgemm(CblasRowMajor, trans(transA), trans(transB), blasint(m), blasint(n), blasint(k),
                alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
  public static func blasSyrkUpper(
    _ n: Int, _ k: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
    _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    ntk_cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(k), alpha, a, blasint(lda),
                beta, c, blasint(ldc))
  }
  public var float: Float { Float(self) }
  public var double: Double { self }
  public static func exp(_ x: Double) -> Double { libm_exp(x) }
  public static func tanh(_ x: Double) -> Double { libm_tanh(x) }
  public static func erf(_ x: Double) -> Double { libm_erf(x) }
  public static func log1p(_ x: Double) -> Double { libm_log1p(x) }
}
