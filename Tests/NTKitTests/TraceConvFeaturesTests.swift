import XCTest
@testable import NTKit

/// The trace-mode features of explicit (conv) layers (`Propagator.traceFeatures`:
/// one product per sample over all M outputs, features in another order than
/// the Jacobian's [n, m, P]) and the upper-triangle `syrk` of diagonal tiles
/// give the same trace NTK as the explicit-Jacobian route, Σ_a J_a J_aᵀ, on
/// conv nets with M > 1: with and without bias, stride 2 with "same" padding,
/// overlapping pools, dense layers forced explicit, several tile sizes; on
/// the CPU and (when there is a platform) on OpenCL. Channel counts of 16
/// and 32 take the CPU's float32 kernel, others its products.
final class TraceConvFeaturesTests: XCTestCase {
  typealias Net = NTKPropertyTests.Net

  static let withBias = try! NTKPropertyTests.makeNet("conv bias", ModelSpec(inputShape: [7, 7, 2], layers: [
    .conv2d(filters: 16, kernel: [3, 3], stride: [1, 1], padding: .valid, bias: true, wStd: 1, bStd: 1),
    .activation(.relu), .avgpool2d(window: [2, 2], stride: [2, 2]),
    .conv2d(filters: 32, kernel: [2, 2], stride: [1, 1], padding: .valid, bias: true, wStd: 1, bStd: 1),
    .activation(.relu), .flatten, .dense(6), .activation(.relu), .dense(3),
  ]), seed: 21)

  static let noBias = try! NTKPropertyTests.makeNet("conv no bias", ModelSpec(inputShape: [6, 6, 1], parameterization: .ntk, layers: [
    .conv2d(filters: 3, kernel: [3, 3], stride: [1, 1], padding: .same, bias: false, wStd: 1.3, bStd: 1),
    .activation(.tanh), .avgpool2d(window: [2, 2], stride: [2, 2]),
    .conv2d(filters: 4, kernel: [2, 2], stride: [1, 1], padding: .valid, bias: false, wStd: 1, bStd: 1),
    .activation(.softplus), .flatten, .dense(4, bias: false),
  ]), seed: 22)

  /// Stride 2 with "same" padding, an overlapping pool (window 3, stride 2), the first conv without bias.
  static let strided = try! NTKPropertyTests.makeNet("conv stride 2 same", ModelSpec(inputShape: [9, 8, 3], parameterization: .ntk, layers: [
    .conv2d(filters: 4, kernel: [3, 2], stride: [2, 2], padding: .same, bias: false, wStd: 1.2, bStd: 1),
    .activation(.gelu), .avgpool2d(window: [3, 2], stride: [1, 2]),
    .conv2d(filters: 16, kernel: [2, 2], stride: [2, 1], padding: .same, bias: true, wStd: 1, bStd: 0.7),
    .activation(.tanh), .flatten, .dense(2),
  ]), seed: 23)

  static let nets = [withBias, noBias, strided]
  let n = 29

  /// Σ_a J_a(x_i)·J_a(x_j) from `NetworkEvaluation.jacobian` ([n, m, P] order), in float64.
  func jacobianTrace(_ net: Net, _ x: Tensor, device: any ComputeDevice = CPUDevice.shared) throws -> [Double] {
    let m = net.m, p = net.network.parameterCount
    let j: [Float] = try NetworkEvaluation.jacobian(network: net.network, parameters: net.parameters, inputs: x,
                                                    device: device, as: Float.self)
    var out = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for k in i..<n {
        var s = 0.0
        for a in 0..<m {
          let r1 = (i * m + a) * p, r2 = (k * m + a) * p
          for q in 0..<p { s += Double(j[r1 + q]) * Double(j[r2 + q]) }
        }
        out[i * n + k] = s
        out[k * n + i] = s
      }
    }
    return out
  }

  func gram(_ net: Net, _ x: Tensor, block: Int?, force: LayerStrategy? = nil, lower: Bool = false,
            device: any ComputeDevice = CPUDevice.shared) throws -> [Float] {
    var options = NTKPropertyTests.options(.trace, block: block, lower: lower, force: force)
    var out = [Float](repeating: .nan, count: n * n)
    _ = try out.withUnsafeMutableBufferPointer {
      try NTKGram.compute(network: net.network, parameters: net.parameters, inputs1: x, device: device,
                          options: options, output: $0)
    }
    return out
  }

  func testTraceFeaturesMatchJacobianRoute() throws {
    for net in Self.nets {
      XCTAssertGreaterThan(net.m, 1)
      XCTAssertTrue(GramPlan(network: net.network, mode: .trace).layers.contains { $0.strategy == .explicit })
      let x = NTKPropertyTests.inputs(net, n: n, seed: 5)
      let reference = try jacobianTrace(net, x)
      // Whole tile, tiles of 8 (diagonal and off-diagonal, the last ones partial), every tile computed whole.
      for block in [nil, 8, 13] as [Int?] {
        assertClose(try gram(net, x, block: block), reference, tolerance: 1e-5, "\(net.name) block \(block ?? 0)")
      }
      assertClose(try gram(net, x, block: 8, lower: true), reference, tolerance: 1e-5, "\(net.name) unmirrored")
      // Dense layers explicit too: positions = 1 in `traceFeatures`.
      assertClose(try gram(net, x, block: 8, force: .explicit), reference, tolerance: 1e-5, "\(net.name) all explicit")
    }
  }

  func testSymmetricTilesAreExactlySymmetric() throws {
    let net = Self.withBias
    let x = NTKPropertyTests.inputs(net, n: n, seed: 6)
    let k = try gram(net, x, block: 10)
    for i in 0..<n { for j in 0..<i { XCTAssertEqual(k[i * n + j], k[j * n + i], "(\(i), \(j))") } }
  }

  func testOpenCLTraceFeaturesMatchJacobianRoute() throws {
    guard let cl = try OpenCLDeviceTests.shared.get() else { throw XCTSkip("no OpenCL platform on this machine") }
    for net in Self.nets {
      let x = NTKPropertyTests.inputs(net, n: n, seed: 5)
      let reference = try jacobianTrace(net, x)
      for block in [nil, 8] as [Int?] {
        assertClose(try gram(net, x, block: block, device: cl), reference, tolerance: 1e-4, "\(net.name) OpenCL block \(block ?? 0)")
      }
    }
  }

  /// The regrouping primitive itself, CPU against OpenCL, with and without sums.
  func testInterleaveCotangentsOnBothDevices() throws {
    let (n, m, positions, channels) = (3, 4, 7, 5)
    var random = SeededRandom(seed: 3)
    let g = (0..<n * m * positions * channels).map { _ in Float(random.normal()) }
    var expected = [Float](repeating: 0, count: g.count)
    var sums = [Float](repeating: 0, count: n * 30)
    for s in 0..<n { for a in 0..<m { for p in 0..<positions { for c in 0..<channels {
      let v = g[((s * m + a) * positions + p) * channels + c]
      expected[((s * positions + p) * m + a) * channels + c] = v
      sums[s * 30 + a * channels + c] += v
    } } } }
    sums = sums.map { $0 * 0.5 }
    var devices: [any ComputeDevice] = [CPUDevice.shared]
    if let cl = try OpenCLDeviceTests.shared.get() { devices.append(cl) }
    for device in devices {
      let source = try device.upload(g)
      let destination = try device.makeBuffer(Float.self, count: g.count)
      let out = try device.upload([Float](repeating: -1, count: n * 30))
      try device.interleaveCotangents(CotangentInterleaveOp(
        n: n, m: m, positions: positions, channels: channels, source: source.view, destination: destination.view,
        sums: out.view, ldSums: 30, scale: 0.5))
      XCTAssertEqual(try device.download(destination.view, count: g.count), expected, device.info.identifier)
      let got = try device.download(out.view, count: n * 30)
      for s in 0..<n {
        for e in 0..<m * channels { XCTAssertEqual(got[s * 30 + e], sums[s * 30 + e], accuracy: 1e-5) }
        for e in m * channels..<30 { XCTAssertEqual(got[s * 30 + e], -1, "untouched past the sums") }
      }
    }
  }

  /// The CPU's float32 kernel (AVX-512: strips of 32 and 16 channels, patch
  /// rows in blocks of 9, 8, 4 and 1; AVX2 and baseline: strips of 16, blocks
  /// of 9, 6, 3 and 1) against the products it replaces, with and without
  /// bias, and the same bits under every instruction set.
  func testCPUKernelMatchesProducts() throws {
    for patch in [13, 9, 18] { try checkCPUKernel(patch: patch) }
  }

  func checkCPUKernel(patch: Int) throws {
    let cpu = CPUDevice.shared
    let (n, m, positions, outC) = (3, 4, 37, 48)
    var random = SeededRandom(seed: 9)
    let x = (0..<n * positions * patch).map { _ in Float(random.normal()) }
    let g = (0..<n * m * positions * outC).map { _ in Float(random.normal()) }
    let ld = m * (patch + 1) * outC + 5
    for hasBias in [true, false] {
      var results: [[Float]] = []
      let isas = CPUInstructionSet.allCases.filter { $0 <= CPUInstructionSet.widestSupported }
      for run in isas.map(Optional.some) + [nil] {
        let patches = try cpu.upload(x), cotangent = try cpu.upload(g)
        let scratch = try cpu.makeBuffer(Float.self, count: g.count)
        let out = try cpu.upload([Float](repeating: -7, count: n * ld))
        let op = ConvFeaturesOp(n: n, m: m, positions: positions, patch: patch, outC: outC, patches: patches.view,
                                cotangent: cotangent.view, scratch: scratch.view, out: out.view, ld: ld,
                                weightScale: 0.75, biasScale: 1.5, hasBias: hasBias)
        if let isa = run {
          try CPUConfiguration.withInstructionSet(isa) { try cpu.convTraceFeatures(op) }
        } else {
          try cpu.convTraceFeaturesByProducts(op)
        }
        results.append(try cpu.download(out.view, count: n * ld))
      }
      for r in 1..<isas.count {
        XCTAssertEqual(results[r].map(\.bitPattern), results[0].map(\.bitPattern),
                       "patch \(patch), bias \(hasBias): \(isas[r].rawValue) bits differ")
      }
      assertClose(results[0], results[isas.count], tolerance: 1e-6, "patch \(patch), bias \(hasBias)")
      // Past each sample's features (and past the kernel part without bias) nothing is written.
      let written = m * (patch + (hasBias ? 1 : 0)) * outC
      for s in 0..<n { for e in written..<ld { XCTAssertEqual(results[0][s * ld + e], -7) } }
    }
  }

  /// `syrk` (split over the workers when large) against a GEMM: the upper
  /// triangle agrees, the CPU leaves the strict lower triangle alone; odd
  /// sizes, a row stride wider than the result, beta = 1.
  func testSyrkUpperTriangle() throws {
    let (n, k, ldc) = (301, 403, 307)
    var random = SeededRandom(seed: 4)
    let a = (0..<n * k).map { _ in Float(random.normal()) }
    let c0 = (0..<n * ldc).map { _ in Float(random.normal()) }
    var devices: [any ComputeDevice] = [CPUDevice.shared]
    if let cl = try OpenCLDeviceTests.shared.get() { devices.append(cl) }
    for device in devices {
      let av = try device.upload(a)
      let s = try device.upload(c0), g = try device.upload(c0)
      try device.syrk(SyrkOp(n: n, k: k, alpha: 0.5, a: av.view, lda: k, beta: 1, c: s.view, ldc: ldc))
      try device.gemm(SyrkOp(n: n, k: k, alpha: 0.5, a: av.view, lda: k, beta: 1, c: g.view, ldc: ldc).asGemm)
      let sr = try device.download(s.view, count: n * ldc), gr = try device.download(g.view, count: n * ldc)
      var upperS: [Float] = [], upperG: [Float] = []
      for i in 0..<n { for j in i..<n { upperS.append(sr[i * ldc + j]); upperG.append(gr[i * ldc + j]) } }
      assertClose(upperS, upperG, tolerance: 1e-5, "\(device.info.identifier) upper triangle")
      for i in 0..<n { for j in n..<ldc { XCTAssertEqual(sr[i * ldc + j], c0[i * ldc + j], "past the result") } }
      if device is CPUDevice {
        for i in 0..<n { for j in 0..<i { XCTAssertEqual(sr[i * ldc + j], c0[i * ldc + j], "lower (\(i), \(j))") } }
      }
    }
  }

  /// The CPU's float32 input-cotangent gather (strips of 32 and 16 input
  /// channels, an odd number of output channels, stride 2 × 1 with padding)
  /// against the product and col2im it replaces, the same bits under every
  /// instruction set.
  func testCPUInputCotangentMatchesProducts() throws {
    let cpu = CPUDevice.shared
    // 7 output columns: a block of 6 positions (AVX2) or 4 (AVX-512) and single ones.
    let g = ConvGeometry(inH: 7, inW: 8, inC: 48, kh: 3, kw: 2, sh: 2, sw: 1, padTop: 1, padLeft: 0,
                         outH: 4, outW: 7, outC: 7)
    let count = 5
    var random = SeededRandom(seed: 12)
    let cot = (0..<count * g.outputSize).map { _ in Float(random.normal()) }
    let w = (0..<g.patch * g.outC).map { _ in Float(random.normal()) }
    var results: [[Float]] = []
    let isas = CPUInstructionSet.allCases.filter { $0 <= CPUInstructionSet.widestSupported }
    for run in isas.map(Optional.some) + [nil] {
      let cotangent = try cpu.upload(cot), kernel = try cpu.upload(w)
      let scratch = try cpu.makeBuffer(Float.self, count: count * g.positions * g.patch)
      let input = try cpu.upload([Float](repeating: .nan, count: count * g.inputSize))
      let op = ConvInputCotangentOp(geometry: g, count: count, alpha: 0.8, cotangent: cotangent.view,
                                    kernel: kernel.view, patchScratch: scratch.view, input: input.view)
      if let isa = run {
        try CPUConfiguration.withInstructionSet(isa) { try cpu.convInputCotangent(op) }
      } else {
        try cpu.convInputCotangentByProducts(op)
      }
      results.append(try cpu.download(input.view, count: count * g.inputSize))
    }
    for r in 1..<isas.count {
      XCTAssertEqual(results[r].map(\.bitPattern), results[0].map(\.bitPattern), "\(isas[r].rawValue) bits differ")
    }
    assertClose(results[0], results[isas.count], tolerance: 1e-6, "input cotangent")
  }
}
