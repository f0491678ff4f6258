/// The per-sample features of an NTK Gram computation on the device, by layer:
/// layer inputs A (samples × fan_in) then output cotangents G (samples ×
/// cotangent width) for structured layers, Jacobian blocks Φ (samples ×
/// M·P, trace; samples·M × P, full) for explicit ones. Each layer's block
/// starts at `layers[i].offset` and holds `capacity` sample slots.
///
/// Resident (`memory.residentFeatures`): X₁ at slots [0, N₁) and, when X₂ is
/// another set, X₂ at [N₁, N₁ + N₂) of one store, computed once by
/// `computeResident()`. Streamed: `rows` recomputes X₁'s block into the first
/// store (only when the row block changes) and `columns` X₂'s block into the
/// second, both at slot 0.
///
/// On a device that takes concurrent calls (`capabilities.concurrentCalls`,
/// the CPU) one propagator per core (`memory.propagators`) runs whole sample
/// blocks on its own thread: a block's passes stay in that core's caches and
/// no primitive waits for the others. Blocks are `memory.propagationBatch`
/// samples whatever the worker count, so the features (hence Θ) do not
/// depend on it.
final class GramFeatureStore<T: DeviceScalar> {
  let device: any ComputeDevice
  /// One propagator, or one per worker (each `capacity` samples).
  let propagators: [Propagator<T>]
  var propagator: Propagator<T> { propagators[0] }
  /// The plan's layers with their offsets in a store.
  let layers: [GramPlan.Layer]
  /// Sample slots per layer block.
  let capacity: Int
  let first: DeviceBuffer<T>
  /// The first store itself when resident.
  let second: DeviceBuffer<T>
  let resident: Bool
  /// Seconds spent computing features (forward, backward, Jacobian blocks).
  private(set) var seconds = 0.0

  private let inputs1: Tensor, inputs2: Tensor?
  private let mode: NTKMode, outputs: Int
  private let lastLayer: AffineLayer?
  /// Row norms ‖W_L[c, :]‖ of the last layer's kernel, for compressed cotangents.
  private let lastLayerNorms: DeviceBuffer<T>?
  private var loadedRows: Range<Int>?

  /// `fixedOrderProducts`: forward and backward through the fixed-order host GEMM.
  init(network: Network, parameters: ModelParameters, plan: GramPlan, memory: GramMemoryPlan,
       inputs1: Tensor, inputs2: Tensor?, device: any ComputeDevice, fixedOrderProducts: Bool) throws {
    self.device = device
    self.inputs1 = inputs1
    self.inputs2 = inputs2
    mode = plan.mode
    outputs = network.outputSize
    resident = memory.residentFeatures
    capacity = memory.storeCapacity
    let theta = try device.upload(parameters: parameters, as: T.self)
    propagators = try (0..<memory.propagators).map { _ in
      let p = try Propagator<T>(network: network, parameters: theta, device: device,
                                capacity: memory.propagationBatch, multiplicity: network.outputSize)
      p.fixedOrderProducts = fixedOrderProducts
      return p
    }
    var layers = plan.layers
    var offset = 0
    for i in layers.indices {
      layers[i].offset = offset
      offset += capacity * layers[i].featureWidth
    }
    self.layers = layers
    lastLayer = network.affineLayers.last
    if layers.contains(where: \.compressedCotangent), let last = lastLayer {
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
    } else {
      lastLayerNorms = nil
    }
    first = try device.makeBuffer(T.self, count: offset)
    second = resident ? first : try device.makeBuffer(T.self, count: offset)
  }

  /// Slot of X₂'s first sample in a resident store.
  var secondSetSlot: Int { inputs2 == nil ? 0 : inputs1.rows }

  /// Resident: every sample's features, once.
  func computeResident() throws {
    precondition(resident, "computeResident needs a resident store")
    try compute(inputs1, 0..<inputs1.rows, into: first, slot: 0)
    if let inputs2 { try compute(inputs2, 0..<inputs2.rows, into: first, slot: inputs1.rows) }
  }

  /// The slot in `first` of X₁'s samples `range` (computed first when streamed).
  func rows(_ range: Range<Int>) throws -> Int {
    if resident { return range.lowerBound }
    if loadedRows != range {
      try compute(inputs1, range, into: first, slot: 0)
      loadedRows = range
    }
    return 0
  }

  /// The slot in `second` of X₂'s samples `range` (computed first when streamed).
  func columns(_ range: Range<Int>) throws -> Int {
    if resident { return secondSetSlot + range.lowerBound }
    try compute(inputs2 ?? inputs1, range, into: second, slot: 0)
    return 0
  }

  /// Features of samples `range` of `x` into `store` at sample slot `slot`:
  /// blocks of a propagator's capacity, dealt round-robin to the propagators.
  private func compute(_ x: Tensor, _ range: Range<Int>, into store: DeviceBuffer<T>, slot: Int) throws {
    let t0 = monotonicSeconds()
    defer { seconds += monotonicSeconds() - t0 }
    let per = propagator.capacity
    let blocks = stride(from: range.lowerBound, to: range.upperBound, by: per).map {
      $0..<min(range.upperBound, $0 + per)
    }
    let workers = min(propagators.count, blocks.count)
    if workers <= 1 {
      for b in blocks { try compute(x, b, with: propagator, into: store, slot: slot + (b.lowerBound - range.lowerBound)) }
      return
    }
    // One error slot per worker (each writes only its own).
    let failures = UnsafeMutableBufferPointer<Error?>.allocate(capacity: workers)
    failures.initialize(repeating: nil)
    defer { failures.deinitialize(); failures.deallocate() }
    parallelWorkers(workers) { w in
      do {
        for b in stride(from: w, to: blocks.count, by: workers).map({ blocks[$0] }) {
          try compute(x, b, with: propagators[w], into: store, slot: slot + (b.lowerBound - range.lowerBound))
        }
      } catch {
        failures[w] = error
      }
    }
    if let error = failures.lazy.compactMap({ $0 }).first { throw error }
  }

  /// Features of the samples `rows` of `x` (at most the propagator's capacity) into `store` from slot `s`.
  private func compute(_ x: Tensor, _ rows: Range<Int>, with propagator: Propagator<T>, into store: DeviceBuffer<T>,
                       slot s: Int) throws {
    let m = outputs
    let n = rows.count
    try device.write(rows: rows, of: x, to: propagator.input.view)
    try propagator.forward(n: n)
    var layerIndex = layers.count - 1
    try propagator.backward(n: n, seed: nil) { k, a, g in
      while layers[layerIndex].layerIndex != k { layerIndex -= 1 }
      let l = layers[layerIndex]
      let base = store.view(at: l.offset)
      switch l.strategy {
      case .structured:
        let fi = a.geometry.inC, fo = a.geometry.outC
        try device.copy(propagator.layerInput(k), to: base.advanced(by: s * fi), count: n * fi)
        if l.compressedCotangent, let norms = lastLayerNorms {
          // U[i, c] = w_L·‖W_L[c, :]‖·σ'(z_ic)
          let u = base.advanced(by: capacity * fi + s * fo)
          try device.fill(u, count: n * fo, value: 0)
          try device.addRowVector(u, rows: n, cols: fo, vector: norms.view, scale: T(lastLayer!.weightScale))
          if let act = l.activationAbove {
            try device.activationBackward(act, z: propagator.layerInput(k + 1), cotangent: u, n: n, m: 1, width: fo)
          }
        } else {
          try device.copy(g, to: base.advanced(by: capacity * fi + s * m * fo), count: n * m * fo)
        }
      case .explicit where mode == .trace:
        // One row of M·P features per sample, in `traceFeatures`' order (a dot product needs only the same order).
        try propagator.traceFeatures(k, a, cotangent: g, n: n, into: base.advanced(by: s * l.featureWidth),
                                     ld: l.featureWidth)
      case .explicit:
        try propagator.jacobianBlock(k, a, cotangent: g, n: n, into: base.advanced(by: s * l.featureWidth),
                                     ld: a.parameterCount)
      }
    }
  }
}

extension GramFeatureStore {
  /// `plan` with this store's layer offsets (what `GramReport.plan` shows).
  func plannedLayers(_ plan: GramPlan) -> GramPlan {
    var p = plan
    p.layers = layers
    return p
  }
}
