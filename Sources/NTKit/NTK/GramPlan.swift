/// The per-layer strategies and the memory layout of an NTK Gram computation,
/// chosen from FLOP and memory estimates before any work starts.
public struct GramPlan: Sendable {
  public struct Layer: Sendable {
    public var layerIndex: Int
    public var affine: AffineLayer
    public var strategy: LayerStrategy
    /// FLOPs per pair of samples for the chosen strategy.
    public var flopsPerPair: Double
    /// Offset of this layer's features in a feature block of `capacity` samples.
    var offset: Int = 0
    /// Values per sample: A then G (structured) or Φ (explicit).
    public var featureWidth: Int
    var aWidth: Int { affine.geometry.inC }
    /// Trace mode, structured, and only an activation (or nothing) and the
    /// last dense layer above: Σ_a G_a G_aᵀ collapses to U Uᵀ with
    /// U[i, c] = w_L·‖W_L[c, :]‖·σ'(z_ic), fan_out wide instead of M·fan_out.
    public var compressedCotangent = false
    /// The activation between this layer and the last one, if any.
    var activationAbove: Activation?
    /// Width of the cotangent features per sample (after compression).
    var cotangentWidth: Int = 0
  }

  public let mode: NTKMode
  public let outputs: Int
  public var layers: [Layer]
  /// Feature values per sample, summed over layers.
  public let featuresPerSample: Int
  /// FLOPs to propagate one sample (forward + backward with M cotangents + Jacobian blocks).
  public let flopsPerSample: Double

  /// `force` overrides the FLOP-based choice where allowed (tests, benchmarks).
  public init(network: Network, mode: NTKMode, force: LayerStrategy? = nil) {
    self.mode = mode
    let m = network.outputSize
    outputs = m
    var layers: [Layer] = []
    var total = 0
    var perSample = 0.0
    for (k, layer) in network.layers.enumerated() {
      guard case .affine(let a) = layer else { continue }
      let g = a.geometry
      let pl = a.parameterCount
      let mm = mode == .trace ? Double(m) : Double(m * m)
      let explicitCost = 2 * mm * Double(pl)
      let structuredCost = 2 * Double(g.inC) + 2 * mm * Double(g.outC) + 2 * mm
      // An explicit layer is one more pass over the output tile (read and
      // write every entry) that the structured layers, fused into one pass,
      // do not make: count it as 4 FLOPs per pair (a dense layer to one
      // output, 2·fan_in + 4 vs 2·fan_in + 2, goes structured).
      let passCost = 4.0
      var strategy: LayerStrategy = g.isDense && structuredCost <= explicitCost + passCost ? .structured : .explicit
      if let force, g.isDense || force == .explicit { strategy = force }
      var layer = Layer(layerIndex: k, affine: a, strategy: strategy,
                        flopsPerPair: strategy == .structured ? structuredCost : explicitCost,
                        featureWidth: strategy == .structured ? g.inC + m * g.outC : m * pl)
      layer.cotangentWidth = m * g.outC
      if strategy == .structured, mode == .trace, m > 1, let above = GramPlan.onlyLastLayerAbove(network, k) {
        layer.compressedCotangent = true
        layer.activationAbove = above.activation
        layer.cotangentWidth = g.outC
        layer.featureWidth = g.inC + g.outC
        layer.flopsPerPair = 2 * Double(g.inC) + 2 * Double(g.outC) + 2
      }
      let width = layer.featureWidth
      layers.append(layer)
      total += width
      // forward + backward (M cotangents) + Jacobian block formation
      perSample += 2 * Double(g.positions * g.patch * g.outC) * Double(1 + m)
      if strategy == .explicit { perSample += 2 * Double(m * g.positions * pl) }
    }
    self.layers = layers
    featuresPerSample = total
    flopsPerSample = perSample
  }

  /// If the layers above affine layer k are at most one activation and then
  /// the network's last layer, a dense one, returns that activation.
  static func onlyLastLayerAbove(_ network: Network, _ k: Int) -> (activation: Activation?, last: AffineLayer)? {
    // At most two layers above: checked before anything is copied (linear in the layer count).
    guard network.layers.count - (k + 1) <= 2 else { return nil }
    let rest = Array(network.layers[(k + 1)...])
    var activation: Activation?
    var i = 0
    if i < rest.count, case .activation(let act, _) = rest[i] { activation = act; i += 1 }
    guard i == rest.count - 1, case .affine(let last) = rest[i], last.geometry.isDense, !last.isConv else { return nil }
    return (activation, last)
  }

  /// FLOPs of the whole computation for an n1 × n2 Gram (symmetric: upper triangle).
  public func flops(n1: Int, n2: Int, symmetric: Bool) -> Double {
    let pairs = symmetric ? Double(n1) * Double(n1 + 1) / 2 : Double(n1) * Double(n2)
    let perPair = layers.reduce(0) { $0 + $1.flopsPerPair }
    return pairs * perPair + flopsPerSample * Double(symmetric ? n1 : n1 + n2)
  }

  /// One line per layer, for `--verbose`.
  public var description: [String] {
    layers.map { l in
      let g = l.affine.geometry
      let kind = l.affine.isConv ? "conv2d \(g.kh)×\(g.kw)×\(g.inC)→\(g.outC)" : "dense \(g.inC)→\(g.outC)"
      let note = l.compressedCotangent ? " (cotangents compressed to \(l.cotangentWidth) per sample)" : ""
      return "layer \(l.layerIndex) (\(kind), P=\(l.affine.parameterCount)): \(l.strategy.rawValue)\(note), \(format(l.flopsPerPair, "%.0f")) FLOP per pair"
    }
  }
}
