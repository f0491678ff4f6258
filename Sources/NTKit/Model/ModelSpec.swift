/// A network as written in a `*.model.json` file (`formats.md`): the shape of
/// one sample, the parameterization, and the list of layers.
public struct ModelSpec: Sendable, Equatable {
  public var inputShape: [Int]
  public var parameterization: Parameterization
  public var layers: [LayerSpec]

  public init(inputShape: [Int], parameterization: Parameterization = .standard, layers: [LayerSpec]) {
    self.inputShape = inputShape
    self.parameterization = parameterization
    self.layers = layers
  }
}

/// How a parameter enters the forward pass.
public enum Parameterization: String, Sendable, Equatable {
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
