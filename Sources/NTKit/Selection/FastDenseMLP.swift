import CFastMLP
import CNTKitCPU
import Glibc

/// A Float-only CPU fast path for small dense MLPs (dense layers with relu,
/// leaky-relu or identity activations), used by RND selection on the CPU
/// device. RND's matrices are 1–1000 rows × 32: at these sizes the generic
/// path's per-call costs (protocol dispatch, unspecialised generics, BLAS
/// set-up and thread wake-ups) dominate, so this path keeps every buffer
/// preallocated, calls no protocol and runs the register-blocked CFastMLP
/// kernels (no BLAS: measured with `ntk bench --rnd`, they beat OpenBLAS at
/// every RND shape, 1–2048 rows × ≤ 32), whose sums run in a fixed order: the
/// same bits on every x86-64 CPU and `NTKIT_ISA`.
final class FastDenseMLP {
  enum Act: Equatable {
    case identity, relu, leaky(Float)
    /// The kernels' (code, alpha): `NTK_ACT_*` of ntkit_codes.h, as `Activation.code`.
    var kernelArguments: (code: Int32, alpha: Float) {
      switch self {
      case .identity: return (NTK_ACT_IDENTITY, 0)
      case .relu: return (NTK_ACT_RELU, 0)
      case .leaky(let a): return (NTK_ACT_LEAKY_RELU, a)
      }
    }
  }

  struct Layer {
    let fanIn: Int, fanOut: Int
    let kernel: Int
    let bias: Int?
    let weightScale: Float, biasScale: Float
    let act: Act
  }

  let layers: [Layer]
  let inputSize: Int, outputSize: Int, parameterCount: Int
  let maxWidth: Int

  /// nil when the network has a layer this path does not handle.
  init?(network: Network) {
    var out: [Layer] = []
    var pending: AffineLayer?
    func flush(_ act: Act) {
      let a = pending!
      out.append(Layer(fanIn: a.geometry.patch, fanOut: a.geometry.outC, kernel: a.kernelOffset,
                       bias: a.hasBias ? a.biasOffset : nil, weightScale: Float(a.weightScale),
                       biasScale: Float(a.biasScale), act: act))
      pending = nil
    }
    for layer in network.layers {
      switch layer {
      case .affine(let a):
        guard a.geometry.isDense, !a.isConv else { return nil }
        if pending != nil { flush(.identity) }
        pending = a
      case .activation(let act, _):
        guard pending != nil else { return nil }
        switch act {
        case .relu: flush(.relu)
        case .identity: flush(.identity)
        case .leakyRelu(let alpha) where alpha > 0: flush(.leaky(Float(alpha)))
        default: return nil
        }
      case .flatten:
        guard pending == nil, out.isEmpty else { return nil }
      case .avgpool:
        return nil
      }
    }
    if pending != nil { flush(.identity) }
    guard !out.isEmpty else { return nil }
    layers = out
    inputSize = network.inputSize
    outputSize = network.outputSize
    parameterCount = network.parameterCount
    maxWidth = out.reduce(inputSize) { max($0, $1.fanOut) }
    guard out.first!.fanIn == inputSize, out.last!.fanOut == outputSize else { return nil }
  }

  // MARK: Kernels

  /// y[n × fo] = act(ws·x[n × fi]·W + bs·b), W = θ[kernel] (fi × fo, row-major).
  @inline(__always)
  func affineForward(_ l: Layer, theta: UnsafePointer<Float>, x: UnsafePointer<Float>, n: Int,
                     y: UnsafeMutablePointer<Float>) {
    let (code, alpha) = l.act.kernelArguments
    ntk_fm_affine_forward(x, n, l.fanIn, theta + l.kernel, l.fanOut, l.weightScale, l.bias.map { theta + $0 }, l.biasScale,
                          code, alpha, y)
  }

  /// Forward through every layer; `buffers[k]` receives layer k's output (n × fanOut).
  func forward(theta: UnsafePointer<Float>, x: UnsafePointer<Float>, n: Int, buffers: [UnsafeMutablePointer<Float>]) {
    var input = x
    for (k, l) in layers.enumerated() {
      affineForward(l, theta: theta, x: input, n: n, y: buffers[k])
      input = UnsafePointer(buffers[k])
    }
  }

  /// Forward with two ping-pong buffers (each n × maxWidth); returns the output pointer.
  func forwardPingPong(theta: UnsafePointer<Float>, x: UnsafePointer<Float>, n: Int,
                       a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
    var input = x
    var out = a, spare = b
    for l in layers {
      affineForward(l, theta: theta, x: input, n: n, y: out)
      input = UnsafePointer(out)
      swap(&out, &spare)
    }
    return spare
  }
}

/// The training state of the fast path: θ, gradient, Adam moments and
/// activation buffers for batches of up to `capacity` rows, allocated once.
final class FastMLPTrainer {
  let net: FastDenseMLP
  let theta: UnsafeMutablePointer<Float>
  let grad: UnsafeMutablePointer<Float>
  let m1: UnsafeMutablePointer<Float>
  let m2: UnsafeMutablePointer<Float>
  /// Transposed kernels (fanOut × fanIn) for the backward pass.
  let kernelT: UnsafeMutablePointer<Float>
  private(set) var capacity: Int
  private var acts: [UnsafeMutablePointer<Float>] = []
  private var cot: UnsafeMutablePointer<Float>
  private var cot2: UnsafeMutablePointer<Float>
  private var batchX: UnsafeMutablePointer<Float>
  private var batchY: UnsafeMutablePointer<Float>
  /// The layers as `ntk_fm_fit` reads them, the activation pointers and per-step Adam constants.
  private let cLayers: UnsafeMutablePointer<ntk_fm_layer>
  private let actPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
  private var stepLR: UnsafeMutablePointer<Float>
  private var stepInvC2: UnsafeMutablePointer<Float>
  private var stepCapacity = 0
  var adamSteps = 0

  init(net: FastDenseMLP, parameters: [Float], capacity: Int) {
    self.net = net
    let p = net.parameterCount
    theta = .allocate(capacity: p); theta.initialize(from: parameters, count: p)
    grad = .allocate(capacity: p); grad.initialize(repeating: 0, count: p)
    m1 = .allocate(capacity: p); m1.initialize(repeating: 0, count: p)
    m2 = .allocate(capacity: p); m2.initialize(repeating: 0, count: p)
    kernelT = .allocate(capacity: p); kernelT.initialize(repeating: 0, count: p)
    self.capacity = 0
    cot = .allocate(capacity: 1); cot2 = .allocate(capacity: 1)
    batchX = .allocate(capacity: 1); batchY = .allocate(capacity: 1)
    cLayers = .allocate(capacity: net.layers.count)
    for (k, l) in net.layers.enumerated() {
      let (code, alpha) = l.act.kernelArguments
      (cLayers + k).initialize(to: ntk_fm_layer(fanIn: l.fanIn, fanOut: l.fanOut, kernel: l.kernel, bias: l.bias ?? -1,
                                                weightScale: l.weightScale, biasScale: l.biasScale, act: code,
                                                alpha: alpha))
    }
    actPointers = .allocate(capacity: net.layers.count)
    actPointers.initialize(repeating: nil, count: net.layers.count)
    stepLR = .allocate(capacity: 1); stepInvC2 = .allocate(capacity: 1)
    ensureCapacity(max(capacity, 1))
  }

  deinit {
    for p in [theta, grad, m1, m2, kernelT, cot, cot2, batchX, batchY, stepLR, stepInvC2] { p.deallocate() }
    for a in acts { a.deallocate() }
    cLayers.deallocate(); actPointers.deallocate()
  }

  func ensureCapacity(_ n: Int) {
    guard n > capacity else { return }
    capacity = n
    for a in acts { a.deallocate() }
    acts = net.layers.map { UnsafeMutablePointer<Float>.allocate(capacity: n * $0.fanOut) }
    for (k, a) in acts.enumerated() { actPointers[k] = a }
    for p in [cot, cot2, batchX, batchY] { p.deallocate() }
    cot = .allocate(capacity: n * net.maxWidth)
    cot2 = .allocate(capacity: n * net.maxWidth)
    batchX = .allocate(capacity: n * net.inputSize)
    batchY = .allocate(capacity: n * net.outputSize)
  }

  var parameters: [Float] { Array(UnsafeBufferPointer(start: theta, count: net.parameterCount)) }

  /// Whether `Trainer.train` may use this path (`NTK_FAST_TRAIN=0` turns it off).
  static let enabled: Bool = {
    guard let s = getenv("NTK_FAST_TRAIN") else { return true }
    return String(cString: s) != "0"
  }()

  /// The network's output of the last step's forward pass (before its update), n × M.
  var lastOutput: UnsafePointer<Float> { UnsafePointer(acts[net.layers.count - 1]) }

  /// Copies the rows `order` of x/y into the batch buffers; returns them.
  func gather(x: UnsafePointer<Float>, y: UnsafePointer<Float>, order: ArraySlice<Int>)
    -> (UnsafePointer<Float>, UnsafePointer<Float>) {
    ensureCapacity(order.count)
    let d = net.inputSize, m = net.outputSize
    for (r, i) in order.enumerated() {
      (batchX + r * d).update(from: x + i * d, count: d)
      (batchY + r * m).update(from: y + i * m, count: m)
    }
    return (UnsafePointer(batchX), UnsafePointer(batchY))
  }

  func setParameters(_ values: [Float]) {
    precondition(values.count == net.parameterCount)
    theta.update(from: values, count: values.count)
  }

  func resetMoments() {
    m1.update(repeating: 0, count: net.parameterCount)
    m2.update(repeating: 0, count: net.parameterCount)
    adamSteps = 0
  }

  /// `steps` full-batch Adam steps of mse on n rows in one C call (`ntk_fm_fit`).
  private func fused(x: UnsafePointer<Float>, y: UnsafePointer<Float>, n: Int, steps: Int, hyper: AdamHyper) {
    if steps > stepCapacity {
      stepLR.deallocate(); stepInvC2.deallocate()
      stepLR = .allocate(capacity: steps); stepInvC2 = .allocate(capacity: steps)
      stepCapacity = steps
    }
    // Bias corrections exactly as `CPUDevice.adamStep` computes them.
    for s in 0..<steps {
      let t = Double(adamSteps + s + 1)
      let c1 = 1 - libm_pow(hyper.beta1, t), c2 = 1 - libm_pow(hyper.beta2, t)
      stepLR[s] = Float(hyper.learningRate / c1)
      stepInvC2[s] = Float(1 / c2)
    }
    adamSteps += steps
    ntk_fm_fit(cLayers, Int32(net.layers.count), theta, grad, m1, m2, net.parameterCount, x, y, n, net.outputSize,
               actPointers, cot, cot2, kernelT, Int32(steps), stepLR, stepInvC2, Float(hyper.beta1),
               Float(hyper.beta2), Float(hyper.epsilon), Float(hyper.weightDecay))
  }

  /// One full-batch Adam step of mse on n rows (x: n × d, y: n × M).
  func step(x: UnsafePointer<Float>, y: UnsafePointer<Float>, n: Int, hyper: AdamHyper) {
    fused(x: x, y: y, n: n, steps: 1, hyper: hyper)
  }

  /// `epochs` full-batch steps on the first n rows of x/y.
  func fitFullBatch(x: UnsafePointer<Float>, y: UnsafePointer<Float>, n: Int, epochs: Int, hyper: AdamHyper) {
    ensureCapacity(n)
    if epochs > 0 { fused(x: x, y: y, n: n, steps: epochs, hyper: hyper) }
  }

  /// One epoch of mini-batches of `batch` rows in `order`.
  func fitEpoch(x: UnsafePointer<Float>, y: UnsafePointer<Float>, order: [Int], batch: Int, hyper: AdamHyper) {
    ensureCapacity(batch)
    let d = net.inputSize, m = net.outputSize
    var lo = 0
    while lo < order.count {
      let b = min(batch, order.count - lo)
      for r in 0..<b {
        let i = order[lo + r]
        (batchX + r * d).update(from: x + i * d, count: d)
        (batchY + r * m).update(from: y + i * m, count: m)
      }
      step(x: batchX, y: batchY, n: b, hyper: hyper)
      lo += b
    }
  }
}
