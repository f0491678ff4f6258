import CNTKitCPU

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
  ///
  /// A composition of four parts: the memory plan (`GramMemoryPlan`), the
  /// features (`GramFeatureStore`), the tiles and their order
  /// (`GramTileSchedule`, shared with ntk-mpi) and the tile arithmetic
  /// (`GramTileWriter`); then the upper triangle is mirrored when the tiles
  /// did not mirror themselves.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public static func compute<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs1: Tensor, inputs2: Tensor? = nil,
    device: any ComputeDevice, options: GramOptions = GramOptions(),
    output: UnsafeMutableBufferPointer<T>
  ) throws -> GramReport {
    let start = monotonicSeconds()
    let plan = GramPlan(network: network, mode: options.mode, force: options.forceStrategy)
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
    // The fixed-order fused host kernels apply in float32 trace mode.
    let fused = device.capabilities.fusedHostKernels && T.self == Float.self && options.mode == .trace
    let propagatorBytes = Propagator<T>.bytesPerSample(network, multiplicity: m)
    let memory = try GramMemoryPlan(GramMemoryPlan.Request(
      n1: n1, n2: n2, sameSet: inputs2 == nil, budget: options.memoryBudget,
      featureBytesPerSample: plan.featuresPerSample * size,
      propagatorBytesPerSample: propagatorBytes,
      scratchBytes: device.ntkTileScratchBytes(featuresPerSample: plan.featuresPerSample, multiplicity: mult,
                                               scalarBytes: size),
      // A host-memory device writes tiles straight into the output; others go through a tile buffer.
      tileBytesPerPair: device.capabilities.hostAddressableMemory ? 0 : mult * mult * size,
      preferredBlock: device.preferredGramTile(samples: max(n1, n2), fused: fused),
      forcedBlock: options.blockSize, forceStreaming: options.forceStreaming,
      preferredPropagationBatch: device.preferredPropagationBatch(bytesPerSample: propagatorBytes),
      // Feature blocks one per core where the device takes concurrent calls.
      propagators: device.capabilities.concurrentCalls ? CPUThreads.count : 1))

    // On the fused path (CPU, float32, trace) every Gram block is fixed-order
    // (structured layers in the fused kernel, explicit ones, convolutions, in
    // ntk_explicit_gram_f32), and so are the features: forward and backward
    // products through the fixed-order GEMM, the conv features, input
    // cotangent and pooling in C. Θ is then the same bits on every CPU.
    // Debug builds compile the C kernels unoptimised: there BLAS computes the
    // products (the same bits across NTKIT_ISA and NTKIT_THREADS on one CPU,
    // not across CPUs), so that a debug Gram stays quick enough to interrupt.
    let fixedOrder = fused && ntk_cpu_kernels_optimized() != 0
    let store = try GramFeatureStore<T>(network: network, parameters: parameters, plan: plan, memory: memory,
                                        inputs1: inputs1, inputs2: inputs2, device: device,
                                        fixedOrderProducts: fixedOrder)
    let writer = try GramTileWriter<T>(store: store, device: device, mode: options.mode, outputs: m,
                                       symmetric: symmetric, memory: memory, output: output, ldo: ldo)
    let block = memory.blockSize
    let schedule = GramTileSchedule(n1: n1, n2: n2, symmetric: symmetric, tileSize: block)
    if memory.residentFeatures {
      try store.computeResident()
      writer.packResident(rowBlocks: GramTileSchedule.blocks(n1, tileSize: block),
                          columnBlocks: GramTileSchedule.blocks(n2, tileSize: block), blockSize: block,
                          budgetLeft: options.memoryBudget - memory.neededBytes)
    }
    for (done, t) in schedule.tiles.enumerated() {
      FaultInjection.pause("compute")
      if options.isCancelled?() == true { throw NTKitError.interrupted }
      let s1 = try store.rows(t.rows)
      let s2 = try store.columns(t.columns)
      try writer.write(t, s1: s1, s2: s2)
      options.progress?(done + 1, schedule.tiles.count)
    }
    try device.synchronize()
    let mirrorStart = monotonicSeconds()
    if symmetric && !writer.mirrorsItself { mirrorUpperToLower(output, rows: n1 * mult, block: block * mult) }
    return GramReport(plan: store.plannedLayers(plan), blockSize: block, residentFeatures: memory.residentFeatures,
                      tiles: schedule.tiles.count, flops: plan.flops(n1: n1, n2: n2, symmetric: symmetric),
                      seconds: monotonicSeconds() - start, temporaryBytes: memory.neededBytes + writer.packedBytes,
                      featureSeconds: store.seconds, mirrorSeconds: monotonicSeconds() - mirrorStart,
                      device: device.identifier)
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
