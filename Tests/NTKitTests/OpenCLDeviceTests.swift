import XCTest
@testable import NTKit
@testable import NTKitBench
#if canImport(Glibc)
import Glibc
#endif

/// Relative error allowed for products and reductions in float32 (sums in a
/// different order than OpenBLAS), against the array's largest magnitude.
private let productTolerance = 1e-5
/// Element-wise maps (exp, erf, tanh…): strict OpenCL maths is within a few ulp.
private let elementwiseTolerance = 1e-5
/// Whole pipelines (Jacobians, NTK Gram) accumulate several products.
private let pipelineTolerance = 1e-4

/// Every primitive of `OpenCLDevice` against `CPUDevice` on awkward shapes,
/// then whole pipelines on both devices. Runs on PoCL in CI; skipped only
/// when the machine has no OpenCL platform at all.
final class OpenCLDeviceTests: XCTestCase {
  /// The first OpenCL device, nil when there is no platform; an error when a
  /// platform exists but the device fails to open.
  static let shared: Result<OpenCLDevice?, Error> = {
    if getenv("POCL_CACHE_DIR") == nil {
      setenv("POCL_CACHE_DIR", NSTemporaryDirectory() + "ntkit-pocl-cache", 1)
    }
    guard !DeviceSelector.enumerate().devices.isEmpty else { return .success(nil) }
    return Result { try DeviceSelector.make(.opencl, warn: { _ in }) as? OpenCLDevice }
  }()

  func openCL() throws -> OpenCLDevice {
    guard let device = try Self.shared.get() else { throw XCTSkip("no OpenCL platform on this machine") }
    return device
  }

  let cpu = CPUDevice.shared
  var random = SeededRandom(seed: 7)

  func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(random.uniform() * 2 - 1) } }

  /// Uploads `inputs` to both devices, runs `body` on each, and returns every
  /// buffer read back (CPU, OpenCL).
  func onBoth(_ inputs: [[Float]], _ body: (any ComputeDevice, [DeviceBuffer<Float>]) throws -> Void) throws
    -> (cpu: [[Float]], cl: [[Float]]) {
    let cl = try openCL()
    func run(_ device: any ComputeDevice) throws -> [[Float]] {
      let buffers = try inputs.map { try device.upload($0) }
      try body(device, buffers)
      try device.synchronize()
      return try zip(buffers, inputs).map { try device.download($0.0.view, count: $0.1.count) }
    }
    return (try run(cpu), try run(cl))
  }

  func assertClose(_ cl: [Float], _ reference: [Float], _ tolerance: Double, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(cl.count, reference.count, what, file: file, line: line)
    let scale = max(reference.map { Double(abs($0)) }.max() ?? 0, 1e-30)
    var worst = 0.0, at = -1
    for i in 0..<min(cl.count, reference.count) {
      let err = abs(Double(cl[i]) - Double(reference[i]))
      if !(err <= worst) { worst = err; at = i }
    }
    XCTAssert(worst <= tolerance * scale,
              "\(what): |Δ| = \(worst) at \(at) (OpenCL \(at >= 0 ? cl[at] : 0), CPU \(at >= 0 ? reference[at] : 0)), scale \(scale)",
              file: file, line: line)
  }

  func assertAllClose(_ r: (cpu: [[Float]], cl: [[Float]]), _ tolerance: Double, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    for (i, (c, g)) in zip(r.cpu, r.cl).enumerated() {
      assertClose(g, c, tolerance, "\(what), buffer \(i)", file: file, line: line)
    }
  }

  // MARK: Linear algebra

  func testGemmAwkwardShapes() throws {
    let cl = try openCL()
    let shapes = [(1, 1, 1), (1, 3, 5), (5, 1, 7), (37, 129, 3), (129, 67, 130), (64, 64, 64), (3, 129, 1), (70, 9, 0)]
    for variant in OpenCLDevice.GemmVariant.allCases {
      cl.forcedGemmVariant = variant
      defer { cl.forcedGemmVariant = nil }
      for (m, n, k) in shapes {
        for transA in [false, true] {
          for transB in [false, true] {
            for beta: Float in [0, 0.75] {
              let lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3
              let aRows = transA ? k : m, bRows = transB ? n : k
              let a = values(3 + max(aRows, 1) * lda), b = values(max(bRows, 1) * ldb), c = values(2 + m * ldc)
              let r = try onBoth([a, b, c]) { device, x in
                try device.gemm(GemmOp(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                       a: x[0].view(at: 3), lda: lda, b: x[1].view, ldb: ldb,
                                       beta: beta, c: x[2].view(at: 2), ldc: ldc))
              }
              assertClose(r.cl[2], r.cpu[2], productTolerance,
                          "gemm \(variant) m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) beta=\(beta)")
            }
          }
        }
      }
    }
  }

  func testGemmBatchedOneLaunch() throws {
    let cl = try openCL()
    let (m, n, k, count) = (37, 19, 65, 3)
    let a = values(count * m * k), b = values(k * n), c = values(count * m * n)
    let r = try onBoth([a, b, c]) { device, x in
      let batch = BatchedGemmOp(op: GemmOp(m: m, n: n, k: k, a: x[0].view, lda: k, b: x[1].view, ldb: n,
                                           c: x[2].view, ldc: n),
                                count: count, strideA: m * k, strideB: 0, strideC: m * n)
      try device.gemmBatched(batch)  // through `any ComputeDevice`: the fused launch on OpenCL
    }
    _ = cl
    assertClose(r.cl[2], r.cpu[2], productTolerance, "batched gemm")
  }

  func testNTKAccumulate() throws {
    let cl = try openCL()
    defer { cl.forcedBlockAccumulate = nil }
    for block in [false, true] {
      cl.forcedBlockAccumulate = block
      try checkNTKAccumulate(kernel: block ? "block" : "tiled")
    }
  }

  func checkNTKAccumulate(kernel: String) throws {
    // (rows1, rows2, multiplicity, ka, kg)
    let cases = [(1, 1, 1, 3, 1), (5, 37, 1, 7, 129), (17, 3, 3, 1, 3), (37, 37, 3, 16, 16), (20, 33, 2, 0, 5),
                 (1, 5, 4, 129, 1), (19, 23, 1, 50, 33)]
    for (r1, r2, mult, ka, kg) in cases {
      let ldo = r2 * mult + 3
      let inputs = [values(r1 * ka + 1), values(r2 * ka + 2), values(r1 * mult * kg), values(r2 * mult * kg + 4),
                    values(1 + r1 * mult * ldo)]
      let r = try onBoth(inputs) { device, x in
        try device.ntkAccumulate(NTKAccumulateOp(
          rows1: r1, rows2: r2, multiplicity: mult, ka: ka, kg: kg, scaleA: 0.3, c: 0.7,
          a1: x[0].view(at: 1), a2: x[1].view(at: 2), g1: x[2].view, g2: x[3].view(at: 4),
          out: x[4].view(at: 1), ldo: ldo))
      }
      assertClose(r.cl[4], r.cpu[4], productTolerance, "ntkAccumulate (\(kernel)) \(r1)×\(r2) mult \(mult) ka \(ka) kg \(kg)")
    }
  }

  func testRowAndColumnOps() throws {
    _ = try openCL()
    for (rows, cols) in [(1, 1), (5, 3), (37, 129)] {
      let r = try onBoth([values(rows * cols + 1), values(cols + 2), values(cols)]) { device, x in
        try device.addRowVector(x[0].view(at: 1), rows: rows, cols: cols, vector: x[1].view(at: 2), scale: 0.5)
        try device.columnSums(x[0].view(at: 1), rows: rows, cols: cols, scale: 0.25, into: x[2].view)
      }
      assertAllClose(r, productTolerance, "addRowVector/columnSums \(rows)×\(cols)")
    }
  }

  func testMemoryAndElementwise() throws {
    _ = try openCL()
    for count in [1, 3, 129, 1000] {
      let secondMoments = values(count).map { abs($0) }  // Adam's v is non-negative
      let r = try onBoth([values(count + 5), values(count + 1), values(count), values(count), values(count),
                          secondMoments]) { device, x in
        try device.fill(x[0].view(at: 5), count: count, value: 2.5)
        try device.copy(x[1].view(at: 1), to: x[0].view(at: 0), count: min(count, 4))
        try device.axpy(-0.5, x[2].view, x[3].view, count: count)
        try device.adamStep(AdamHyper(learningRate: 0.01, weightDecay: 0.1), step: 3, parameters: x[2].view,
                            gradients: x[3].view, m: x[4].view, v: x[5].view, count: count)
      }
      assertAllClose(r, elementwiseTolerance, "fill/copy/axpy/adam \(count)")
    }
    for (n, m) in [(1, 1), (5, 3), (2, 10)] {
      let r = try onBoth([values(n * m * m + 2)]) { device, x in
        try device.identityCotangent(x[0].view(at: 2), n: n, m: m)
      }
      XCTAssertEqual(r.cl[0], r.cpu[0], "identityCotangent n=\(n) m=\(m)")
    }
  }

  func testMakeBufferIsZero() throws {
    let cl = try openCL()
    let buffer = try cl.makeBuffer(Float.self, count: 333)
    XCTAssertEqual(try cl.download(buffer.view, count: 333), [Float](repeating: 0, count: 333))
  }

  // MARK: Layers

  func testActivations() throws {
    _ = try openCL()
    let all: [Activation] = [.identity, .relu, .tanh, .sigmoid, .gelu, .softplus, .silu, .leakyRelu(alpha: 0.1)]
    for act in all {
      for width in [1, 3, 129] {
        let (n, m) = (5, 3)
        var z = values(n * width).map { $0 * 6 }
        z[0] = 0
        let r = try onBoth([z, values(n * width), values(n * m * width)]) { device, x in
          try device.activationForward(act, z: x[0].view, y: x[1].view, count: n * width)
          try device.activationBackward(act, z: x[0].view, cotangent: x[2].view, n: n, m: m, width: width)
        }
        assertAllClose(r, elementwiseTolerance, "\(act.name) width \(width)")
      }
    }
  }

  func testIm2colCol2im() throws {
    _ = try openCL()
    let geometries = [
      ConvGeometry(inH: 5, inW: 6, inC: 3, kh: 3, kw: 3, sh: 1, sw: 1, padTop: 1, padLeft: 1, outH: 5, outW: 6, outC: 4),
      ConvGeometry(inH: 7, inW: 7, inC: 1, kh: 3, kw: 2, sh: 2, sw: 3, padTop: 0, padLeft: 0, outH: 3, outW: 2, outC: 2),
      ConvGeometry(inH: 4, inW: 4, inC: 2, kh: 2, kw: 2, sh: 2, sw: 2, padTop: 0, padLeft: 1, outH: 2, outW: 3, outC: 1),
    ]
    for g in geometries {
      let n = 2
      let r = try onBoth([values(n * g.inputSize + 1), values(n * g.positions * g.patch), values(n * g.inputSize)]) { device, x in
        try device.im2col(g, input: x[0].view(at: 1), cols: x[1].view, n: n)
        try device.col2im(g, cols: x[1].view, input: x[2].view, n: n)
      }
      assertAllClose(r, elementwiseTolerance, "im2col/col2im \(g)")
    }
  }

  func testAvgPool() throws {
    _ = try openCL()
    let pools = [
      PoolGeometry(inH: 4, inW: 6, channels: 3, wh: 2, ww: 2, sh: 2, sw: 2, outH: 2, outW: 3),
      PoolGeometry(inH: 5, inW: 5, channels: 1, wh: 3, ww: 2, sh: 1, sw: 2, outH: 3, outW: 2),
    ]
    for p in pools {
      let n = 3
      let r = try onBoth([values(n * p.inputSize), values(n * p.outputSize + 2), values(n * p.inputSize)]) { device, x in
        try device.avgPoolForward(p, input: x[0].view, output: x[1].view(at: 2), n: n)
        try device.avgPoolBackward(p, output: x[1].view(at: 2), input: x[2].view, n: n)
      }
      assertAllClose(r, elementwiseTolerance, "avgpool \(p)")
    }
  }

  // MARK: Selection

  func testRowDistances() throws {
    _ = try openCL()
    let metrics: [DistanceMetric] = [.mse, .l1, .l2, .lp(3), .cosine, .angular]
    for metric in metrics {
      for d in [1, 3, 129] {
        let n = 37
        var a = values(n * d + 1)
        for k in 0..<d { a[1 + k] = 0 }  // a zero row: cosine's 0/0 branch
        let r = try onBoth([a, values(n * d), values(n)]) { device, x in
          try device.rowDistances(metric, a: x[0].view(at: 1), b: x[1].view, out: x[2].view, n: n, d: d)
        }
        assertClose(r.cl[2], r.cpu[2], productTolerance, "rowDistances \(metric) d=\(d)")
      }
    }
  }

  func testArgmaxMaskedTiesAndNaN() throws {
    let cl = try openCL()
    for count in [1, 5, 257, 5000, 70000] {
      var v = values(count).map { ($0 * 4).rounded() }  // many ties
      if count > 3 { v[2] = .nan }
      let mask: [Float] = (0..<count).map { $0 % 3 == 1 ? 1 : 0 }
      let vc = try cpu.upload(v), mc = try cpu.upload(mask)
      let vg = try cl.upload(v), mg = try cl.upload(mask)
      let e1 = try cpu.argmax(vc.view, excluded: nil, count: count)
      let g1 = try cl.argmax(vg.view, excluded: nil, count: count)
      XCTAssertEqual(g1?.index, e1?.index, "argmax count \(count)")
      XCTAssertEqual(g1?.value, e1?.value, "argmax count \(count)")
      let e2 = try cpu.argmax(vc.view, excluded: mc.view, count: count)
      let g2 = try cl.argmax(vg.view, excluded: mg.view, count: count)
      XCTAssertEqual(g2?.index, e2?.index, "masked argmax count \(count)")
      XCTAssertEqual(g2?.value, e2?.value, "masked argmax count \(count)")
    }
    let v = try cl.upload([Float](repeating: 1, count: 10)), all = try cl.upload([Float](repeating: 1, count: 10))
    XCTAssertNil(try cl.argmax(v.view, excluded: all.view, count: 10))
    let nan = try cl.upload([Float](repeating: .nan, count: 3))
    XCTAssertEqual(try cl.argmax(nan.view, excluded: nil, count: 3)?.index, 0)
  }

  // MARK: Pipelines

  func denseNet() throws -> Network {
    try Network(spec: ModelSpec(inputShape: [7], layers: [
      .dense(16), .activation(.relu), .dense(16), .activation(.relu), .dense(3),
    ]))
  }

  func convNet() throws -> Network {
    try Network(spec: ModelSpec(inputShape: [6, 6, 2], layers: [
      .conv2d(filters: 4, kernel: [3, 3], stride: [1, 1], padding: .same, bias: true, wStd: 1, bStd: 1),
      .activation(.relu), .avgpool2d(window: [2, 2], stride: [2, 2]), .flatten, .dense(3),
    ]))
  }

  func inputs(_ network: Network, _ n: Int) -> Tensor {
    Tensor(shape: [n] + network.spec.inputShape, data: values(n * network.inputSize))
  }

  func testPipelinesMatchCPU() throws {
    let cl = try openCL()
    for (name, network) in [("dense", try denseNet()), ("conv", try convNet())] {
      let parameters = ModelParameters(initializing: network, seed: 3)
      let m = network.outputSize
      for n in [1, 5, 37] {
        let x1 = inputs(network, n)
        let fc = try NetworkEvaluation.forward(network: network, parameters: parameters, inputs: x1, device: cpu)
        let fg = try NetworkEvaluation.forward(network: network, parameters: parameters, inputs: x1, device: cl)
        assertClose(fg, fc, pipelineTolerance, "\(name) forward N=\(n)")
        let jc = try NetworkEvaluation.jacobian(network: network, parameters: parameters, inputs: x1, device: cpu)
        let jg = try NetworkEvaluation.jacobian(network: network, parameters: parameters, inputs: x1, device: cl)
        assertClose(jg, jc, pipelineTolerance, "\(name) jacobian N=\(n)")
        let x2 = inputs(network, 4)
        for mode in [NTKMode.trace, .full] {
          for block in [nil, 16] as [Int?] {
            for second in [false, true] {
              for strategy in [nil, LayerStrategy.explicit] as [LayerStrategy?] {
                var options = GramOptions(mode: mode)
                options.blockSize = block
                options.forceStrategy = strategy
                let mult = mode == .trace ? 1 : m
                let n2 = second ? x2.rows : n
                func gram(_ device: any ComputeDevice) throws -> [Float] {
                  var out = [Float](repeating: .nan, count: n * mult * n2 * mult)
                  _ = try out.withUnsafeMutableBufferPointer {
                    try NTKGram.compute(network: network, parameters: parameters, inputs1: x1,
                                        inputs2: second ? x2 : nil, device: device, options: options, output: $0)
                  }
                  return out
                }
                assertClose(try gram(cl), try gram(cpu), pipelineTolerance,
                            "\(name) NTK N=\(n) \(mode) block \(block.map(String.init) ?? "auto") inputs2 \(second) \(strategy.map(\.rawValue) ?? "auto")")
              }
            }
          }
        }
      }
    }
  }

  // MARK: Selection and fallback (no OpenCL needed)

  func testAutoFallsBackWithOneWarningWithoutPlatforms() throws {
    var warnings: [String] = []
    let device = try DeviceSelector.make(.auto, platforms: [], warn: { warnings.append($0) })
    XCTAssertEqual(device.info.kind, .cpu)
    XCTAssertEqual(warnings.count, 1)
    XCTAssertFalse(warnings.first?.contains("\n") ?? true)
  }

  func testExplicitOpenCLFailsClearlyWithoutPlatforms() {
    for choice in [DeviceChoice.opencl, .openclIndexed(platform: 0, device: 0)] {
      XCTAssertThrowsError(try DeviceSelector.make(choice, platforms: [], warn: { _ in XCTFail("no warning expected") })) {
        guard case NTKitError.noOpenCLPlatform(let hint) = $0 else { return XCTFail("wrong error \($0)") }
        XCTAssertTrue(hint.contains("OCL_ICD_VENDORS"), hint)
        XCTAssertTrue(hint.contains("pocl-opencl-icd"), hint)
      }
    }
  }

  func testAutoNeverPicksACPUOpenCLDevice() throws {
    let pocl = DeviceInfo(kind: .opencl, identifier: "opencl:0:0", name: "pthread-cpu", vendor: "PoCL",
                          computeUnits: 2, globalMemoryBytes: 1 << 30, supportsF64: true, isGPU: false, detail: "")
    var warnings: [String] = []
    let device = try DeviceSelector.make(.auto, platforms: [pocl], warn: { warnings.append($0) })
    XCTAssertEqual(device.info.kind, .cpu)
    XCTAssertEqual(warnings, [])
  }

  func testDeviceChoiceParsing() throws {
    XCTAssertEqual(try DeviceChoice(parsing: "auto"), .auto)
    XCTAssertEqual(try DeviceChoice(parsing: "CPU"), .cpu)
    XCTAssertEqual(try DeviceChoice(parsing: "opencl"), .opencl)
    XCTAssertEqual(try DeviceChoice(parsing: "opencl:1:2"), .openclIndexed(platform: 1, device: 2))
    for bad in ["gpu", "opencl:1", "opencl:a:b", "opencl:-1:0", ""] {
      XCTAssertThrowsError(try DeviceChoice(parsing: bad), bad)
    }
  }

  /// `auto` skips loading the platforms only where installed OpenCL
  /// platforms cannot reach a GPU (no GPU device node); an empty vendors
  /// folder still enumerates (and warns); a background probe gives the same
  /// list as a direct enumeration.
  func testProbeSkipAndBackgroundProbe() throws {
    let dir = NSTemporaryDirectory() + "ntkit-icd-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let saved = getenv("OCL_ICD_VENDORS").map { String(cString: $0) }
    defer { if let saved { setenv("OCL_ICD_VENDORS", saved, 1) } else { unsetenv("OCL_ICD_VENDORS") } }
    setenv("OCL_ICD_VENDORS", dir, 1)
    XCTAssertFalse(DeviceSelector.noGPUPossible(), "an empty vendors folder must enumerate (the no-platform warning)")
    FileManager.default.createFile(atPath: dir + "/pocl.icd", contents: Data("libpocl.so.2\n".utf8))
    let gpuNodes = ["/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dri", "/dev/mali0", "/dev/dxg"]
    let hasNode = gpuNodes.contains { FileManager.default.fileExists(atPath: $0) }
    XCTAssertEqual(DeviceSelector.noGPUPossible(), !hasNode)
    if !hasNode {
      XCTAssertEqual(DeviceSelector.autoChoice(), "cpu")
      var warnings: [String] = []
      XCTAssertEqual(try DeviceSelector.make(.auto, warn: { warnings.append($0) }).info.kind, .cpu)
      XCTAssertEqual(warnings, [])
    }
    if let saved { setenv("OCL_ICD_VENDORS", saved, 1) } else { unsetenv("OCL_ICD_VENDORS") }
    TestDevices.ensurePoCLCache()
    let direct = DeviceSelector.enumerateNow().devices.map(\.identifier)
    DeviceSelector.beginProbe(for: .opencl)
    XCTAssertEqual(DeviceSelector.enumerate().devices.map(\.identifier), direct)
    DeviceSelector.beginProbe(for: .opencl)
    DeviceSelector.endProbe()
    DeviceSelector.endProbe()
  }

  /// Under `OCL_ICD_VENDORS=<empty dir>` (CI's no-OpenCL run) the real
  /// enumeration fails: auto warns once and uses the CPU, opencl throws.
  func testRealEnumerationWithoutPlatform() throws {
    guard DeviceSelector.enumerate().devices.isEmpty else { throw XCTSkip("an OpenCL platform is present") }
    var warnings: [String] = []
    XCTAssertEqual(try DeviceSelector.make(.auto, warn: { warnings.append($0) }).info.kind, .cpu)
    XCTAssertEqual(warnings.count, 1)
    XCTAssertThrowsError(try DeviceSelector.make(.opencl, warn: { _ in })) {
      guard case NTKitError.noOpenCLPlatform(let hint) = $0 else { return XCTFail("wrong error \($0)") }
      XCTAssertTrue(hint.contains("OCL_ICD_VENDORS"), hint)
    }
  }

  func testListAllPutsCPUFirst() {
    let all = DeviceSelector.listAll()
    XCTAssertEqual(all.first?.identifier, "cpu")
    let auto = DeviceSelector.autoChoice()
    XCTAssertTrue(all.contains { $0.identifier == auto })
  }

  func testBrokenKernelReportsBuildLog() throws {
    let cl = try openCL()
    let dir = NSTemporaryDirectory() + "ntkit-broken-kernels-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "#define REAL float\n".write(toFile: dir + "/common.cl", atomically: true, encoding: .utf8)
    try "__kernel void ntk_fill(__global REAL *x) { this is not C; }\n"
      .write(toFile: dir + "/elementwise.cl", atomically: true, encoding: .utf8)
    setenv("NTKIT_KERNEL_DIR", dir, 1)
    defer { unsetenv("NTKIT_KERNEL_DIR") }
    let fresh = try OpenCLDevice(platform: Int(cl.info.identifier.split(separator: ":")[1]) ?? 0,
                                 device: Int(cl.info.identifier.split(separator: ":")[2]) ?? 0)
    let buffer = try fresh.makeBuffer(Float.self, count: 4)
    XCTAssertThrowsError(try fresh.fill(buffer.view, count: 4, value: 1)) {
      guard case NTKitError.kernelBuild(let file, let log) = $0 else { return XCTFail("wrong error \($0)") }
      XCTAssertEqual(file, "elementwise.cl")
      XCTAssertFalse(log.isEmpty)
      XCTAssertTrue(DeviceSelector.isRecoverable($0))
    }
  }

  func testDoubleWhenSupported() throws {
    let cl = try openCL()
    guard cl.supports(.f64) else {
      XCTAssertThrowsError(try cl.makeBuffer(Double.self, count: 1))
      return
    }
    let (m, n, k) = (37, 5, 129)
    let a = (0..<m * k).map { _ in random.uniform() - 0.5 }, b = (0..<k * n).map { _ in random.uniform() - 0.5 }
    func run(_ device: any ComputeDevice) throws -> [Double] {
      let x = try device.upload(a), y = try device.upload(b), z = try device.makeBuffer(Double.self, count: m * n)
      try device.gemm(GemmOp(m: m, n: n, k: k, a: x.view, lda: k, b: y.view, ldb: n, c: z.view, ldc: n))
      return try device.download(z.view, count: m * n)
    }
    let g = try run(cl), c = try run(cpu)
    for i in 0..<g.count { XCTAssertEqual(g[i], c[i], accuracy: 1e-12) }
  }

  func testGemmThroughputIsPositive() throws {
    let cl = try openCL()
    XCTAssertGreaterThan(try OpenCLBench.gemmGFLOPS(device: cl, n: 64), 0)
  }
}

/// `NTKIT_BENCH_GEMM=512,1024 swift test --filter OpenCLGemmBenchmark` prints
/// our SGEMM on OpenCL next to cblas_sgemm (CPUDevice) at each n. The timed
/// work runs in PoCL's and OpenBLAS's own compiled code, so a debug build of
/// the package gives representative figures. Skipped unless the variable is set.
final class OpenCLGemmBenchmark: XCTestCase {
  func testReportGemmThroughput() throws {
    guard let sizes = ProcessInfo.processInfo.environment["NTKIT_BENCH_GEMM"] else {
      throw XCTSkip("set NTKIT_BENCH_GEMM=512,1024 to run")
    }
    guard let cl = try OpenCLDeviceTests.shared.get() else { throw XCTSkip("no OpenCL platform on this machine") }
    for n in sizes.split(separator: ",").compactMap({ Int($0) }) {
      let ours = try OpenCLBench.gemmGFLOPS(device: cl, n: n)
      let blas = try OpenCLBench.gemmGFLOPS(device: CPUDevice.shared, n: n)
      print("SGEMM n=\(n): OpenCL \(cl.info.name) \(format(ours, "%.1f")) GFLOP/s; "
            + "OpenBLAS \(format(blas, "%.1f")) GFLOP/s; ratio \(format(ours / blas, "%.3f")) [\(cl.gemmTuning)]")
    }
  }
}
