import Dispatch
import CNTKitCPU
#if canImport(Glibc)
import Glibc
#endif

/// Options of an NTK Gram computation.
public struct GramOptions: Sendable {
  public var mode: NTKMode = .trace
  /// Cap on the temporaries (feature blocks, propagation buffers, tiles), bytes;
  /// the output itself is not counted.
  public var memoryBudget: Int = GramOptions.defaultMemoryBudget
  /// Samples per feature block / output tile; nil picks the largest the budget allows.
  public var blockSize: Int?
  /// Force one strategy for every layer that allows it (tests, benchmarks).
  public var forceStrategy: LayerStrategy?
  /// Called after each output tile with (tiles done, tiles in all).
  public var progress: (@Sendable (Int, Int) -> Void)?
  /// Polled between tiles; true stops the work with `NTKitError.interrupted`.
  public var isCancelled: (@Sendable () -> Bool)?
  /// Compute every tile instead of the upper triangle and its mirror (tests).
  public var computeLowerTriangle = false
  /// Recompute features per block even when they would fit (tests).
  public var forceStreaming = false

  /// 1 GiB: the clarified default. Enough for N = 20 000 of the Fuel net with
  /// all features resident, and far below the machines' 24 GiB.
  public static let defaultMemoryBudget = 1 << 30

  public init(mode: NTKMode = .trace) { self.mode = mode }
}

/// What a Gram computation did, for `--verbose` and benchmarks.
public struct GramReport: Sendable {
  public var plan: GramPlan
  public var blockSize: Int
  public var residentFeatures: Bool
  public var tiles: Int
  public var flops: Double
  public var seconds: Double
  public var temporaryBytes: Int
  /// Seconds spent computing features (forward, backward, Jacobian blocks).
  public var featureSeconds: Double = 0
  /// Seconds spent mirroring the upper triangle.
  public var mirrorSeconds: Double = 0
  /// Identifier of the device that computed Θ ("cpu", "opencl:0:0").
  public var device: String = ""
}

/// The empirical NTK Θ(X₁, X₂) of a network, tiled so that memory stays within
/// a budget, on any `ComputeDevice`.
///
/// Features are computed per block of samples (layer inputs A and output
/// cotangents G for structured layers, Jacobian blocks Φ for explicit ones),
/// kept resident when they fit in half the budget and recomputed per block
/// otherwise. Each output tile accumulates every layer's contribution; for
/// X₂ = X₁ only tiles of the upper triangle are computed and then mirrored.
/// On the CPU in float32 trace mode all structured layers of a tile go
/// through one fused kernel (`CPUDevice.fusedStructuredGram`) in a fixed
/// reduction order, so Θ does not depend on `NTKIT_ISA` or `NTKIT_THREADS`.
public enum NTKGram {
  /// Θ written row-major into `output`: N₁ × N₂ (trace) or [N₁, M, N₂, M] (full).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public static func compute<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs1: Tensor, inputs2: Tensor? = nil,
    device: any ComputeDevice, options: GramOptions = GramOptions(),
    output: UnsafeMutableBufferPointer<T>
  ) throws -> GramReport {
    let start = monotonicSeconds()
    let plan0 = GramPlan(network: network, mode: options.mode, force: options.forceStrategy)
    let m = network.outputSize
    let mult = options.mode == .trace ? 1 : m
    let n1 = inputs1.rows, n2 = inputs2?.rows ?? n1
    let symmetric = inputs2 == nil && !options.computeLowerTriangle
    guard n1 > 0, n2 > 0 else { throw NTKitError.invalidArgument("the NTK needs at least one input sample") }
    for x in [inputs1] + (inputs2.map { [$0] } ?? []) where x.rowLength != network.inputSize {
      throw NTKitError.shapeMismatch(context: "inputs", expected: "\(network.inputSize) values per sample (input_shape \(network.spec.inputShape))",
                                     found: "\(x.rowLength) (shape \(x.shape))")
    }
    let ldo = n2 * mult
    precondition(output.count >= n1 * mult * ldo, "output too small")
    let size = MemoryLayout<T>.stride
    // A host-memory device writes tiles straight into the output; others go through a tile buffer.
    let hostOutput = device.capabilities.hostAddressableMemory
    // The fixed-order fused host kernels (float32 trace mode) when the device has them.
    let kernels = device.fusedKernels

    // Memory plan.
    let featureBytes = plan0.featuresPerSample * size
    // Propagation blocks: up to 256 samples, within an eighth of the budget
    // (a conv net carries M cotangents per sample through every layer).
    let propagatorPerSample = Propagator<T>.bytesPerSample(network, multiplicity: m)
    let propagateCap = max(1, min(max(n1, n2), 256, options.memoryBudget / 8 / max(propagatorPerSample, 1)))
    let propagatorBytes = propagatorPerSample * propagateCap
    let sameSet = inputs2 == nil
    let allSamples = sameSet ? n1 : n1 + n2
    var block: Int
    var resident: Bool
    func tileBytes(_ b: Int) -> Int { hostOutput ? 0 : b * b * mult * mult * size }
    let scratch = device.ntkTileScratchBytes(featuresPerSample: plan0.featuresPerSample, multiplicity: mult,
                                             scalarBytes: size)
    let fixed = propagatorBytes + scratch
    if let forced = options.blockSize {
      block = max(1, forced)
      resident = !options.forceStreaming && fixed + allSamples * featureBytes + tileBytes(block) <= options.memoryBudget
    } else if !options.forceStreaming && fixed + allSamples * featureBytes + tileBytes(1024) <= options.memoryBudget {
      resident = true
      let fusedCPU = kernels != nil && T.self == Float.self && options.mode == .trace
      block = device.preferredGramTile(samples: max(n1, n2), fused: fusedCPU)
    } else {
      resident = false
      // two feature blocks + one tile within the budget
      var b = 4096
      while b > 8 && fixed + 2 * b * featureBytes + tileBytes(b) > options.memoryBudget { b = b * 3 / 4 }
      block = b
    }
    let needed = fixed + (resident ? allSamples : 2 * block) * featureBytes + tileBytes(block)
    guard needed <= options.memoryBudget else {
      throw NTKitError.memoryBudget(needed: needed, budget: options.memoryBudget,
                                    hint: "raise --memory-budget or use fewer samples")
    }

    // Device state.
    let theta = try device.upload(parameters: parameters, as: T.self)
    let propagator = try Propagator<T>(network: network, parameters: theta, device: device,
                                       capacity: min(propagateCap, max(n1, n2)), multiplicity: m)
    // A net of structured layers only on the fused CPU path is fixed-order end
    // to end: features too (explicit layers, convolutions, go through BLAS,
    // so their results stay specific to the CPU's BLAS kernels anyway).
    // Debug builds compile the C kernels unoptimised: there BLAS computes the
    // features (the same bits across NTKIT_ISA and NTKIT_THREADS on one CPU,
    // not across CPUs), so that a debug Gram stays quick enough to interrupt.
    propagator.fixedOrderProducts = kernels != nil && T.self == Float.self && options.mode == .trace
      && plan0.layers.allSatisfy { $0.strategy == .structured } && ntk_cpu_kernels_optimized() != 0
    var plan = plan0
    let storeCapacity = resident ? allSamples : block
    var offset = 0
    for i in plan.layers.indices {
      plan.layers[i].offset = offset
      offset += storeCapacity * plan.layers[i].featureWidth
    }
    // Row norms ‖W_L[c, :]‖ of the last layer's kernel, for compressed cotangents.
    let lastLayer = network.affineLayers.last
    var lastLayerNorms: DeviceBuffer<T>?
    if plan.layers.contains(where: \.compressedCotangent), let last = lastLayer {
      let fanIn = last.geometry.inC, units = last.geometry.outC
      let theta64 = T.self == Double.self ? parameters.values64 : nil
      let norms = (0..<fanIn).map { c -> T in
        var sum = 0.0
        for a in 0..<units {
          let k = last.kernelOffset + c * units + a
          let w = theta64?[k] ?? Double(parameters.values[k])
          sum += w * w
        }
        return T(sum.squareRoot())
      }
      lastLayerNorms = try device.upload(norms)
    }
    let store1 = try device.makeBuffer(T.self, count: offset)
    // Resident features of both sets share one store; streamed blocks need a second.
    let store2 = resident ? store1 : try device.makeBuffer(T.self, count: offset)
    let tile = hostOutput ? nil : try device.makeBuffer(T.self, count: block * block * mult * mult)
    let outBuffer: DeviceBuffer<T>? = hostOutput ? DeviceBuffer(count: output.count, handle: nil, hostPointer: output.baseAddress!) : nil
    // Huge pages for a large host output written here first (no effect on pages already touched).
    if hostOutput { ntk_advise_huge_pages(UnsafeMutableRawPointer(output.baseAddress!), output.count * size) }

    /// Features of samples `range` of `x` into `store` at sample slot `slot`.
    var featureSeconds = 0.0
    func features(_ x: Tensor, _ range: Range<Int>, into store: DeviceBuffer<T>, slot: Int) throws {
      let t0 = monotonicSeconds()
      defer { featureSeconds += monotonicSeconds() - t0 }
      var lo = range.lowerBound
      while lo < range.upperBound {
        let n = min(propagator.capacity, range.upperBound - lo)
        try device.write(rows: lo..<lo + n, of: x, to: propagator.input.view)
        try propagator.forward(n: n)
        let s = slot + (lo - range.lowerBound)
        var layerIndex = plan.layers.count - 1
        try propagator.backward(n: n, seed: nil) { k, a, g in
          while plan.layers[layerIndex].layerIndex != k { layerIndex -= 1 }
          let l = plan.layers[layerIndex]
          let base = store.view(at: l.offset)
          switch l.strategy {
          case .structured:
            let fi = a.geometry.inC, fo = a.geometry.outC
            try device.copy(propagator.layerInput(k), to: base.advanced(by: s * fi), count: n * fi)
            if l.compressedCotangent, let norms = lastLayerNorms {
              // U[i, c] = w_L·‖W_L[c, :]‖·σ'(z_ic)
              let u = base.advanced(by: storeCapacity * fi + s * fo)
              try device.fill(u, count: n * fo, value: 0)
              try device.addRowVector(u, rows: n, cols: fo, vector: norms.view, scale: T(lastLayer!.weightScale))
              if let act = l.activationAbove {
                try device.activationBackward(act, z: propagator.layerInput(k + 1), cotangent: u, n: n, m: 1, width: fo)
              }
            } else {
              try device.copy(g, to: base.advanced(by: storeCapacity * fi + s * m * fo), count: n * m * fo)
            }
          case .explicit:
            try propagator.jacobianBlock(k, a, cotangent: g, n: n, into: base.advanced(by: s * l.featureWidth),
                                         ld: a.parameterCount)
          }
        }
        lo += n
      }
    }

    /// Accumulates every layer into the tile for store1 rows [s1, s1+r1) × store2 rows [s2, s2+r2).
    /// With `fused`, the structured layers were already written (overwriting) by the fused kernel.
    func accumulate(_ s1: Int, _ r1: Int, _ s2: Int, _ r2: Int, into out: BufferView<T>, ldo: Int, fused: Bool) throws {
      for l in plan.layers {
        let a = l.affine
        switch l.strategy {
        case .structured:
          if fused { continue }
          let fi = a.geometry.inC
          let gBase = storeCapacity * fi
          let ws = T(a.weightScale), bs = T(a.biasScale)
          // Trace mode: one row of cotangent features per sample (M·fan_out wide,
          // or fan_out when compressed); full mode: M rows of fan_out.
          let kg = options.mode == .trace ? l.cotangentWidth : a.geometry.outC
          let gRow = l.cotangentWidth
          try device.ntkAccumulate(NTKAccumulateOp(
            rows1: r1, rows2: r2, multiplicity: mult, ka: fi, kg: kg,
            scaleA: ws * ws, c: a.hasBias ? bs * bs : 0,
            a1: store1.view(at: l.offset + s1 * fi), a2: store2.view(at: l.offset + s2 * fi),
            g1: store1.view(at: l.offset + gBase + s1 * gRow), g2: store2.view(at: l.offset + gBase + s2 * gRow),
            out: out, ldo: ldo))
        case .explicit:
          let k = options.mode == .trace ? m * a.parameterCount : a.parameterCount
          try device.gemm(GemmOp(transB: true, m: r1 * mult, n: r2 * mult, k: k, alpha: 1,
                                 a: store1.view(at: l.offset + s1 * l.featureWidth), lda: k,
                                 b: store2.view(at: l.offset + s2 * l.featureWidth), ldb: k,
                                 beta: 1, c: out, ldc: ldo))
        }
      }
    }

    /// The fused kernel (CPU, float32, trace mode): every structured layer of
    /// the tile in one pass, written over the tile; explicit layers add after.
    let fusedLayers = plan.layers.filter { $0.strategy == .structured }
    let useFused = kernels != nil && T.self == Float.self && options.mode == .trace && !fusedLayers.isEmpty
    // Every layer fused and a symmetric Gram: each tile mirrors itself (no pass at the end).
    let fusedMirrors = useFused && symmetric && fusedLayers.count == plan.layers.count
    func fusedOperands(_ s1: Int, _ s2: Int) -> [FusedStructuredLayer] {
      func fp(_ b: DeviceBuffer<T>, _ offset: Int) -> UnsafePointer<Float> {
        UnsafeRawPointer(b.hostPointer! + offset).assumingMemoryBound(to: Float.self)
      }
      return fusedLayers.map { l -> FusedStructuredLayer in
        let a = l.affine
        let fi = a.geometry.inC, gBase = storeCapacity * fi, gRow = l.cotangentWidth
        let ws = Float(a.weightScale), bs = Float(a.biasScale)
        return FusedStructuredLayer(
          a1: fp(store1, l.offset + s1 * fi), a2: fp(store2, l.offset + s2 * fi),
          g1: fp(store1, l.offset + gBase + s1 * gRow), g2: fp(store2, l.offset + gBase + s2 * gRow),
          ka: fi, kg: gRow, scale: ws * ws, c: a.hasBias ? bs * bs : 0)
      }
    }
    func fusedTile(_ s1: Int, _ r1: Int, _ s2: Int, _ r2: Int, into out: BufferView<T>, ldo: Int, diagonal: Bool,
                   mirror: BufferView<T>?, packed: (rows: UnsafePointer<Float>, columns: UnsafePointer<Float>)?) throws {
      let layers = fusedOperands(s1, s2)
      let o = UnsafeMutableRawPointer(out.buffer.hostPointer! + out.offset).assumingMemoryBound(to: Float.self)
      let m = mirror.map { UnsafeMutableRawPointer($0.buffer.hostPointer! + $0.offset).assumingMemoryBound(to: Float.self) }
      try kernels!.fusedStructuredGram(layers, rows1: r1, rows2: r2, out: o, ldo: ldo, diagonal: diagonal, mirror: m,
                                   packed: packed)
    }

    // Block lists.
    let blocks1 = stride(from: 0, to: n1, by: block).map { $0..<min(n1, $0 + block) }
    let blocks2 = stride(from: 0, to: n2, by: block).map { $0..<min(n2, $0 + block) }
    var work: [(Int, Int)] = []
    for i in blocks1.indices { for j in blocks2.indices where !symmetric || j >= i { work.append((i, j)) } }
    let x2 = inputs2 ?? inputs1
    let offset2 = sameSet ? 0 : n1
    if resident {
      try features(inputs1, 0..<n1, into: store1, slot: 0)
      if !sameSet { try features(x2, 0..<n2, into: store1, slot: n1) }
    }
    // Resident features on the fused path: pack every row and column block
    // once (instead of once per tile and worker) when the budget allows.
    var packedRows: UnsafeMutablePointer<Float>?, packedColumns: UnsafeMutablePointer<Float>?
    var rowStride = 0, columnStride = 0, packedBytes = 0
    defer { free(packedRows); free(packedColumns) }
    if useFused && resident {
      let operands = fusedOperands(0, offset2)
      rowStride = CPUDevice.fusedPackedCount(operands, n: block, second: false)
      columnStride = CPUDevice.fusedPackedCount(operands, n: block, second: true)
      let bytes = (blocks1.count * rowStride + blocks2.count * columnStride) * size
      if needed + bytes <= options.memoryBudget {
        var p: UnsafeMutableRawPointer?, q: UnsafeMutableRawPointer?
        if posix_memalign(&p, 64, blocks1.count * rowStride * size) == 0,
           posix_memalign(&q, 64, blocks2.count * columnStride * size) == 0 {
          packedRows = p?.assumingMemoryBound(to: Float.self)
          packedColumns = q?.assumingMemoryBound(to: Float.self)
          ntk_advise_huge_pages(p, blocks1.count * rowStride * size)
          ntk_advise_huge_pages(q, blocks2.count * columnStride * size)
          packedBytes = bytes
          let cpuDevice = kernels!
          parallelFor(blocks1.count + blocks2.count, minimumChunk: 1) { range in
            for k in range {
              if k < blocks1.count {
                let b = blocks1[k]
                cpuDevice.packFused(operands, second: false, from: b.lowerBound, count: b.count,
                                    into: packedRows! + k * rowStride)
              } else {
                let b = blocks2[k - blocks1.count]
                cpuDevice.packFused(operands, second: true, from: b.lowerBound, count: b.count,
                                    into: packedColumns! + (k - blocks1.count) * columnStride)
              }
            }
          }
        } else {
          free(p); free(q)
        }
      }
    }
    var loadedRow = -1
    for (done, (bi, bj)) in work.enumerated() {
      FaultInjection.pause("compute")
      if options.isCancelled?() == true { throw NTKitError.interrupted }
      let I = blocks1[bi], J = blocks2[bj]
      let s1: Int, s2: Int
      if resident {
        s1 = I.lowerBound
        s2 = offset2 + J.lowerBound
      } else {
        if loadedRow != bi { try features(inputs1, I, into: store1, slot: 0); loadedRow = bi }
        try features(x2, J, into: store2, slot: 0)
        s1 = 0; s2 = 0
      }
      let r1 = I.count, r2 = J.count
      if let outBuffer {
        let view = outBuffer.view(at: I.lowerBound * mult * ldo + J.lowerBound * mult)
        if useFused {
          // A diagonal tile of a symmetric Gram with only structured layers: upper triangle, mirrored.
          let diagonal = fusedMirrors && bi == bj
          let mirror = fusedMirrors && bi != bj ? outBuffer.view(at: J.lowerBound * ldo + I.lowerBound) : nil
          let packed = packedRows.map { rows in
            (rows: UnsafePointer(rows + bi * rowStride), columns: UnsafePointer(packedColumns! + bj * columnStride))
          }
          try fusedTile(s1, r1, s2, r2, into: view, ldo: ldo, diagonal: diagonal, mirror: mirror, packed: packed)
        } else {
          for r in 0..<r1 * mult { try device.fill(view.advanced(by: r * ldo), count: r2 * mult, value: 0) }
        }
        try accumulate(s1, r1, s2, r2, into: view, ldo: ldo, fused: useFused)
      } else if let tile {
        try device.fill(tile.view, count: r1 * mult * r2 * mult, value: 0)
        try accumulate(s1, r1, s2, r2, into: tile.view, ldo: r2 * mult, fused: false)
        for r in 0..<r1 * mult {
          let dst = UnsafeMutableBufferPointer(rebasing: output[((I.lowerBound * mult + r) * ldo + J.lowerBound * mult)...].prefix(r2 * mult))
          try device.read(tile.view(at: r * r2 * mult), into: dst)
        }
      }
      options.progress?(done + 1, work.count)
    }
    try device.synchronize()
    let mirrorStart = monotonicSeconds()
    if symmetric && !(fusedMirrors && hostOutput) { mirrorUpperToLower(output, rows: n1 * mult, block: block * mult) }
    return GramReport(plan: plan, blockSize: block, residentFeatures: resident, tiles: work.count,
                      flops: plan.flops(n1: n1, n2: n2, symmetric: symmetric),
                      seconds: monotonicSeconds() - start, temporaryBytes: needed + packedBytes,
                      featureSeconds: featureSeconds, mirrorSeconds: monotonicSeconds() - mirrorStart,
                      device: device.info.identifier)
  }

  /// Copies the upper block triangle to the lower one: out[j, i] = out[i, j]
  /// for the blocks below the diagonal (diagonal blocks were computed whole).
  static func mirrorUpperToLower<T>(_ out: UnsafeMutableBufferPointer<T>, rows: Int, block: Int) {
    let base = out.baseAddress!
    let blocks = (rows + block - 1) / block
    // Each lower block row is written by one worker.
    parallelFor(blocks, minimumChunk: 1) { range in
      for bi in range {
        let i0 = bi * block, i1 = min(rows, i0 + block)
        for bj in 0..<bi {
          let j0 = bj * block, j1 = min(rows, j0 + block)
          var i = i0
          while i < i1 {
            let ie = min(i1, i + 32)
            var j = j0
            while j < j1 {
              let je = min(j1, j + 32)
              for r in i..<ie { for c in j..<je { base[r * rows + c] = base[c * rows + r] } }
              j = je
            }
            i = ie
          }
        }
      }
    }
  }
}
