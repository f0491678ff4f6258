import Dispatch
import CNTKitBLAS
#if canImport(Glibc)
import Glibc
#endif

/// The reference device: host memory, multithreaded OpenBLAS for products and
/// plain loops (split over the cores) for everything element-wise. Always
/// available; every other device is tested against it.
public final class CPUDevice: ComputeDevice, @unchecked Sendable {
  // @unchecked: the device holds no mutable state; each call works only on
  // the buffers it is given.

  public static let shared = CPUDevice()

  /// What the CPU is, with the OpenBLAS core in its name: computed on first
  /// use, which loads OpenBLAS (CNTKitBLAS); `identifier` does not.
  public var info: DeviceInfo { CPUDevice.describedInfo }

  public var identifier: String { "cpu" }

  private static let describedInfo: DeviceInfo = {
    let config = CPUConfiguration.current
    let core = (try? OpenBLAS.require()) != nil
      ? ntk_openblas_get_corename().map { String(cString: $0) } ?? "unknown" : "not loaded"
    return DeviceInfo(
      kind: .cpu, identifier: "cpu", name: "CPU (OpenBLAS \(core))", vendor: "OpenBLAS",
      computeUnits: CPUThreads.count, globalMemoryBytes: physicalMemoryBytes(),
      supportsF64: true, isGPU: false,
      detail: "isa \(config.instructionSet.rawValue), \(config.threads) threads, single-threaded OpenBLAS per thread")
  }()

  /// OpenBLAS runs single-threaded (`BLASThreads`): the device splits work
  /// over the cores itself (panels of large products, tiles, batches), so
  /// OpenBLAS's own pool never spins against our workers. OpenBLAS is
  /// loaded by the first product, not here.
  public init() {}

  public func supports(_ precision: Precision) -> Bool { true }

  public var capabilities: DeviceCapabilities {
    DeviceCapabilities(hostAddressableMemory: true, fusedHostKernels: true, concurrentCalls: true)
  }

  /// Per worker: two sub-tiles of `ntkAccumulate` or the fused kernel's packing, whichever is larger.
  public func ntkTileScratchBytes(featuresPerSample: Int, multiplicity: Int, scalarBytes: Int) -> Int {
    CPUThreads.count * max(2 * CPUDevice.ntkSubTile * CPUDevice.ntkSubTileColumns * multiplicity * multiplicity * scalarBytes,
                           CPUDevice.fusedScratchBytes(featuresPerSample: featuresPerSample))
  }

  /// The fused kernel packs a tile's columns once per tile and worker: tiles
  /// grow with N (1024 up to N = 8192, then N/8 in multiples of 256, at most
  /// 4096) so that packing stays a vanishing share of the work. Otherwise 1024.
  public func preferredGramTile(samples: Int, fused: Bool) -> Int {
    fused ? min(4096, max(1024, samples / 8 / 256 * 256)) : 1024
  }

  /// Batches whose propagation buffers stay within `propagationCacheBytes`
  /// (the backward pass of a conv net carries M cotangents per sample and
  /// makes several passes over them: from cache rather than from memory),
  /// at least 4 samples, at most 256. Each worker runs its own batches (see
  /// `GramFeatureStore`). conv_mnist (2.7 MB per sample) gets 6.
  public func preferredPropagationBatch(bytesPerSample: Int) -> Int {
    max(4, min(256, CPUDevice.propagationCacheBytes / max(bytesPerSample, 1)))
  }

  /// Half the last-level cache of a server core complex (measured on
  /// conv_mnist: 6–22 MB batches alike, 64 MB and more slower).
  static let propagationCacheBytes = 16 << 20

  // MARK: Memory

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func makeBuffer<T: DeviceScalar>(_ type: T.Type, count: Int) throws -> DeviceBuffer<T> {
    let storage = try HostStorage<T>(count: max(count, 1))
    return DeviceBuffer(count: count, handle: storage, hostPointer: storage.pointer)
  }

  /// A buffer over memory the caller owns and keeps alive (e.g. a memory-mapped output file).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func wrap<T: DeviceScalar>(_ pointer: UnsafeMutablePointer<T>, count: Int) -> DeviceBuffer<T> {
    DeviceBuffer(count: count, handle: nil, hostPointer: pointer)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func write<T: DeviceScalar>(_ source: UnsafeBufferPointer<T>, to destination: BufferView<T>) throws {
    guard let base = source.baseAddress, source.count > 0 else { return }
    precondition(destination.offset + source.count <= destination.buffer.count, "write past the end of a buffer")
    ptr(destination).update(from: base, count: source.count)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func read<T: DeviceScalar>(_ source: BufferView<T>, into destination: UnsafeMutableBufferPointer<T>) throws {
    guard let base = destination.baseAddress, destination.count > 0 else { return }
    precondition(source.offset + destination.count <= source.buffer.count, "read past the end of a buffer")
    base.update(from: ptr(source), count: destination.count)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func fill<T: DeviceScalar>(_ destination: BufferView<T>, count: Int, value: T) throws {
    ptr(destination).update(repeating: value, count: count)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func copy<T: DeviceScalar>(_ source: BufferView<T>, to destination: BufferView<T>, count: Int) throws {
    ptr(destination).update(from: ptr(source), count: count)
  }

  public func synchronize() throws {}

  @inline(__always) func ptr<T>(_ v: BufferView<T>) -> UnsafeMutablePointer<T> {
    v.buffer.hostPointer! + v.offset
  }

  // MARK: Linear algebra

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func gemm<T: DeviceScalar>(_ op: GemmOp<T>) throws {
    guard op.m > 0, op.n > 0 else { return }
    if op.k == 0 {
      // BLAS leaves C untouched for k = 0 only with beta = 1; make it explicit.
      for r in 0..<op.m { for c in 0..<op.n { ptr(op.c)[r * op.ldc + c] *= op.beta } }
      return
    }
    try OpenBLAS.require()
    let a = ptr(op.a), b = ptr(op.b), c = ptr(op.c)
    // Small products stay on one core; large ones are split into panels of C,
    // one single-threaded BLAS call per panel (see `init`), the panels spread
    // over the cores. The panels are a fixed size, not a share per worker:
    // OpenBLAS's kernels round a partial row panel differently from a whole
    // one, so panels that followed the worker count would change the bits
    // with NTKIT_THREADS (one worker runs the same panels in turn).
    guard op.flops >= 1e7 else {
      T.blasGemm(op.transA, op.transB, op.m, op.n, op.k, op.alpha, a, op.lda, b, op.ldb, op.beta, c, op.ldc)
      return
    }
    let panel = CPUDevice.gemmPanel
    if op.m >= op.n || op.m >= panel {
      parallelFor((op.m + panel - 1) / panel, minimumChunk: 1) { range in
        for w in range {
          let r0 = w * panel, rows = min(panel, op.m - r0)
          let aRow = op.transA ? a + r0 : a + r0 * op.lda
          T.blasGemm(op.transA, op.transB, rows, op.n, op.k, op.alpha, aRow, op.lda, b, op.ldb,
                     op.beta, c + r0 * op.ldc, op.ldc)
        }
      }
    } else {
      parallelFor((op.n + panel - 1) / panel, minimumChunk: 1) { range in
        for w in range {
          let c0 = w * panel, cols = min(panel, op.n - c0)
          let bCol = op.transB ? b + c0 * op.ldb : b + c0
          T.blasGemm(op.transA, op.transB, op.m, cols, op.k, op.alpha, a, op.lda, bCol, op.ldb,
                     op.beta, c + c0, op.ldc)
        }
      }
    }
  }

  /// Rows (or columns) of C per BLAS call when `gemm` splits a product.
  static let gemmPanel = 256

  /// Many small products at once: split over the cores with single-threaded
  /// BLAS per product (OpenBLAS's own threads only spin on shapes this small).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func gemmBatched<T: DeviceScalar>(_ batch: BatchedGemmOp<T>) throws {
    let op = batch.op
    guard batch.count > 0, op.m > 0, op.n > 0 else { return }
    try OpenBLAS.require()
    let a = ptr(op.a), b = ptr(op.b), c = ptr(op.c)
    parallelFor(batch.count, minimumChunk: 1) { range in
      for i in range {
        T.blasGemm(op.transA, op.transB, op.m, op.n, op.k, op.alpha, a + i * batch.strideA, op.lda,
                   b + i * batch.strideB, op.ldb, op.beta, c + i * batch.strideC, op.ldc)
      }
    }
  }

  /// Sub-tile rows for the fused structured-NTK accumulation. Three 384×512
  /// float tiles (2.4 MB) sit in L2/L3; larger panels amortise BLAS packing
  /// (measured: 384 rows 4 % faster than 192 on dense-MNIST, 512 slower).
  static let ntkSubTile = 384
  /// Sub-tile width (columns): wider panels amortise BLAS's packing of the rows.
  static let ntkSubTileColumns = 512

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func ntkAccumulate<T: DeviceScalar>(_ op: NTKAccumulateOp<T>) throws {
    let ts = CPUDevice.ntkSubTile, tc = CPUDevice.ntkSubTileColumns
    let m = op.multiplicity
    let tilesI = (op.rows1 + ts - 1) / ts
    let tilesJ = (op.rows2 + tc - 1) / tc
    let total = tilesI * tilesJ
    guard total > 0 else { return }
    try OpenBLAS.require()
    let a1 = ptr(op.a1), a2 = ptr(op.a2), g1 = ptr(op.g1), g2 = ptr(op.g2), out = ptr(op.out)
    let workers = min(CPUThreads.count, total)
    let run: (Int) -> Void = { w in
      let ka = UnsafeMutablePointer<T>.allocate(capacity: ts * tc)
      let kg = UnsafeMutablePointer<T>.allocate(capacity: ts * tc * m * m)
      defer { ka.deallocate(); kg.deallocate() }
      var t = w
      while t < total {
        let i0 = (t / tilesJ) * ts, j0 = (t % tilesJ) * tc
        let ni = min(ts, op.rows1 - i0), nj = min(tc, op.rows2 - j0)
        if op.ka > 0 {
          T.blasGemm(false, true, ni, nj, op.ka, op.scaleA, a1 + i0 * op.ka, op.ka, a2 + j0 * op.ka, op.ka,
                     0, ka, nj)
        } else {
          ka.update(repeating: 0, count: ni * nj)
        }
        T.blasGemm(false, true, ni * m, nj * m, op.kg, 1, g1 + i0 * m * op.kg, op.kg, g2 + j0 * m * op.kg, op.kg,
                   0, kg, nj * m)
        let c = op.c
        if m == 1 {
          CPUVectorLoops.hadamardAccumulate(out + i0 * op.ldo + j0, ldo: op.ldo, ka, kg, ni: ni, nj: nj, c: c)
        } else {
          for i in 0..<ni {
            for a in 0..<m {
              let o = out + ((i0 + i) * m + a) * op.ldo + j0 * m
              let rg = kg + (i * m + a) * nj * m
              for j in 0..<nj {
                let factor = ka[i * nj + j] + c
                for b in 0..<m { o[j * m + b] += factor * rg[j * m + b] }
              }
            }
          }
        }
        t += workers
      }
    }
    if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func addRowVector<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, vector: BufferView<T>, scale: T) throws {
    let p = ptr(x), v = ptr(vector)
    parallelFor(rows, minimumChunk: max(1, 16384 / max(cols, 1))) { range in
      for r in range {
        let row = p + r * cols
        for c in 0..<cols { row[c] += scale * v[c] }
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func columnSums<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, scale: T, into out: BufferView<T>) throws {
    let p = ptr(x), o = ptr(out)
    o.update(repeating: 0, count: cols)
    for r in 0..<rows {
      let row = p + r * cols
      for c in 0..<cols { o[c] += row[c] }
    }
    if scale != 1 { for c in 0..<cols { o[c] *= scale } }
  }

  // MARK: Layers

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func activationForward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, y: BufferView<T>, count: Int) throws {
    let zp = ptr(z), yp = ptr(y)
    parallelFor(count, minimumChunk: 32768) { range in
      switch act {
      case .relu: CPUVectorLoops.relu(yp + range.lowerBound, zp + range.lowerBound, range.count)
      case .identity: if zp != yp { for i in range { yp[i] = zp[i] } }
      default: for i in range { yp[i] = act.apply(zp[i]) }
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func activationBackward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, cotangent g: BufferView<T>,
                                                  n: Int, m: Int, width: Int) throws {
    if case .identity = act { return }
    let zp = ptr(z), gp = ptr(g)
    parallelFor(n, minimumChunk: max(1, 16384 / max(width * m, 1))) { range in
      if case .relu = act {
        CPUVectorLoops.reluBackward(gp + range.lowerBound * m * width, zp + range.lowerBound * width,
                                    n: range.count, m: m, width: width)
        return
      }
      // σ'(z) once per sample, applied to its m cotangent rows.
      let d = UnsafeMutablePointer<T>.allocate(capacity: width)
      defer { d.deallocate() }
      for i in range {
        let zr = zp + i * width
        for k in 0..<width { d[k] = act.derivative(zr[k]) }
        for a in 0..<m {
          let gr = gp + (i * m + a) * width
          for k in 0..<width { gr[k] *= d[k] }
        }
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func im2col<T: DeviceScalar>(_ g: ConvGeometry, input: BufferView<T>, cols: BufferView<T>, n: Int) throws {
    let src = ptr(input), dst = ptr(cols)
    let patch = g.patch, positions = g.positions
    parallelFor(n, minimumChunk: max(1, 65536 / max(positions * patch, 1))) { range in
      for s in range {
        let image = src + s * g.inputSize
        for oy in 0..<g.outH {
          for ox in 0..<g.outW {
            let row = dst + (s * positions + oy * g.outW + ox) * patch
            var k = 0
            for ky in 0..<g.kh {
              let y = oy * g.sh + ky - g.padTop
              for kx in 0..<g.kw {
                let x = ox * g.sw + kx - g.padLeft
                if y >= 0, y < g.inH, x >= 0, x < g.inW {
                  let pixel = image + (y * g.inW + x) * g.inC
                  for c in 0..<g.inC { row[k + c] = pixel[c] }
                } else {
                  for c in 0..<g.inC { row[k + c] = 0 }
                }
                k += g.inC
              }
            }
          }
        }
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func col2im<T: DeviceScalar>(_ g: ConvGeometry, cols: BufferView<T>, input: BufferView<T>, n: Int) throws {
    CPUConvLoops.col2im(g, cols: ptr(cols), image: ptr(input), n: n)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func avgPoolForward<T: DeviceScalar>(_ p: PoolGeometry, input: BufferView<T>, output: BufferView<T>, n: Int) throws {
    let src = ptr(input), dst = ptr(output)
    let inv = 1 / T(Float(p.wh * p.ww))
    parallelFor(n, minimumChunk: 16) { range in
      for s in range {
        let image = src + s * p.inputSize, out = dst + s * p.outputSize
        for oy in 0..<p.outH {
          for ox in 0..<p.outW {
            let o = out + (oy * p.outW + ox) * p.channels
            for c in 0..<p.channels { o[c] = 0 }
            for dy in 0..<p.wh {
              for dx in 0..<p.ww {
                let pixel = image + ((oy * p.sh + dy) * p.inW + ox * p.sw + dx) * p.channels
                for c in 0..<p.channels { o[c] += pixel[c] }
              }
            }
            for c in 0..<p.channels { o[c] *= inv }
          }
        }
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func avgPoolBackward<T: DeviceScalar>(_ p: PoolGeometry, output: BufferView<T>, input: BufferView<T>, n: Int) throws {
    CPUConvLoops.avgPoolBackward(p, pooled: ptr(output), image: ptr(input), n: n)
  }

  /// Float32 with whole 16-channel strips: the kernel of
  /// `ntkit_conv_features.c` (product and col2im in one pass, no patch
  /// cotangents in memory), split over the images; otherwise the default.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func convInputCotangent<T: DeviceScalar>(_ op: ConvInputCotangentOp<T>) throws {
    let g = op.geometry
    guard T.self == Float.self, g.inC % 16 == 0, op.count > 0 else { return try convInputCotangentByProducts(op) }
    CPUConvLoops.inputCotangent(g, count: op.count, alpha: op.alpha.float, cotangent: ptr(op.cotangent).f32,
                                kernel: ptr(op.kernel).f32, input: ptr(op.input).f32)
  }

  /// Float32 with whole 16-channel strips: the C kernel of
  /// `ntkit_conv_features.c` (one pass over each sample's cotangents, split
  /// over the samples); otherwise regrouping and products (the default).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func convTraceFeatures<T: DeviceScalar>(_ op: ConvFeaturesOp<T>) throws {
    guard T.self == Float.self, op.outC % 16 == 0, op.n > 0 else { return try convTraceFeaturesByProducts(op) }
    CPUConvLoops.traceFeatures(unsafeBitCast(op, to: ConvFeaturesOp<Float>.self), patches: ptr(op.patches).f32,
                               cotangent: ptr(op.cotangent).f32, out: ptr(op.out).f32)
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func interleaveCotangents<T: DeviceScalar>(_ op: CotangentInterleaveOp<T>) throws {
    CPUConvLoops.interleave(op, source: ptr(op.source), destination: ptr(op.destination), sums: op.sums.map { ptr($0) })
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func identityCotangent<T: DeviceScalar>(_ out: BufferView<T>, n: Int, m: Int) throws {
    let p = ptr(out)
    p.update(repeating: 0, count: n * m * m)
    for i in 0..<n { for a in 0..<m { p[(i * m + a) * m + a] = 1 } }
  }

  // MARK: Selection and training

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func rowDistances<T: DeviceScalar>(_ metric: DistanceMetric, a: BufferView<T>, b: BufferView<T>,
                                            out: BufferView<T>, n: Int, d: Int) throws {
    let ap = ptr(a), bp = ptr(b), op = ptr(out)
    parallelFor(n, minimumChunk: max(1, 32768 / max(d, 1))) { range in
      for i in range {
        op[i] = T(rowDistance(metric, ap + i * d, bp + i * d, d))
      }
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func argmax<T: DeviceScalar>(_ values: BufferView<T>, excluded: BufferView<T>?, count: Int) throws -> (index: Int, value: Double)? {
    let v = ptr(values)
    let x = excluded.map { ptr($0) }
    var best = -1
    var bestValue = -T.infinity
    for i in 0..<count {
      if let x, x[i] != 0 { continue }
      let value = v[i]
      // NaN never wins; ties keep the lowest index.
      if best < 0 || value > bestValue { best = i; bestValue = value.isNaN ? -T.infinity : value }
    }
    return best < 0 ? nil : (best, Double(bestValue.double))
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func adamStep<T: DeviceScalar>(_ h: AdamHyper, step: Int, parameters: BufferView<T>, gradients: BufferView<T>,
                                        m: BufferView<T>, v: BufferView<T>, count: Int) throws {
    let p = ptr(parameters), g = ptr(gradients), mp = ptr(m), vp = ptr(v)
    let b1 = T(Float(h.beta1)), b2 = T(Float(h.beta2))
    let c1 = 1 - libm_pow(h.beta1, Double(step)), c2 = 1 - libm_pow(h.beta2, Double(step))
    let lr = T(Float(h.learningRate / c1))
    let invC2 = T(Float(1 / c2))
    let eps = T(Float(h.epsilon)), wd = T(Float(h.weightDecay))
    for i in 0..<count {
      let grad = g[i] + wd * p[i]
      mp[i] = b1 * mp[i] + (1 - b1) * grad
      vp[i] = b2 * vp[i] + (1 - b2) * grad * grad
      p[i] -= lr * mp[i] / ((vp[i] * invC2).squareRoot() + eps)
    }
  }

  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func axpy<T: DeviceScalar>(_ alpha: T, _ y: BufferView<T>, _ x: BufferView<T>, count: Int) throws {
    let yp = ptr(y), xp = ptr(x)
    for i in 0..<count { xp[i] += alpha * yp[i] }
  }
}

/// One distance between two rows, in float64 (see `DistanceMetric`).
@_specialize(where T == Float)
@_specialize(where T == Double)
func rowDistance<T: DeviceScalar>(_ metric: DistanceMetric, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ d: Int) -> Double {
  switch metric {
  case .mse, .l2:
    var s = 0.0
    for k in 0..<d { let e = Double(a[k].double - b[k].double); s += e * e }
    return metric == .mse ? s / Double(max(d, 1)) : s.squareRoot()
  case .l1:
    var s = 0.0
    for k in 0..<d { s += abs(a[k].double - b[k].double) }
    return s
  case .lp(let p):
    // m·(Σ (|e|/m)^p)^(1/p) with m = max |e|: no underflow to 0 for a large p
    // (which would tie every distance), and the limit L∞ as p → ∞.
    var m = 0.0
    for k in 0..<d { m = max(m, abs(a[k].double - b[k].double)) }
    guard m > 0 else { return 0 }
    var s = 0.0
    for k in 0..<d { s += libm_pow(abs(a[k].double - b[k].double) / m, p) }
    return m * libm_pow(s, 1 / p)
  case .cosine, .angular:
    var ab = 0.0, aa = 0.0, bb = 0.0
    for k in 0..<d {
      let x = a[k].double, y = b[k].double
      ab += x * y; aa += x * x; bb += y * y
    }
    let denominator = (aa * bb).squareRoot()
    let cosine = denominator > 0 ? min(1, max(-1, ab / denominator)) : 0
    return metric == .cosine ? 1 - cosine : libm_acos(cosine) / Double.pi
  }
}

/// Host memory owned by a CPU buffer.
final class HostStorage<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  let count: Int
  init(count: Int) throws {
    self.count = count
    // calloc: large blocks come straight from the kernel already zeroed, so
    // zero-filling costs nothing until a page is touched.
    guard let raw = calloc(count, MemoryLayout<T>.stride) else {
      throw NTKitError.memoryBudget(needed: count * MemoryLayout<T>.stride, budget: physicalMemoryBytes(),
                                    hint: "the host ran out of memory; use fewer samples")
    }
    pointer = raw.bindMemory(to: T.self, capacity: count)
  }
  deinit { free(pointer) }
}
