import XCTest
@testable import NTKit

/// Properties of the tiled Gram that any correct engine must satisfy, on a
/// random dense net (7→33→17→3, tanh) and a small conv net, with N = 37
/// samples (not a multiple of any block size tried). Symmetry and tiling are
/// checked against unmirrored computations (`computeLowerTriangle`), since the
/// default path mirrors the upper triangle and is symmetric by construction.
final class NTKPropertyTests: XCTestCase {
  struct Net {
    let name: String
    let network: Network
    let parameters: ModelParameters
    var m: Int { network.outputSize }
  }

  static func makeNet(_ name: String, _ spec: ModelSpec, seed: UInt64) throws -> Net {
    let network = try Network(spec: spec, source: name)
    var parameters = ModelParameters(initializing: network, seed: seed)
    // Non-zero biases everywhere (standard init leaves them at zero).
    var rng = SeededRandom(seed: seed, stream: "bias")
    for a in network.affineLayers where a.hasBias {
      for k in 0..<a.geometry.outC { parameters.values[a.biasOffset + k] = Float(0.3 * rng.normal()) }
    }
    return Net(name: name, network: network, parameters: parameters)
  }

  static let dense = try! makeNet("dense 7-33-17-3 tanh", ModelSpec(inputShape: [7], layers: [
    .dense(33), .activation(.tanh), .dense(17), .activation(.tanh), .dense(3),
  ]), seed: 11)

  static let conv = try! makeNet("conv 6x6x2", ModelSpec(inputShape: [6, 6, 2], parameterization: .ntk, layers: [
    .conv2d(filters: 4, kernel: [3, 3], stride: [1, 1], padding: .same, bias: true, wStd: 1.2, bStd: 0.4),
    .activation(.tanh),
    .avgpool2d(window: [2, 2], stride: [2, 2]),
    .conv2d(filters: 3, kernel: [2, 2], stride: [1, 1], padding: .valid, bias: true, wStd: 1, bStd: 1),
    .activation(.softplus), .flatten,
    .dense(units: 5, bias: true, wStd: 1, bStd: 1), .activation(.tanh), .dense(2),
  ]), seed: 12)

  static let nets = [dense, conv]

  static func inputs(_ net: Net, n: Int, seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed, stream: "inputs")
    let shape = [n] + net.network.spec.inputShape
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) })
  }

  @discardableResult
  static func kernel<T: DeviceScalar>(
    _ net: Net, _ x1: Tensor, _ x2: Tensor? = nil, _ options: GramOptions = GramOptions(), as: T.Type = Float.self,
    report: UnsafeMutablePointer<GramReport>? = nil
  ) throws -> [T] {
    let mult = options.mode == .trace ? 1 : net.m
    var out = [T](repeating: .nan, count: x1.rows * mult * (x2 ?? x1).rows * mult)
    let r = try out.withUnsafeMutableBufferPointer {
      try NTKGram.compute(network: net.network, parameters: net.parameters, inputs1: x1, inputs2: x2,
                          device: CPUDevice.shared, options: options, output: $0)
    }
    report?.pointee = r
    return out
  }

  static func options(_ mode: NTKMode, block: Int? = nil, lower: Bool = false, force: LayerStrategy? = nil) -> GramOptions {
    var o = GramOptions(mode: mode)
    o.blockSize = block
    o.computeLowerTriangle = lower
    o.forceStrategy = force
    return o
  }

  /// Float32 round-off between two orders of summation: far below 2e-5, far above a wrong tile.
  let tight = 2e-6
  let n = 37

  // (i) Tiling does not change the result; mirrored == unmirrored.
  func testBlockSizeIndependence() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 1)
      for mode in [NTKMode.trace, .full] {
        let reference = try Self.kernel(net, x, nil, Self.options(mode))
        XCTAssertFalse(reference.contains { $0.isNaN }, "\(net.name) \(mode): every entry written")
        for block in [1, 5, 16, 64] {
          let mirrored = try Self.kernel(net, x, nil, Self.options(mode, block: block))
          let unmirrored = try Self.kernel(net, x, nil, Self.options(mode, block: block, lower: true))
          assertClose(mirrored, reference, tolerance: tight, "\(net.name) \(mode) block \(block) vs default")
          assertClose(unmirrored, reference, tolerance: tight, "\(net.name) \(mode) block \(block) unmirrored vs default")
        }
      }
    }
  }

  // (ii) K(X₁, X₂) = K(X₂, X₁)ᵀ = the matching block of K([X₁; X₂]).
  func testCrossKernelTransposeAndJointBlock() throws {
    for net in Self.nets {
      let x1 = Self.inputs(net, n: n, seed: 2), x2 = Self.inputs(net, n: 23, seed: 3)
      let joint = Tensor(shape: [x1.rows + x2.rows] + Array(x1.shape.dropFirst()), data: x1.data + x2.data)
      for mode in [NTKMode.trace, .full] {
        let mu = mode == .trace ? 1 : net.m
        let n1 = x1.rows * mu, n2 = x2.rows * mu, nj = n1 + n2
        for block in [nil, 8] {
          let k12 = try Self.kernel(net, x1, x2, Self.options(mode, block: block))
          let k21 = try Self.kernel(net, x2, x1, Self.options(mode, block: block))
          let kj = try Self.kernel(net, joint, nil, Self.options(mode, block: block, lower: true))
          var k21t = [Float](repeating: 0, count: n1 * n2)
          var block12 = [Float](repeating: 0, count: n1 * n2), block21t = block12
          for i in 0..<n1 {
            for j in 0..<n2 {
              k21t[i * n2 + j] = k21[j * n1 + i]
              block12[i * n2 + j] = kj[i * nj + n1 + j]
              block21t[i * n2 + j] = kj[(n1 + j) * nj + i]
            }
          }
          let what = "\(net.name) \(mode) block \(block.map(String.init) ?? "auto")"
          assertClose(k12, k21t, tolerance: tight, "\(what): K(X1,X2) vs K(X2,X1)ᵀ")
          assertClose(k12, block12, tolerance: tight, "\(what): K(X1,X2) vs joint upper block")
          assertClose(k12, block21t, tolerance: tight, "\(what): K(X1,X2) vs joint lower block ᵀ")
        }
      }
    }
  }

  // (iii) Symmetric (unmirrored) and positive semi-definite.
  func testSymmetricPositiveSemidefinite() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 4)
      for mode in [NTKMode.trace, .full] {
        let size = n * (mode == .trace ? 1 : net.m)
        let k = try Self.kernel(net, x, nil, Self.options(mode, block: 6, lower: true))
        var transposed = k
        for i in 0..<size { for j in 0..<size { transposed[i * size + j] = k[j * size + i] } }
        assertClose(k, transposed, tolerance: tight, "\(net.name) \(mode) symmetry")
        let lambda = try SymmetricEigen.eigenvalues(k.map(Double.init), n: size)
        XCTAssertGreaterThan(lambda[0], 0, "\(net.name) \(mode) λ_max")
        XCTAssertGreaterThanOrEqual(lambda.last!, -1e-5 * lambda[0], "\(net.name) \(mode) λ_min = \(lambda.last!)")
      }
    }
  }

  // (iv) Structured == explicit strategy (conv layers stay explicit; dense layers switch).
  func testStructuredEqualsExplicit() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 5)
      for mode in [NTKMode.trace, .full] {
        let s = try Self.kernel(net, x, nil, Self.options(mode, block: 10, lower: true, force: .structured))
        let e = try Self.kernel(net, x, nil, Self.options(mode, block: 10, lower: true, force: .explicit))
        assertClose(s, e, tolerance: tight, "\(net.name) \(mode) structured vs explicit")
      }
      let plan = GramPlan(network: net.network, mode: .trace, force: .structured)
      XCTAssertTrue(plan.layers.contains { $0.strategy == .structured }, "\(net.name): a structured layer exists")
    }
  }

  // (v) Trace mode = Σ_a full[i, a, j, a].
  func testTraceIsSumOfFullDiagonalBlocks() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 6)
      let m = net.m
      let trace = try Self.kernel(net, x, nil, Self.options(.trace))
      let full: [Double] = try Self.kernel(net, x, nil, Self.options(.full), as: Double.self)
      var summed = [Double](repeating: 0, count: n * n)
      for i in 0..<n { for j in 0..<n { for a in 0..<m { summed[i * n + j] += full[((i * m + a) * n + j) * m + a] } } }
      assertClose(trace, summed, tolerance: tight, "\(net.name) trace vs Σ_a full")
    }
  }

  // (vi) J Jᵀ (from NetworkEvaluation.jacobian) = the Gram, full and trace.
  func testJacobianContractionEqualsGram() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 7)
      let m = net.m, p = net.network.parameterCount, rows = n * m
      let j: [Double] = try NetworkEvaluation.jacobian(network: net.network, parameters: net.parameters, inputs: x,
                                                       device: CPUDevice.shared, as: Double.self)
      XCTAssertEqual(j.count, rows * p)
      var jjt = [Double](repeating: 0, count: rows * rows)
      for r in 0..<rows {
        for c in r..<rows {
          var s = 0.0
          for q in 0..<p { s += j[r * p + q] * j[c * p + q] }
          jjt[r * rows + c] = s
          jjt[c * rows + r] = s
        }
      }
      assertClose(try Self.kernel(net, x, nil, Self.options(.full)), jjt, tolerance: tight, "\(net.name) full vs J Jᵀ")
      var trace = [Double](repeating: 0, count: n * n)
      for i in 0..<n { for k in 0..<n { for a in 0..<m { trace[i * n + k] += jjt[(i * m + a) * rows + k * m + a] } } }
      assertClose(try Self.kernel(net, x, nil, Self.options(.trace)), trace, tolerance: tight, "\(net.name) trace vs J Jᵀ")
    }
  }

  // (vii) A budget below one block is refused, saying how much is needed.
  func testMemoryBudgetTooSmall() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 8)
      for block in [nil, 1] {
        var o = Self.options(.trace, block: block)
        o.memoryBudget = 1000
        XCTAssertThrowsError(try Self.kernel(net, x, nil, o), "\(net.name)") { error in
          guard case NTKitError.memoryBudget(let needed, let budget, _) = error else {
            return XCTFail("\(net.name): expected a memory-budget error, got \(error)")
          }
          XCTAssertEqual(budget, 1000)
          XCTAssertGreaterThan(needed, budget)
          let text = "\(error)"
          XCTAssertTrue(text.contains(formatBytes(needed)), "says what is needed: \(text)")
          XCTAssertTrue(text.contains(formatBytes(1000)), "says the budget: \(text)")
          XCTAssertTrue(text.contains("memory-budget"), "says what to change: \(text)")
        }
      }
    }
  }

  // (viii) A budget that only fits streamed feature blocks gives the default result.
  func testStreamingMatchesResident() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 9)
      for mode in [NTKMode.trace, .full] {
        var report = GramReport(plan: GramPlan(network: net.network, mode: mode), blockSize: 0, residentFeatures: false,
                                tiles: 0, flops: 0, seconds: 0, temporaryBytes: 0)
        let reference = try Self.kernel(net, x, nil, Self.options(mode), report: &report)
        XCTAssertTrue(report.residentFeatures, "\(net.name) \(mode): default keeps features resident")
        let featureBytes = report.plan.featuresPerSample * MemoryLayout<Float>.stride
        let fixed = report.temporaryBytes - n * featureBytes
        for block in [nil, 5] {
          var o = Self.options(mode, block: block)
          o.memoryBudget = fixed + 20 * featureBytes  // two blocks of ≤ 10 samples, not all 37
          o.forceStreaming = true  // a smaller budget also shrinks the propagation blocks
          let streamed = try Self.kernel(net, x, nil, o, report: &report)
          XCTAssertFalse(report.residentFeatures, "\(net.name) \(mode) block \(String(describing: block)): streamed")
          if block != nil { XCTAssertGreaterThan(report.tiles, 1) }
          XCTAssertLessThanOrEqual(report.temporaryBytes, o.memoryBudget)
          assertClose(streamed, reference, tolerance: tight, "\(net.name) \(mode) streamed (block \(report.blockSize))")
          o.computeLowerTriangle = true
          assertClose(try Self.kernel(net, x, nil, o), reference, tolerance: tight, "\(net.name) \(mode) streamed unmirrored")
          let x2 = Self.inputs(net, n: 13, seed: 10)
          var o2 = o
          o2.computeLowerTriangle = false
          let cross = try Self.kernel(net, x, x2, o2, report: &report)
          XCTAssertFalse(report.residentFeatures)
          assertClose(cross, try Self.kernel(net, x, x2, Self.options(mode)), tolerance: tight,
                      "\(net.name) \(mode) streamed cross kernel")
        }
      }
    }
  }

  // (ix) Float64 and float32 agree to float32 accuracy.
  func testFloat64MatchesFloat32() throws {
    for net in Self.nets {
      let x = Self.inputs(net, n: n, seed: 11)
      for mode in [NTKMode.trace, .full] {
        let f: [Float] = try Self.kernel(net, x, nil, Self.options(mode))
        let d: [Double] = try Self.kernel(net, x, nil, Self.options(mode), as: Double.self)
        assertClose(f, d, tolerance: 1e-5, "\(net.name) \(mode) f32 vs f64")
      }
    }
  }
}
