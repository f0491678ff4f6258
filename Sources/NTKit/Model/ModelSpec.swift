/// A network as written in a `*.model.json` file (`formats.md`): the shape of
/// one sample, the parameterization, and the list of layers.
public struct ModelSpec: Sendable, Equatable {
  public var inputShape: [Int]
  public var parameterization: Parameterization
  public var layers: [LayerSpec]
  /// For each entry of `layers`, its index in the file's `layers` list, which
  /// names its weights (`layers.{i}.kernel`). The same as the position unless
  /// a dense/conv2d `"activation"` shorthand was expanded: the activation then
  /// shares the index of the layer it follows. Empty means the identity.
  public var fileIndices: [Int]

  public init(inputShape: [Int], parameterization: Parameterization = .standard, layers: [LayerSpec],
              fileIndices: [Int] = []) {
    self.inputShape = inputShape
    self.parameterization = parameterization
    self.layers = layers
    self.fileIndices = fileIndices.count == layers.count && fileIndices != Array(layers.indices) ? fileIndices : []
  }

  /// The file index of `layers[k]` (see `fileIndices`).
  /// Layers appended after `fileIndices` was set continue its numbering.
  public func fileIndex(_ k: Int) -> Int {
    guard let last = fileIndices.last else { return k }
    return k < fileIndices.count ? fileIndices[k] : last + 1 + (k - fileIndices.count)
  }

  /// True when `layers[k]` came from the `"activation"` key of the layer before it.
  public func isShorthandActivation(_ k: Int) -> Bool { k > 0 && fileIndex(k) == fileIndex(k - 1) }
}

/// How a parameter enters the forward pass.
public enum Parameterization: String, Sendable, Equatable, CaseIterable {
  /// `y = x·W + b`; initialised with LeCun normal kernels N(0, 1/fan_in), zero biases.
  case standard
  /// `y = (w_std/√fan_in)·x·W + b_std·b`; initialised with N(0, 1) kernels and biases.
  case ntk
}

/// One entry of a spec's `layers` list.
public enum LayerSpec: Sendable, Equatable {
  /// w_std / b_std are float64: a float32 copy would limit a float64 NTK to ~1e-7 relative.
  case dense(units: Int, bias: Bool, wStd: Double, bStd: Double)
  case conv2d(filters: Int, kernel: [Int], stride: [Int], padding: Padding, bias: Bool, wStd: Double, bStd: Double)
  case avgpool2d(window: [Int], stride: [Int])
  case flatten
  case activation(Activation)

  public static func dense(_ units: Int, bias: Bool = true) -> LayerSpec {
    .dense(units: units, bias: bias, wStd: 1, bStd: 1)
  }

  public var typeName: String {
    switch self {
    case .dense: return "dense"
    case .conv2d: return "conv2d"
    case .avgpool2d: return "avgpool2d"
    case .flatten: return "flatten"
    case .activation(let a): return a.name
    }
  }
}

/// Convolution padding, as XLA/Flax define it.
public enum Padding: String, Sendable, Equatable {
  case valid, same
}
