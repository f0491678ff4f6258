/// Forward and backward passes of a network on one device, for blocks of up
/// to `capacity` samples, with every buffer allocated once.
///
/// The backward pass carries `multiplicity` cotangents per sample, laid out
/// `[n, m, width]`: m = M (one per output, seeded with the identity) for
/// Jacobians and the NTK, m = 1 (the loss gradient) for training.
final class Propagator<T: DeviceScalar> {
  let network: Network
  let device: any ComputeDevice
  let capacity: Int
  let multiplicity: Int
  /// θ on the device, flat, in `ModelParameters` order.
  let parameters: DeviceBuffer<T>

  /// Network input, capacity × inputSize.
  let input: DeviceBuffer<T>
  /// Output of layer k (flatten layers share their input's buffer).
  private var values: [BufferView<T>] = []
  /// im2col patches per conv layer index (n·positions × patch).
  private var cols: [Int: DeviceBuffer<T>] = [:]
  private let pingPong: [DeviceBuffer<T>]
  private let patchCotangent: DeviceBuffer<T>?
  /// A row of ones (for bias sums as products).
  let ones: DeviceBuffer<T>
  /// Index of the first affine layer: the backward pass stops there.
  let lowestAffine: Int
  /// Forward and backward products in a fixed reduction order on the CPU in
  /// float32 (`CPUDevice.gemmFixedOrder`) instead of BLAS, whose kernels
  /// differ per CPU: the NTK's features are then the same bits everywhere.
  var fixedOrderProducts = false
  /// Transposed layer kernels for fixed-order backward products, by offset in `parameters`.
  private var transposedKernels: [Int: DeviceBuffer<Float>] = [:]

  /// A forward/backward product: fixed-order when asked for and possible.
  private func product(_ op: GemmOp<T>) throws {
    if fixedOrderProducts, T.self == Float.self, let cpu = device.fusedKernels, !op.transA, op.beta == 0 {
      var f = unsafeBitCast(op, to: GemmOp<Float>.self)
      if f.transB {
        // A backward product by a layer's kernel: its transpose, made once per propagator.
        f.b = try transposedKernel(f.b, rows: f.n, columns: f.k, ld: f.ldb, on: cpu)
        f.ldb = f.n
        f.transB = false
      }
      cpu.gemmFixedOrder(f)
    } else {
      try device.gemm(op)
    }
  }

  /// Bᵀ (columns × rows) of the rows × columns block of `parameters` at
  /// `b` (row stride ld), cached by offset: the parameters do not change
  /// while a propagator computes NTK features.
  private func transposedKernel(_ b: BufferView<Float>, rows: Int, columns: Int, ld: Int,
                                on cpu: CPUDevice) throws -> BufferView<Float> {
    if let cached = transposedKernels[b.offset] { return cached.view }
    let t = try cpu.makeBuffer(Float.self, count: rows * columns)
    let src = b.buffer.hostPointer! + b.offset, dst = t.hostPointer!
    for j in 0..<rows { for p in 0..<columns { dst[p * rows + j] = src[j * ld + p] } }
    transposedKernels[b.offset] = t
    return t.view
  }

  /// Bytes this propagator allocates per sample of capacity (for budgeting).
  static func bytesPerSample(_ network: Network, multiplicity m: Int) -> Int {
    var floats = network.inputSize
    var inWidth = network.inputSize
    var maxWidth = network.outputSize
    var maxPatch = 0
    for (k, layer) in network.layers.enumerated() {
      let width = network.widths[k]
      if case .flatten = layer {} else { floats += width }
      if case .affine(let a) = layer, !a.geometry.isDense {
        floats += a.geometry.positions * a.geometry.patch
        maxPatch = max(maxPatch, a.geometry.positions * a.geometry.patch)
      }
      maxWidth = max(maxWidth, width, inWidth)
      inWidth = width
    }
    floats += 2 * m * maxWidth + m * maxPatch
    return floats * MemoryLayout<T>.stride
  }

  init(network: Network, parameters: DeviceBuffer<T>, device: any ComputeDevice, capacity: Int, multiplicity: Int) throws {
    self.network = network
    self.device = device
    self.capacity = capacity
    self.multiplicity = multiplicity
    self.parameters = parameters
    input = try device.makeBuffer(T.self, count: capacity * network.inputSize)
    var previous = input.view
    var maxWidth = max(network.inputSize, network.outputSize)
    var maxPatch = 0
    for (k, layer) in network.layers.enumerated() {
      let width = network.widths[k]
      maxWidth = max(maxWidth, width)
      switch layer {
      case .flatten:
        values.append(previous)
      default:
        if case .affine(let a) = layer, !a.geometry.isDense {
          cols[k] = try device.makeBuffer(T.self, count: capacity * a.geometry.positions * a.geometry.patch)
          maxPatch = max(maxPatch, a.geometry.positions * a.geometry.patch)
        }
        let buffer = try device.makeBuffer(T.self, count: capacity * width)
        values.append(buffer.view)
        previous = buffer.view
      }
    }
    pingPong = try (0..<2).map { _ in try device.makeBuffer(T.self, count: capacity * multiplicity * maxWidth) }
    patchCotangent = maxPatch > 0 ? try device.makeBuffer(T.self, count: capacity * multiplicity * maxPatch) : nil
    var maxPositions = 1
    for a in network.affineLayers { maxPositions = max(maxPositions, a.geometry.positions) }
    ones = try device.upload([T](repeating: 1, count: maxPositions))
    lowestAffine = network.layers.firstIndex { if case .affine = $0 { return true } else { return false } } ?? 0
  }

  /// The network output of the last forward pass, n × M.
  var output: BufferView<T> { values[values.count - 1] }

  /// The input of layer k.
  func layerInput(_ k: Int) -> BufferView<T> { k == 0 ? input.view : values[k - 1] }

  /// Patches (conv) or inputs (dense) of affine layer k, (n·positions) × patch.
  func patches(_ k: Int) -> BufferView<T> { cols[k]?.view ?? layerInput(k) }

  /// Runs the network on the first n rows of `input`.
  func forward(n: Int) throws {
    precondition(n <= capacity)
    for (k, layer) in network.layers.enumerated() {
      let x = layerInput(k), y = values[k]
      switch layer {
      case .affine(let a):
        let g = a.geometry
        let rows = n * g.positions
        let source: BufferView<T>
        if g.isDense {
          source = x
        } else {
          try device.im2col(g, input: x, cols: cols[k]!.view, n: n)
          source = cols[k]!.view
        }
        try product(GemmOp(m: rows, n: g.outC, k: g.patch, alpha: T(a.weightScale),
                               a: source, lda: g.patch, b: parameters.view(at: a.kernelOffset), ldb: g.outC,
                               beta: 0, c: y, ldc: g.outC))
        if a.hasBias {
          try device.addRowVector(y, rows: rows, cols: g.outC, vector: parameters.view(at: a.biasOffset),
                                  scale: T(a.biasScale))
        }
      case .activation(let act, let width):
        try device.activationForward(act, z: x, y: y, count: n * width)
      case .avgpool(let p):
        try device.avgPoolForward(p, input: x, output: y, n: n)
      case .flatten:
        break
      }
    }
  }

  /// Back-propagates `multiplicity` cotangents per sample from the output
  /// (`seed`: n·m × M, or nil for the identity, m = M) after a `forward(n:)`.
  /// At each affine layer, top to bottom, calls `visit(k, layer, G)` with G the
  /// cotangent at that layer's output, (n·m) × (positions·outC), [n, m, pos, outC].
  func backward(n: Int, seed: BufferView<T>?, visit: (Int, AffineLayer, BufferView<T>) throws -> Void) throws {
    let m = multiplicity
    var current = pingPong[0].view
    var spare = pingPong[1].view
    if let seed {
      try device.copy(seed, to: current, count: n * m * network.outputSize)
    } else {
      precondition(m == network.outputSize, "identity seed needs multiplicity M")
      try device.identityCotangent(current, n: n, m: m)
    }
    for k in stride(from: network.layers.count - 1, through: lowestAffine, by: -1) {
      switch network.layers[k] {
      case .affine(let a):
        try visit(k, a, current)
        guard k > lowestAffine else { return }
        let g = a.geometry
        if g.isDense {
          try product(GemmOp(transB: true, m: n * m, n: g.patch, k: g.outC, alpha: T(a.weightScale),
                             a: current, lda: g.outC, b: parameters.view(at: a.kernelOffset), ldb: g.outC,
                             beta: 0, c: spare, ldc: g.patch))
        } else {
          try device.convInputCotangent(ConvInputCotangentOp(
            geometry: g, count: n * m, alpha: T(a.weightScale), cotangent: current,
            kernel: parameters.view(at: a.kernelOffset), patchScratch: patchCotangent!.view, input: spare))
        }
        swap(&current, &spare)
      case .activation(let act, let width):
        try device.activationBackward(act, z: layerInput(k), cotangent: current, n: n, m: m, width: width)
      case .avgpool(let p):
        try device.avgPoolBackward(p, output: current, input: spare, n: n * m)
        swap(&current, &spare)
      case .flatten:
        break
      }
    }
  }

  /// Per-sample Jacobian block of affine layer k: out[i, a, :] = ∂f_a(x_i)/∂θ_l,
  /// laid out [n, m, P_l] with P_l in kernel-then-bias order. `G` is the
  /// cotangent that `backward` passed for this layer; out has row stride `ld`
  /// between (i, a) rows (P_l for a dense block, P for the whole Jacobian).
  func jacobianBlock(_ k: Int, _ a: AffineLayer, cotangent G: BufferView<T>, n: Int, into out: BufferView<T>, ld: Int) throws {
    let g = a.geometry, m = multiplicity
    let x = patches(k)
    // One batch over the samples per output a: uniform strides, so a device
    // can run each as a single launch (CPU: split over the cores).
    for out_a in 0..<m {
      // kernel: (patch × pos)·(pos × outC)
      try device.gemmBatched(BatchedGemmOp(
        op: GemmOp(transA: true, m: g.patch, n: g.outC, k: g.positions, alpha: T(a.weightScale),
                   a: x, lda: g.patch, b: G.advanced(by: out_a * g.positions * g.outC), ldb: g.outC,
                   beta: 0, c: out.advanced(by: out_a * ld), ldc: g.outC),
        count: n, strideA: g.positions * g.patch, strideB: m * g.positions * g.outC, strideC: m * ld))
      if a.hasBias {
        try device.gemmBatched(BatchedGemmOp(
          op: GemmOp(m: 1, n: g.outC, k: g.positions, alpha: T(a.biasScale),
                     a: ones.view, lda: g.positions, b: G.advanced(by: out_a * g.positions * g.outC), ldb: g.outC,
                     beta: 0, c: out.advanced(by: out_a * ld + a.kernelCount), ldc: g.outC),
          count: n, strideA: 0, strideB: m * g.positions * g.outC, strideC: m * ld))
      }
    }
  }

  /// Trace-mode features of affine layer k: per sample the m·P values of
  /// `jacobianBlock`, in another order — kernel part [patch][m][outC], then
  /// bias [m][outC] — computed for all m outputs at once
  /// (`ComputeDevice.convTraceFeatures`: one product per sample over the
  /// regrouped cotangents [pos][m·outC], or the CPU's own kernel) instead
  /// of m small products per sample.
  ///
  /// The order may differ from the documented [n, m, P] because the trace
  /// NTK only takes dot products of two samples' features, Σ_(a, θ) Φ₁Φ₂:
  /// a sum is the same for any order of its terms as long as both samples
  /// use the same one, which every sample here does. `ntk jacobian` and the
  /// full-mode NTK (which pair outputs a and b) keep `jacobianBlock`.
  func traceFeatures(_ k: Int, _ a: AffineLayer, cotangent G: BufferView<T>, n: Int, into out: BufferView<T>, ld: Int) throws {
    let g = a.geometry, m = multiplicity
    // The other ping-pong buffer is free while `backward` visits a layer.
    let scratch = (G.buffer === pingPong[0] ? pingPong[1] : pingPong[0]).view
    precondition(n * g.positions * m * g.outC <= scratch.buffer.count, "traceFeatures: scratch too small")
    try device.convTraceFeatures(ConvFeaturesOp(
      n: n, m: m, positions: g.positions, patch: g.patch, outC: g.outC, patches: patches(k), cotangent: G,
      scratch: scratch, out: out, ld: ld, weightScale: T(a.weightScale), biasScale: T(a.biasScale),
      hasBias: a.hasBias))
  }
}
