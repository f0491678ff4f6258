import CNTKitCPU

/// Parameter-free element-wise activations of `formats.md`.
public enum Activation: Sendable, Equatable, Hashable {
  case relu, tanh, sigmoid
  /// Exact, erf-based GELU: x·Φ(x) (not the tanh approximation).
  case gelu
  case softplus, silu
  /// `alpha` is kept in float64 so that a float64 computation sees the spec's value, not its float32 rounding.
  case leakyRelu(alpha: Double)
  case identity

  /// The spec names, as in `formats.md`.
  public static let names = ["relu", "tanh", "sigmoid", "gelu", "softplus", "silu", "leaky_relu", "identity"]

  public var name: String {
    switch self {
    case .relu: return "relu"
    case .tanh: return "tanh"
    case .sigmoid: return "sigmoid"
    case .gelu: return "gelu"
    case .softplus: return "softplus"
    case .silu: return "silu"
    case .leakyRelu: return "leaky_relu"
    case .identity: return "identity"
    }
  }

  /// Small integer code: `NTK_ACT_*` of the one code table (ntkit_codes.h), which the
  /// CFastMLP kernels use and the OpenCL kernels mirror (activation.cl).
  public var code: Int32 {
    switch self {
    case .identity: return NTK_ACT_IDENTITY
    case .relu: return NTK_ACT_RELU
    case .tanh: return NTK_ACT_TANH
    case .sigmoid: return NTK_ACT_SIGMOID
    case .gelu: return NTK_ACT_GELU
    case .softplus: return NTK_ACT_SOFTPLUS
    case .silu: return NTK_ACT_SILU
    case .leakyRelu: return NTK_ACT_LEAKY_RELU
    }
  }

  /// The leaky-ReLU slope as float32; 0 for the other activations.
  public var alpha: Float { Float(slope) }

  /// The leaky-ReLU slope in float64 (kernel arguments convert it once to
  /// the scalar type: going through `alpha` would give a float64 run the
  /// float32 rounding of 0.2, a 3e-9 relative error); 0 for the others.
  public var slope: Double {
    if case .leakyRelu(let a) = self { return a }
    return 0
  }

  /// σ(z).
  @inline(__always)
  public func apply<T: DeviceScalar>(_ z: T) -> T {
    switch self {
    case .identity: return z
    case .relu: return z > 0 || z.isNaN ? z : 0  // NaN passes: an overflow is never hidden as 0
    case .tanh: return T.tanh(z)
    case .sigmoid: return 1 / (1 + T.exp(-z))
    case .gelu: return z * (1 + T.erf(z * T(0.7071067811865476 as Double))) / 2
    case .softplus:
      // log(1 + e^z), stable for large |z|.
      return z > 0 ? z + T.log1p(T.exp(-z)) : T.log1p(T.exp(z))
    case .silu: return z / (1 + T.exp(-z))
    case .leakyRelu(let a): return z >= 0 ? z : T(a) * z
    }
  }

  /// σ'(z). At the kink of relu/leaky_relu the derivative of z > 0 is taken
  /// (0 for relu at 0), as `jax.nn.relu` does.
  @inline(__always)
  public func derivative<T: DeviceScalar>(_ z: T) -> T {
    switch self {
    case .identity: return 1
    case .relu: return z > 0 ? 1 : 0
    case .tanh:
      let t = T.tanh(z)
      return 1 - t * t
    case .sigmoid:
      let s = 1 / (1 + T.exp(-z))
      return s * (1 - s)
    case .gelu:
      let cdf = (1 + T.erf(z * T(0.7071067811865476 as Double))) / 2
      let pdf = T.exp(-z * z / 2) * T(0.3989422804014327 as Double)
      return cdf + z * pdf
    case .softplus: return 1 / (1 + T.exp(-z))
    case .silu:
      let s = 1 / (1 + T.exp(-z))
      return s * (1 + z * (1 - s))
    case .leakyRelu(let a): return z >= 0 ? 1 : T(a)
    }
  }
}
