import CNTKitCPU
#if canImport(Glibc)
import Glibc
#endif

/// Computes output tiles of an NTK Gram from a `GramFeatureStore` and puts
/// them into the row-major output (N₁·mult × N₂·mult, row stride `ldo`).
///
/// A tile for store slots [s1, s1 + r1) × [s2, s2 + r2) sums every layer:
/// structured layers through `ntkAccumulate` (or, with the fused host
/// kernels in float32 trace mode, all of them in one fixed-order pass of
/// `fusedStructuredGram`), explicit layers as Φ₁Φ₂ᵀ GEMMs. Host-addressable
/// output is written in place; otherwise each tile goes through a device tile
/// buffer and is read back row by row.
final class GramTileWriter<T: DeviceScalar> {
  let store: GramFeatureStore<T>
  let device: any ComputeDevice
  let mode: NTKMode
  let outputs: Int, mult: Int
  let output: UnsafeMutableBufferPointer<T>
  let ldo: Int
  /// The output as a device buffer (host-addressable devices), else nil.
  let outBuffer: DeviceBuffer<T>?
  /// The tile buffer (other devices), else nil.
  let tile: DeviceBuffer<T>?
  let kernels: CPUDevice?
  let fusedLayers: [GramPlan.Layer]
  /// Float32 trace mode on the CPU: the fixed-order host kernels compute
  /// every Gram block (structured layers fused, explicit ones chunked).
  let hostKernels: Bool
  let useFused: Bool
  /// Some layer goes through explicit Jacobian blocks (Φ₁Φ₂ᵀ products).
  let hasExplicit: Bool
  /// Every layer fused and a symmetric Gram: each tile writes its own mirror
  /// (no mirroring pass at the end).
  let mirrorsItself: Bool
  /// The column panels of every column block, and (short reductions) the
  /// row panels of every row block, packed once (resident features).
  private var packedColumns: UnsafeMutablePointer<Float>?, packedRows: UnsafeMutablePointer<Float>?
  private var columnStride = 0, rowStride = 0
  /// Bytes of the pre-packed fused operands (0: none).
  private(set) var packedBytes = 0

  init(store: GramFeatureStore<T>, device: any ComputeDevice, mode: NTKMode, outputs: Int, symmetric: Bool,
       memory: GramMemoryPlan, output: UnsafeMutableBufferPointer<T>, ldo: Int) throws {
    self.store = store
    self.device = device
    self.mode = mode
    self.outputs = outputs
    mult = mode == .trace ? 1 : outputs
    self.output = output
    self.ldo = ldo
    let hostOutput = device.capabilities.hostAddressableMemory
    kernels = device.fusedKernels
    tile = hostOutput ? nil : try device.makeBuffer(T.self, count: memory.tileBufferPairs * mult * mult)
    // No transparent huge pages for the output (or the packs below): on the
    // 2-core VMs measured, a 2 MiB page comes from guest memory never touched
    // since boot and its first touch cost up to 10× that of recycled 4 KiB pages
    // (Fuel N = 16 384: 1.0–2.6 s with MADV_HUGEPAGE, 1.1–1.35 s without).
    outBuffer = hostOutput ? DeviceBuffer(count: output.count, handle: nil, hostPointer: output.baseAddress!) : nil
    fusedLayers = store.layers.filter { $0.strategy == .structured }
    hasExplicit = store.layers.contains { $0.strategy == .explicit }
    hostKernels = kernels != nil && T.self == Float.self && mode == .trace
    useFused = hostKernels && !fusedLayers.isEmpty
    mirrorsItself = useFused && symmetric && fusedLayers.count == store.layers.count && hostOutput
  }

  deinit { free(packedColumns); free(packedRows) }

  /// Resident features on the fused path: packs every column block once
  /// (instead of once per tile and worker) when `budgetLeft` allows. The
  /// kernel reads the rows in place when its reductions are long
  /// (`CPUDevice.fusedRowsInPlace`); otherwise every row block is packed
  /// once too (short reductions run 5–10 % faster from packed rows).
  func packResident(rowBlocks: [Range<Int>], columnBlocks: [Range<Int>], blockSize: Int, budgetLeft: Int) {
    guard useFused, store.resident, let kernels else { return }
    let operands = fusedOperands(0, store.secondSetSlot)
    let packRows = !CPUDevice.fusedRowsInPlace(operands)
    columnStride = CPUDevice.fusedPackedCount(operands, n: blockSize, second: true)
    rowStride = packRows ? CPUDevice.fusedPackedCount(operands, n: blockSize, second: false) : 0
    let size = MemoryLayout<T>.stride
    let columnBytes = columnBlocks.count * columnStride * size, rowBytes = rowBlocks.count * rowStride * size
    guard columnBytes + rowBytes <= budgetLeft else { return }
    var p: UnsafeMutableRawPointer?, q: UnsafeMutableRawPointer?
    guard posix_memalign(&q, 64, columnBytes) == 0, let q else { return }
    if packRows {
      guard posix_memalign(&p, 64, rowBytes) == 0 else { free(q); return }
    }
    let columns = q.assumingMemoryBound(to: Float.self), rows = p?.assumingMemoryBound(to: Float.self)
    packedColumns = columns
    packedRows = rows
    packedBytes = columnBytes + rowBytes
    let columnStride = columnStride, rowStride = rowStride
    let jobs = columnBlocks.count + (rows == nil ? 0 : rowBlocks.count)
    parallelFor(jobs, minimumChunk: 1) { range in
      for k in range {
        if k < columnBlocks.count {
          let b = columnBlocks[k]
          kernels.packFused(operands, second: true, from: b.lowerBound, count: b.count, into: columns + k * columnStride)
        } else {
          let b = rowBlocks[k - columnBlocks.count]
          kernels.packFused(operands, second: false, from: b.lowerBound, count: b.count,
                            into: rows! + (k - columnBlocks.count) * rowStride)
        }
      }
    }
  }

  /// Computes `t` (its features at store slots s1 and s2) into the output.
  func write(_ t: GramTileSchedule.Tile, s1: Int, s2: Int) throws {
    let I = t.rows, J = t.columns
    let r1 = I.count, r2 = J.count
    // A diagonal tile of a symmetric Gram (the same samples on both sides):
    // explicit layers add only its upper triangle (`syrk`), then the tile is
    // mirrored within itself.
    let diagonal = t.isDiagonal && r1 == r2 && s1 == s2
    let mirrorTile = diagonal && hasExplicit
    if let outBuffer {
      let view = outBuffer.view(at: I.lowerBound * mult * ldo + J.lowerBound * mult)
      if useFused {
        // The fused kernel computes a diagonal tile's upper triangle and mirrors it.
        let mirror = mirrorsItself && t.row != t.column ? outBuffer.view(at: J.lowerBound * ldo + I.lowerBound) : nil
        let packed = packedColumns.map { columns in
          (rows: packedRows.map { UnsafePointer($0 + t.row * rowStride) }, columns: UnsafePointer(columns + t.column * columnStride))
        }
        try fusedTile(s1, r1, s2, r2, into: view, diagonal: diagonal, mirror: mirror, packed: packed)
      } else {
        for r in 0..<r1 * mult { try device.fill(view.advanced(by: r * ldo), count: r2 * mult, value: 0) }
      }
      try accumulate(s1, r1, s2, r2, into: view, ldo: ldo, fused: useFused, diagonal: diagonal)
    } else if let tile {
      try device.fill(tile.view, count: r1 * mult * r2 * mult, value: 0)
      try accumulate(s1, r1, s2, r2, into: tile.view, ldo: r2 * mult, fused: false, diagonal: diagonal)
      for r in 0..<r1 * mult {
        let dst = UnsafeMutableBufferPointer(rebasing: output[((I.lowerBound * mult + r) * ldo + J.lowerBound * mult)...].prefix(r2 * mult))
        try device.read(tile.view(at: r * r2 * mult), into: dst)
      }
    }
    if mirrorTile {
      CPUDevice.mirrorWithinTile(output.baseAddress! + I.lowerBound * mult * ldo + J.lowerBound * mult,
                                 n: r1 * mult, ldo: ldo)
    }
  }

  /// Accumulates every layer into the tile for first-store rows [s1, s1+r1) × second-store rows [s2, s2+r2).
  /// With `fused`, the structured layers were already written (overwriting) by the fused kernel.
  /// With `diagonal` (the same samples on both sides), explicit layers add only the upper triangle.
  private func accumulate(_ s1: Int, _ r1: Int, _ s2: Int, _ r2: Int, into out: BufferView<T>, ldo: Int,
                          fused: Bool, diagonal: Bool) throws {
    let store1 = store.first, store2 = store.second, capacity = store.capacity
    for l in store.layers {
      let a = l.affine
      switch l.strategy {
      case .structured:
        if fused { continue }
        let fi = a.geometry.inC
        let gBase = capacity * fi
        let ws = T(a.weightScale), bs = T(a.biasScale)
        // Trace mode: one row of cotangent features per sample (M·fan_out wide,
        // or fan_out when compressed); full mode: M rows of fan_out.
        let kg = mode == .trace ? l.cotangentWidth : a.geometry.outC
        let gRow = l.cotangentWidth
        try device.ntkAccumulate(NTKAccumulateOp(
          rows1: r1, rows2: r2, multiplicity: mult, ka: fi, kg: kg,
          scaleA: ws * ws, c: a.hasBias ? bs * bs : 0,
          a1: store1.view(at: l.offset + s1 * fi), a2: store2.view(at: l.offset + s2 * fi),
          g1: store1.view(at: l.offset + gBase + s1 * gRow), g2: store2.view(at: l.offset + gBase + s2 * gRow),
          out: out, ldo: ldo))
      case .explicit:
        let k = mode == .trace ? outputs * a.parameterCount : a.parameterCount
        if hostKernels, let kernels {
          // Float32 trace mode on the CPU: the fixed-order kernel (diagonal tiles: upper triangle).
          func fp(_ b: DeviceBuffer<T>, _ offset: Int) -> UnsafePointer<Float> {
            UnsafeRawPointer(b.hostPointer! + offset).assumingMemoryBound(to: Float.self)
          }
          let o = UnsafeMutableRawPointer(out.buffer.hostPointer! + out.offset).assumingMemoryBound(to: Float.self)
          try kernels.explicitGram(fp(store1, l.offset + s1 * l.featureWidth), ld1: k,
                                   fp(store2, l.offset + s2 * l.featureWidth), ld2: k, rows1: r1, rows2: r2, k: k,
                                   out: o, ldo: ldo, diagonal: diagonal)
          continue
        }
        if diagonal {

          try device.syrk(SyrkOp(n: r1 * mult, k: k, alpha: 1, a: store1.view(at: l.offset + s1 * l.featureWidth),
                                 lda: k, beta: 1, c: out, ldc: ldo))
          continue
        }
        try device.gemm(GemmOp(transB: true, m: r1 * mult, n: r2 * mult, k: k, alpha: 1,
                               a: store1.view(at: l.offset + s1 * l.featureWidth), lda: k,
                               b: store2.view(at: l.offset + s2 * l.featureWidth), ldb: k,
                               beta: 1, c: out, ldc: ldo))
      }
    }
  }

  /// The fused kernel's operands: every structured layer at store slots s1 and s2.
  private func fusedOperands(_ s1: Int, _ s2: Int) -> [FusedStructuredLayer] {
    let store1 = store.first, store2 = store.second, capacity = store.capacity
    func fp(_ b: DeviceBuffer<T>, _ offset: Int) -> UnsafePointer<Float> {
      UnsafeRawPointer(b.hostPointer! + offset).assumingMemoryBound(to: Float.self)
    }
    return fusedLayers.map { l -> FusedStructuredLayer in
      let a = l.affine
      let fi = a.geometry.inC, gBase = capacity * fi, gRow = l.cotangentWidth
      let ws = Float(a.weightScale), bs = Float(a.biasScale)
      return FusedStructuredLayer(
        a1: fp(store1, l.offset + s1 * fi), a2: fp(store2, l.offset + s2 * fi),
        g1: fp(store1, l.offset + gBase + s1 * gRow), g2: fp(store2, l.offset + gBase + s2 * gRow),
        ka: fi, kg: gRow, scale: ws * ws, c: a.hasBias ? bs * bs : 0)
    }
  }

  /// The fused kernel (float32, trace mode): every structured layer of the
  /// tile in one pass, written over the tile; explicit layers add after.
  private func fusedTile(_ s1: Int, _ r1: Int, _ s2: Int, _ r2: Int, into out: BufferView<T>, diagonal: Bool,
                         mirror: BufferView<T>?, packed: CPUDevice.FusedPacked?) throws {
    let layers = fusedOperands(s1, s2)
    let o = UnsafeMutableRawPointer(out.buffer.hostPointer! + out.offset).assumingMemoryBound(to: Float.self)
    let m = mirror.map { UnsafeMutableRawPointer($0.buffer.hostPointer! + $0.offset).assumingMemoryBound(to: Float.self) }
    try kernels!.fusedStructuredGram(layers, rows1: r1, rows2: r2, out: o, ldo: ldo, diagonal: diagonal, mirror: m,
                                     packed: packed)
  }
}
