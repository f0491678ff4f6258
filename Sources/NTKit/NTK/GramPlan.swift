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
      var strategy: LayerStrategy = g.isDense && structuredCost <= explicitCost ? .structured : .explicit
      if let force, g.isDense || force == .explicit { strategy = force }
      let width = strategy == .structured ? g.inC + m * g.outC : m * pl
      layers.append(Layer(layerIndex: k, affine: a, strategy: strategy,
                          flopsPerPair: strategy == .structured ? structuredCost : explicitCost,
                          featureWidth: width))
      total += width
      // forward + backward (M cotangents) + Jacobian block formation
      perSample += 2 * Double(g.positions * g.patch * g.outC) * Double(1 + m)
      if strategy == .explicit { perSample += 2 * Double(m * g.positions * pl) }
    }
    self.layers = layers
    featuresPerSample = total
    flopsPerSample = perSample
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
      return "layer \(l.layerIndex) (\(kind), P=\(l.affine.parameterCount)): \(l.strategy.rawValue), \(format(l.flopsPerPair, "%.0f")) FLOP per pair"
    }
  }
}
