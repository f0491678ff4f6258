/// What kind of backend a device is.
public enum DeviceKind: String, Sendable {
  case cpu, opencl
}

/// A device as `ntk devices` lists it.
public struct DeviceInfo: Sendable, Equatable {
  public var kind: DeviceKind
  /// Short identifier, e.g. "cpu" or "opencl:0:1".
  public var identifier: String
  public var name: String
  public var vendor: String
  public var computeUnits: Int
  public var globalMemoryBytes: Int
  public var supportsF64: Bool
  /// True for a GPU (what `--device auto` prefers).
  public var isGPU: Bool
  /// Free-form extra facts (BLAS threads, OpenCL version, …).
  public var detail: String
  /// Highest clock in MHz as the driver reports it (0: unknown).
  public var clockMHz: Int = 0
  /// Native float vector width (OpenCL CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT; 0: unknown).
  public var nativeFloatWidth: Int = 0
}

/// A block of device memory holding `count` values of `T`.
///
/// Backends keep their own handle in `handle`; a device whose memory the host
/// can address directly (the CPU) also sets `hostPointer`.
public final class DeviceBuffer<T: DeviceScalar>: @unchecked Sendable {
  public let count: Int
  public let handle: AnyObject?
  public let hostPointer: UnsafeMutablePointer<T>?

  public init(count: Int, handle: AnyObject?, hostPointer: UnsafeMutablePointer<T>?) {
    self.count = count
    self.handle = handle
    self.hostPointer = hostPointer
  }
}

/// A window into a buffer: `buffer[offset...]`.
public struct BufferView<T: DeviceScalar>: @unchecked Sendable {
  public var buffer: DeviceBuffer<T>
  public var offset: Int
  public init(_ buffer: DeviceBuffer<T>, offset: Int = 0) {
    self.buffer = buffer
    self.offset = offset
  }
  public func advanced(by n: Int) -> BufferView<T> { BufferView(buffer, offset: offset + n) }
}

extension DeviceBuffer {
  public var view: BufferView<T> { BufferView(self) }
  public func view(at offset: Int) -> BufferView<T> { BufferView(self, offset: offset) }
}

/// `C = alpha·op(A)·op(B) + beta·C`, all row-major: op(A) is m×k, op(B) is k×n,
/// C is m×n; `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
public struct GemmOp<T: DeviceScalar> {
  public var transA = false, transB = false
  public var m: Int, n: Int, k: Int
  public var alpha: T = 1, beta: T = 0
  public var a: BufferView<T>, lda: Int
  public var b: BufferView<T>, ldb: Int
  public var c: BufferView<T>, ldc: Int

  public init(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: T = 1,
              a: BufferView<T>, lda: Int, b: BufferView<T>, ldb: Int,
              beta: T = 0, c: BufferView<T>, ldc: Int) {
    self.transA = transA; self.transB = transB
    self.m = m; self.n = n; self.k = k; self.alpha = alpha; self.beta = beta
    self.a = a; self.lda = lda; self.b = b; self.ldb = ldb; self.c = c; self.ldc = ldc
  }

  public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// `C = alpha·A·Aᵀ + beta·C` for a symmetric n × n result, row-major: A is
/// n × k (row stride `lda`), C has row stride `ldc`. Only the upper triangle
/// (j ≥ i) is specified: a device may leave the strict lower triangle alone
/// (the CPU's `?syrk`) or compute it too (a plain GEMM); callers mirror.
public struct SyrkOp<T: DeviceScalar> {
  public var n: Int, k: Int
  public var alpha: T = 1, beta: T = 0
  public var a: BufferView<T>, lda: Int
  public var c: BufferView<T>, ldc: Int

  public init(n: Int, k: Int, alpha: T = 1, a: BufferView<T>, lda: Int, beta: T = 0, c: BufferView<T>, ldc: Int) {
    self.n = n; self.k = k; self.alpha = alpha; self.beta = beta
    self.a = a; self.lda = lda; self.c = c; self.ldc = ldc
  }

  /// FLOPs of the upper triangle with its diagonal.
  public var flops: Double { Double(n) * Double(n + 1) * Double(k) }

  /// The same product as a GEMM over the whole n × n result.
  public var asGemm: GemmOp<T> {
    GemmOp(transB: true, m: n, n: n, k: k, alpha: alpha, a: a, lda: lda, b: a, ldb: lda, beta: beta, c: c, ldc: ldc)
  }
}

/// The input cotangent of a conv layer for `count` images (samples ×
/// outputs): `input = col2im(alpha · cotangent · Wᵀ)`, cotangent count ×
/// (positions·outC), kernel W patch × outC (HWIO), input count × inputSize
/// (overwritten); `patchScratch` (count × positions × patch values) may be
/// overwritten.
public struct ConvInputCotangentOp<T: DeviceScalar> {
  public var geometry: ConvGeometry
  public var count: Int
  public var alpha: T
  public var cotangent: BufferView<T>, kernel: BufferView<T>
  public var patchScratch: BufferView<T>, input: BufferView<T>

  public init(geometry: ConvGeometry, count: Int, alpha: T, cotangent: BufferView<T>, kernel: BufferView<T>,
              patchScratch: BufferView<T>, input: BufferView<T>) {
    self.geometry = geometry; self.count = count; self.alpha = alpha
    self.cotangent = cotangent; self.kernel = kernel; self.patchScratch = patchScratch; self.input = input
  }
}

/// Trace-mode Jacobian features of an affine layer for n samples, all m
/// network outputs at once (see `Propagator.traceFeatures`): per sample
/// (row stride `ld`), the kernel part [patch][m][outC] then, with a bias,
/// [m][outC]:
///
///     out[k·m·outC + a·outC + c] = weightScale · Σ_p patches[p, k] · cotangent[a, p, c]
///     out[patch·m·outC + a·outC + c] = biasScale · Σ_p cotangent[a, p, c]
///
/// patches: n × positions × patch; cotangent: n × m × positions × outC;
/// scratch: n × positions × m × outC values the device may overwrite.
public struct ConvFeaturesOp<T: DeviceScalar> {
  public var n: Int, m: Int, positions: Int, patch: Int, outC: Int
  public var patches: BufferView<T>, cotangent: BufferView<T>, scratch: BufferView<T>
  public var out: BufferView<T>, ld: Int
  public var weightScale: T, biasScale: T
  public var hasBias: Bool

  public init(n: Int, m: Int, positions: Int, patch: Int, outC: Int, patches: BufferView<T>,
              cotangent: BufferView<T>, scratch: BufferView<T>, out: BufferView<T>, ld: Int,
              weightScale: T, biasScale: T, hasBias: Bool) {
    self.n = n; self.m = m; self.positions = positions; self.patch = patch; self.outC = outC
    self.patches = patches; self.cotangent = cotangent; self.scratch = scratch; self.out = out; self.ld = ld
    self.weightScale = weightScale; self.biasScale = biasScale; self.hasBias = hasBias
  }
}

/// The cotangents of a conv layer's output, `[n, m, positions, channels]`
/// (one block per network output a), regrouped by position,
/// `[n, positions, m, channels]`, so that one product per sample covers all
/// m outputs; optionally with their sums over positions (the bias part of
/// the Jacobian), `sums[i·ldSums + a·channels + c] = scale·Σ_p G[i, a, p, c]`.
public struct CotangentInterleaveOp<T: DeviceScalar> {
  public var n: Int, m: Int, positions: Int, channels: Int
  public var source: BufferView<T>
  /// n × positions × m × channels (must not overlap `source`).
  public var destination: BufferView<T>
  /// Where the sums go (nil: none), row stride `ldSums` per sample.
  public var sums: BufferView<T>?
  public var ldSums: Int
  public var scale: T

  public init(n: Int, m: Int, positions: Int, channels: Int, source: BufferView<T>, destination: BufferView<T>,
              sums: BufferView<T>? = nil, ldSums: Int = 0, scale: T = 1) {
    self.n = n; self.m = m; self.positions = positions; self.channels = channels
    self.source = source; self.destination = destination
    self.sums = sums; self.ldSums = ldSums; self.scale = scale
  }
}

/// The structured-NTK accumulation of one dense layer into one output tile:
///
///     out[(i·mult + a), (j·mult + b)] += (scaleA · (A1 A2ᵀ)[i, j] + c) · (G1 G2ᵀ)[(i·mult + a), (j·mult + b)]
///
/// A1: rows1 × ka, A2: rows2 × ka (the layer inputs of two sample blocks);
/// G1: (rows1·mult) × kg, G2: (rows2·mult) × kg (their output cotangents).
/// Trace mode passes mult = 1 with G rows of length M·fan_out (Σ over outputs
/// is part of the inner product); full mode passes mult = M with G rows of
/// length fan_out. out has row stride `ldo`. No N×N temporary beyond the tile.
public struct NTKAccumulateOp<T: DeviceScalar> {
  public var rows1: Int, rows2: Int, multiplicity: Int
  public var ka: Int, kg: Int
  public var scaleA: T, c: T
  public var a1: BufferView<T>, a2: BufferView<T>
  public var g1: BufferView<T>, g2: BufferView<T>
  public var out: BufferView<T>, ldo: Int

  public var flops: Double {
    let pairs = Double(rows1) * Double(rows2)
    let m = Double(multiplicity)
    return 2 * pairs * Double(ka) + 2 * pairs * m * m * Double(kg) + 2 * pairs * m * m
  }
}

/// The compute primitives every backend implements. Jacobians, the NTK Gram,
/// training and RND selection are written once on top of these.
///
/// Conventions: row-major matrices; activations and cotangents NHWC, one row
/// per sample; a cotangent batch for `m` outputs of `n` samples is laid out
/// `[n, m, width]`. All buffers are the device's own; host data moves only
/// through `write`/`read`.
public protocol ComputeDevice: AnyObject, Sendable {
  var info: DeviceInfo { get }
  /// `info.identifier` ("cpu", "opencl:0:1"), without the rest of `info`:
  /// the CPU device names its OpenBLAS core in `info`, which loads OpenBLAS,
  /// while a command that only needs the identifier (e.g. `ntk select` on
  /// the fused path) should not.
  var identifier: String { get }
  func supports(_ precision: Precision) -> Bool
  /// What the algorithms may ask of this device beyond the primitives below.
  var capabilities: DeviceCapabilities { get }
  /// Host bytes the device's NTK tile accumulation (`ntkAccumulate`, fused
  /// kernels) allocates while it runs, for all its workers, given the feature
  /// values per sample, the output multiplicity (1 in trace mode, M in full
  /// mode) and the scalar size; counted in a Gram's memory budget.
  func ntkTileScratchBytes(featuresPerSample: Int, multiplicity: Int, scalarBytes: Int) -> Int
  /// The Gram tile (samples per side) this device prefers for `samples`
  /// samples with all features resident; `fused`: the tiles go through the
  /// fused host kernel (float32, trace mode).
  func preferredGramTile(samples: Int, fused: Bool) -> Int
  /// Samples per forward/backward batch of a Gram's features this device
  /// prefers when each sample needs `bytesPerSample` bytes of propagation
  /// buffers (default 256; the memory budget may lower it further).
  func preferredPropagationBatch(bytesPerSample: Int) -> Int

  // MARK: Memory
  /// A zero-filled buffer.
  func makeBuffer<T: DeviceScalar>(_ type: T.Type, count: Int) throws -> DeviceBuffer<T>
  func write<T: DeviceScalar>(_ source: UnsafeBufferPointer<T>, to destination: BufferView<T>) throws
  func read<T: DeviceScalar>(_ source: BufferView<T>, into destination: UnsafeMutableBufferPointer<T>) throws
  func fill<T: DeviceScalar>(_ destination: BufferView<T>, count: Int, value: T) throws
  /// Device-to-device copy of `count` values (regions must not overlap).
  func copy<T: DeviceScalar>(_ source: BufferView<T>, to destination: BufferView<T>, count: Int) throws
  /// Waits for queued work.
  func synchronize() throws

  // MARK: Linear algebra
  func gemm<T: DeviceScalar>(_ op: GemmOp<T>) throws
  func ntkAccumulate<T: DeviceScalar>(_ op: NTKAccumulateOp<T>) throws
  /// `x[r, c] += scale · v[c]` for an rows × cols matrix.
  func addRowVector<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, vector: BufferView<T>, scale: T) throws
  /// `out[c] = scale · Σ_r x[r, c]` for an rows × cols matrix.
  func columnSums<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, scale: T, into out: BufferView<T>) throws

  // MARK: Layers
  /// `y = σ(z)` element-wise over `count` values (y may alias z).
  func activationForward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, y: BufferView<T>, count: Int) throws
  /// `g[i, a, k] *= σ'(z[i, k])` for z: n × width, g: n × m × width.
  func activationBackward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, cotangent g: BufferView<T>,
                                           n: Int, m: Int, width: Int) throws
  /// Patches of an NHWC batch: input n × (H·W·C) → cols (n·positions) × patch, zero padding.
  func im2col<T: DeviceScalar>(_ geometry: ConvGeometry, input: BufferView<T>, cols: BufferView<T>, n: Int) throws
  /// The adjoint of im2col: input cotangent (n × H·W·C) = Σ of patch cotangents (overwrites).
  func col2im<T: DeviceScalar>(_ geometry: ConvGeometry, cols: BufferView<T>, input: BufferView<T>, n: Int) throws
  func avgPoolForward<T: DeviceScalar>(_ pool: PoolGeometry, input: BufferView<T>, output: BufferView<T>, n: Int) throws
  /// Input cotangent from output cotangent (overwrites the input cotangent).
  func avgPoolBackward<T: DeviceScalar>(_ pool: PoolGeometry, output: BufferView<T>, input: BufferView<T>, n: Int) throws
  /// For each sample i and output a: `out[i, a, b] = (a == b ? 1 : 0)`, n × m × m.
  func identityCotangent<T: DeviceScalar>(_ out: BufferView<T>, n: Int, m: Int) throws

  // MARK: Selection and training
  /// `out[i] = D(a[i, :], b[i, :])` for n rows of width d.
  func rowDistances<T: DeviceScalar>(_ metric: DistanceMetric, a: BufferView<T>, b: BufferView<T>,
                                     out: BufferView<T>, n: Int, d: Int) throws
  /// The largest `values[i]` with `excluded[i] == 0` (ties: lowest index), back to the host;
  /// nil when every entry is excluded.
  func argmax<T: DeviceScalar>(_ values: BufferView<T>, excluded: BufferView<T>?, count: Int) throws -> (index: Int, value: Double)?
  /// One Adam step on `count` parameters with moments m, v (bias-corrected by `step`).
  func adamStep<T: DeviceScalar>(_ hyper: AdamHyper, step: Int, parameters: BufferView<T>, gradients: BufferView<T>,
                                 m: BufferView<T>, v: BufferView<T>, count: Int) throws
  /// `x += alpha · y` over `count` values (used for SGD and reductions).
  func axpy<T: DeviceScalar>(_ alpha: T, _ y: BufferView<T>, _ x: BufferView<T>, count: Int) throws

  /// A batch of GEMMs (default: one `gemm` per entry, see the extension);
  /// a requirement so that a backend's fused version is used through `any ComputeDevice`.
  func gemmBatched<T: DeviceScalar>(_ batch: BatchedGemmOp<T>) throws
  /// The upper triangle of a symmetric product (default: the whole GEMM, see the extension).
  func syrk<T: DeviceScalar>(_ op: SyrkOp<T>) throws
  /// Regroups conv-layer cotangents by position, with their sums over positions (see `CotangentInterleaveOp`).
  func interleaveCotangents<T: DeviceScalar>(_ op: CotangentInterleaveOp<T>) throws
  /// The input cotangent of a conv layer (default: `convInputCotangentByProducts`).
  func convInputCotangent<T: DeviceScalar>(_ op: ConvInputCotangentOp<T>) throws
  /// Trace-mode features of an affine layer (default: `convTraceFeaturesByProducts`).
  func convTraceFeatures<T: DeviceScalar>(_ op: ConvFeaturesOp<T>) throws
}

extension ComputeDevice {
  public var identifier: String { info.identifier }
}

extension ComputeDevice {
  /// A buffer holding `values`.
  public func upload<T: DeviceScalar>(_ values: [T]) throws -> DeviceBuffer<T> {
    let buffer = try makeBuffer(T.self, count: max(values.count, 1))
    try values.withUnsafeBufferPointer { try write($0, to: buffer.view) }
    return buffer
  }

  /// Writes float32 host values into a buffer of `T` (no copy when `T` is Float).
  public func write<T: DeviceScalar>(converting values: ArraySlice<Float>, to destination: BufferView<T>) throws {
    if T.self == Float.self {
      try values.withUnsafeBufferPointer { src in
        try src.withMemoryRebound(to: T.self) { try write($0, to: destination) }
      }
    } else {
      let converted = [T](unsafeUninitializedCapacity: values.count) { buffer, n in
        values.withUnsafeBufferPointer { src in
          for i in 0..<src.count { buffer[i] = T(src[i]) }
        }
        n = values.count
      }
      try converted.withUnsafeBufferPointer { try write($0, to: destination) }
    }
  }

  /// A buffer holding float32 host values as `T`.
  public func upload<T: DeviceScalar>(converting values: [Float], as type: T.Type) throws -> DeviceBuffer<T> {
    let buffer = try makeBuffer(T.self, count: max(values.count, 1))
    try write(converting: values[...], to: buffer.view)
    return buffer
  }

  /// θ as a buffer of `T`: in float64 from `values64` when the parameters
  /// were read as float64, so F64 weights are never rounded to float32.
  public func upload<T: DeviceScalar>(parameters: ModelParameters, as type: T.Type) throws -> DeviceBuffer<T> {
    if T.self == Double.self, let exact = parameters.values64 {
      return try upload(exact.map { T($0) })
    }
    return try upload(converting: parameters.values, as: T.self)
  }

  /// Rows `rows` of `x` into `destination`: in float64 from `x.data64` when
  /// `T` is Double and the inputs were read as float64, else from `x.data`.
  public func write<T: DeviceScalar>(rows: Range<Int>, of x: Tensor, to destination: BufferView<T>) throws {
    let w = x.rowLength
    let range = rows.lowerBound * w..<rows.upperBound * w
    if T.self == Double.self, let exact = x.data64 {
      try exact[range].withUnsafeBufferPointer { src in
        try src.withMemoryRebound(to: T.self) { try write($0, to: destination) }
      }
    } else {
      try write(converting: x.data[range], to: destination)
    }
  }

  /// `count` values from `view`, back on the host.
  public func download<T: DeviceScalar>(_ view: BufferView<T>, count: Int) throws -> [T] {
    var out = [T](repeating: 0, count: count)
    try out.withUnsafeMutableBufferPointer { try read(view, into: $0) }
    return out
  }
}

/// A batch of `count` GEMMs, the i-th on `a + i·strideA`, `b + i·strideB`,
/// `c + i·strideC` (a stride of 0 shares the operand).
public struct BatchedGemmOp<T: DeviceScalar> {
  public var op: GemmOp<T>
  public var count: Int
  public var strideA: Int, strideB: Int, strideC: Int
}

extension ComputeDevice {
  /// Default: one `gemm` per batch entry. Backends may fuse the batch.
  public func gemmBatched<T: DeviceScalar>(_ batch: BatchedGemmOp<T>) throws {
    var op = batch.op
    for i in 0..<batch.count {
      op.a = batch.op.a.advanced(by: i * batch.strideA)
      op.b = batch.op.b.advanced(by: i * batch.strideB)
      op.c = batch.op.c.advanced(by: i * batch.strideC)
      try gemm(op)
    }
  }
}

extension ComputeDevice {
  /// Default: patch cotangents as one product, then `col2im`.
  public func convInputCotangent<T: DeviceScalar>(_ op: ConvInputCotangentOp<T>) throws {
    try convInputCotangentByProducts(op)
  }

  /// `convInputCotangent` from the primitives `gemm` and `col2im`.
  public func convInputCotangentByProducts<T: DeviceScalar>(_ op: ConvInputCotangentOp<T>) throws {
    let g = op.geometry
    try gemm(GemmOp(transB: true, m: op.count * g.positions, n: g.patch, k: g.outC, alpha: op.alpha,
                    a: op.cotangent, lda: g.outC, b: op.kernel, ldb: g.outC, beta: 0, c: op.patchScratch, ldc: g.patch))
    try col2im(g, cols: op.patchScratch, input: op.input, n: op.count)
  }

  /// Default: the cotangents regrouped by position (with their sums for the
  /// bias), then one product per sample, (patch × pos)·(pos × m·outC).
  public func convTraceFeatures<T: DeviceScalar>(_ op: ConvFeaturesOp<T>) throws {
    try convTraceFeaturesByProducts(op)
  }

  /// `convTraceFeatures` from the primitives `interleaveCotangents` and `gemmBatched`.
  public func convTraceFeaturesByProducts<T: DeviceScalar>(_ op: ConvFeaturesOp<T>) throws {
    let width = op.m * op.outC
    try interleaveCotangents(CotangentInterleaveOp(
      n: op.n, m: op.m, positions: op.positions, channels: op.outC, source: op.cotangent, destination: op.scratch,
      sums: op.hasBias ? op.out.advanced(by: op.patch * width) : nil, ldSums: op.ld, scale: op.biasScale))
    try gemmBatched(BatchedGemmOp(
      op: GemmOp(transA: true, m: op.patch, n: width, k: op.positions, alpha: op.weightScale,
                 a: op.patches, lda: op.patch, b: op.scratch, ldb: width, beta: 0, c: op.out, ldc: width),
      count: op.n, strideA: op.positions * op.patch, strideB: op.positions * width, strideC: op.ld))
  }
}

extension ComputeDevice {
  /// Default: 256 samples, launches large enough to fill a device.
  public func preferredPropagationBatch(bytesPerSample: Int) -> Int { 256 }
}

extension ComputeDevice {
  /// Default: the whole n × n product as one GEMM (the lower triangle is then
  /// computed too, which `SyrkOp` allows).
  public func syrk<T: DeviceScalar>(_ op: SyrkOp<T>) throws { try gemm(op.asGemm) }
}
