/// Geometry of a 2-D convolution over NHWC data. A dense layer is the special
/// case of a 1×1 convolution over a 1×1 image with `inC = fan_in` channels, so
/// that forward, backward and Jacobian code is written once for both.
public struct ConvGeometry: Sendable, Equatable {
  public var inH: Int, inW: Int, inC: Int
  public var kh: Int, kw: Int, sh: Int, sw: Int
  public var padTop: Int, padLeft: Int
  public var outH: Int, outW: Int, outC: Int

  /// Output positions per sample (`outH·outW`).
  public var positions: Int { outH * outW }
  /// Length of one im2col patch, the kernel's fan-in (`kh·kw·inC`).
  public var patch: Int { kh * kw * inC }
  public var inputSize: Int { inH * inW * inC }
  public var outputSize: Int { outH * outW * outC }
  /// True for a dense layer: im2col is the identity.
  public var isDense: Bool { inH == 1 && inW == 1 && kh == 1 && kw == 1 }

  public static func dense(fanIn: Int, units: Int) -> ConvGeometry {
    ConvGeometry(inH: 1, inW: 1, inC: fanIn, kh: 1, kw: 1, sh: 1, sw: 1, padTop: 0, padLeft: 0,
                 outH: 1, outW: 1, outC: units)
  }
}

/// Geometry of a 2-D average pool (valid padding) over NHWC data.
public struct PoolGeometry: Sendable, Equatable {
  public var inH: Int, inW: Int, channels: Int
  public var wh: Int, ww: Int, sh: Int, sw: Int
  public var outH: Int, outW: Int
  public var inputSize: Int { inH * inW * channels }
  public var outputSize: Int { outH * outW * channels }
}

/// A layer with parameters (dense or conv2d), in the flattened order of
/// `golden/README.md`: kernel (HWIO / [fan_in, units], row-major), then bias.
public struct AffineLayer: Sendable, Equatable {
  public var specIndex: Int
  public var geometry: ConvGeometry
  public var hasBias: Bool
  /// Factor on x·W in the forward pass: 1 (standard) or w_std/√fan_in (ntk).
  public var weightScale: Double
  /// Factor on b in the forward pass: 1 (standard) or b_std (ntk).
  public var biasScale: Double
  /// Offset of the kernel in the flat parameter vector.
  public var kernelOffset: Int
  public var kernelCount: Int { geometry.patch * geometry.outC }
  /// Offset of the bias (valid when `hasBias`).
  public var biasOffset: Int { kernelOffset + kernelCount }
  public var parameterCount: Int { kernelCount + (hasBias ? geometry.outC : 0) }
  public var kernelName: String { "layers.\(specIndex).kernel" }
  public var biasName: String { "layers.\(specIndex).bias" }
  public var kernelShape: [Int] {
    geometry.isDense && !isConv ? [geometry.inC, geometry.outC] : [geometry.kh, geometry.kw, geometry.inC, geometry.outC]
  }
  public var isConv: Bool
}

/// One resolved layer of a network.
public enum NetworkLayer: Sendable, Equatable {
  case affine(AffineLayer)
  /// An activation over `width` values per sample.
  case activation(Activation, width: Int)
  case avgpool(PoolGeometry)
  case flatten
}

/// A model spec with every shape resolved and every parameter placed in the
/// flat parameter vector. Built by `Network(spec:)`, which checks that the
/// shapes chain.
public struct Network: Sendable, Equatable {
  public let spec: ModelSpec
  public let layers: [NetworkLayer]
  /// Values per input sample (product of `input_shape`).
  public let inputSize: Int
  /// Outputs per sample, M.
  public let outputSize: Int
  /// Number of parameters, P.
  public let parameterCount: Int

  public var affineLayers: [AffineLayer] {
    layers.compactMap { if case .affine(let a) = $0 { return a } else { return nil } }
  }

  /// Resolves shapes; `source` names the spec in error messages.
  public init(spec: ModelSpec, source: String = "model spec") throws {
    self.spec = spec
    func fail(_ reason: String) -> NTKitError { .invalidSpec(path: source, reason: reason) }
    guard !spec.inputShape.isEmpty, spec.inputShape.allSatisfy({ $0 > 0 }),
          spec.inputShape.count == 1 || spec.inputShape.count == 3 else {
      throw fail("input_shape must be [d] or [H, W, C] with positive sizes, found \(spec.inputShape)")
    }
    guard !spec.layers.isEmpty else { throw fail("layers is empty") }
    let hint = "make the network smaller"
    // Every size below is overflow-checked and held against this machine's memory.
    // `what` is built only for an error: `"\(spec.inputShape)"` describes an
    // array by reflection, whose first use scans the binary's conformances.
    func checkedSize(_ factors: [Int], _ what: @autoclosure () -> String) throws -> Int {
      guard let n = SizeCheck.product(factors) else {
        throw fail("\(what()) has \(factors.map(String.init).joined(separator: " × ")) values, which overflows")
      }
      do { try SizeCheck.require(SizeCheck.bytes(n, 4), for: "\(what()) (\(n) float32 values)", hint: hint) } catch let e as NTKitError {
        throw fail(e.description)
      }
      return n
    }
    _ = try checkedSize(spec.inputShape, "input_shape \(spec.inputShape)")
    var shape = spec.inputShape
    var resolved: [NetworkLayer] = []
    resolved.reserveCapacity(spec.layers.count)
    var offset = 0
    let ntk = spec.parameterization == .ntk
    func addParameters(_ total: Int, _ count: Int, _ at: String) throws -> Int {
      let (sum, o) = total.addingReportingOverflow(count)
      if o { throw fail("\(at): the parameter count overflows") }
      _ = try checkedSize([sum], "\(at): \(sum) parameters in total")
      return sum
    }
    for (index, layer) in spec.layers.enumerated() {
      let at = "layer \(spec.fileIndex(index)) (\(layer.typeName))"
      switch layer {
      case .dense(_, _, let wStd, let bStd), .conv2d(_, _, _, _, _, let wStd, let bStd):
        guard ntk || (wStd == 1 && bStd == 1) else {
          throw fail("\(at): w_std / b_std apply only under the ntk parameterization; under standard they would be ignored")
        }
      default: break
      }
      switch layer {
      case .dense(let units, let bias, let wStd, let bStd):
        guard units > 0 else { throw fail("\(at): units must be positive, found \(units)") }
        guard shape.count == 1 else {
          throw fail("\(at): dense needs a flat input, found shape \(shape); add a flatten layer before it")
        }
        _ = try checkedSize([shape[0] + (bias ? 1 : 0), units], "\(at): \(shape[0])→\(units) weights")
        let g = ConvGeometry.dense(fanIn: shape[0], units: units)
        let a = AffineLayer(
          specIndex: spec.fileIndex(index), geometry: g, hasBias: bias,
          weightScale: ntk ? Double(wStd) / Double(shape[0]).squareRoot() : 1, biasScale: ntk ? Double(bStd) : 1,
          kernelOffset: offset, isConv: false)
        offset = try addParameters(offset, a.parameterCount, at)
        resolved.append(.affine(a))
        shape = [units]
      case .conv2d(let filters, let kernel, let stride, let padding, let bias, let wStd, let bStd):
        guard shape.count == 3 else { throw fail("\(at): conv2d needs an [H, W, C] input, found shape \(shape)") }
        guard filters > 0, kernel.count == 2, kernel.allSatisfy({ $0 > 0 }),
              stride.count == 2, stride.allSatisfy({ $0 > 0 }) else {
          throw fail("\(at): needs filters > 0, kernel [kh, kw] and stride [sh, sw] of positive sizes")
        }
        let (h, w, c) = (shape[0], shape[1], shape[2])
        var g = ConvGeometry(inH: h, inW: w, inC: c, kh: kernel[0], kw: kernel[1], sh: stride[0], sw: stride[1],
                             padTop: 0, padLeft: 0, outH: 0, outW: 0, outC: filters)
        switch padding {
        case .valid:
          guard h >= kernel[0], w >= kernel[1] else {
            throw fail("\(at): kernel \(kernel) is larger than its input \(h)×\(w) with valid padding")
          }
          g.outH = (h - kernel[0]) / stride[0] + 1
          g.outW = (w - kernel[1]) / stride[1] + 1
        case .same:
          g.outH = (h + stride[0] - 1) / stride[0]
          g.outW = (w + stride[1] - 1) / stride[1]
          g.padTop = max((g.outH - 1) * stride[0] + kernel[0] - h, 0) / 2
          g.padLeft = max((g.outW - 1) * stride[1] + kernel[1] - w, 0) / 2
        }
        _ = try checkedSize([kernel[0], kernel[1], c, filters], "\(at): \(kernel[0])×\(kernel[1])×\(c)×\(filters) kernel")
        _ = try checkedSize([g.outH, g.outW, filters], "\(at): output \(g.outH)×\(g.outW)×\(filters)")
        _ = try checkedSize([g.outH, g.outW, g.patch], "\(at): im2col patches \(g.outH * g.outW)×\(g.patch)")
        let a = AffineLayer(
          specIndex: spec.fileIndex(index), geometry: g, hasBias: bias,
          weightScale: ntk ? Double(wStd) / Double(g.patch).squareRoot() : 1, biasScale: ntk ? Double(bStd) : 1,
          kernelOffset: offset, isConv: true)
        offset = try addParameters(offset, a.parameterCount, at)
        resolved.append(.affine(a))
        shape = [g.outH, g.outW, filters]
      case .avgpool2d(let window, let stride):
        guard shape.count == 3 else { throw fail("\(at): avgpool2d needs an [H, W, C] input, found shape \(shape)") }
        guard window.count == 2, window.allSatisfy({ $0 > 0 }), stride.count == 2, stride.allSatisfy({ $0 > 0 }) else {
          throw fail("\(at): needs window [h, w] and stride [sh, sw] of positive sizes")
        }
        guard shape[0] >= window[0], shape[1] >= window[1] else {
          throw fail("\(at): window \(window) is larger than its input \(shape[0])×\(shape[1])")
        }
        let p = PoolGeometry(inH: shape[0], inW: shape[1], channels: shape[2], wh: window[0], ww: window[1],
                             sh: stride[0], sw: stride[1],
                             outH: (shape[0] - window[0]) / stride[0] + 1, outW: (shape[1] - window[1]) / stride[1] + 1)
        resolved.append(.avgpool(p))
        shape = [p.outH, p.outW, p.channels]
      case .flatten:
        resolved.append(.flatten)
        shape = [shape.reduce(1, *)]
      case .activation(let act):
        resolved.append(.activation(act, width: shape.reduce(1, *)))
      }
    }
    guard shape.count == 1 else {
      throw fail("the last layer must give a flat output [M], found shape \(shape); add flatten and dense layers")
    }
    guard resolved.contains(where: { if case .affine = $0 { return true } else { return false } }) else {
      throw fail("the network has no dense or conv2d layer, so it has no parameters")
    }
    self.layers = resolved
    self.inputSize = spec.inputShape.reduce(1, *)
    self.outputSize = shape[0]
    self.parameterCount = offset
    self.widths = Network.widths(inputSize: inputSize, layers: resolved)
  }

  /// Values per sample flowing out of each layer (index k: after layer k);
  /// stored, so that per-layer loops stay linear in the layer count.
  public let widths: [Int]

  static func widths(inputSize: Int, layers: [NetworkLayer]) -> [Int] {
    var w = inputSize
    return layers.map { layer in
      switch layer {
      case .affine(let a): w = a.geometry.outputSize
      case .activation(_, let width): w = width
      case .avgpool(let p): w = p.outputSize
      case .flatten: break
      }
      return w
    }
  }
}
