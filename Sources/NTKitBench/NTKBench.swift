import NTKit
/// The benchmark harness shared by `ntk bench` and `Benchmarks/`: the
/// machine's SGEMM rate and the trace NTK of the paper's nets, timed in
/// process (compute only; `ntk gram` timed as a whole process is in
/// `Benchmarks/compare_nt.sh`).
public enum NTKBench {
  public struct GemmResult: Sendable {
    public var n: Int
    public var seconds: Double
    public var gflops: Double
  }

  public struct GramResult: Sendable {
    public var net: String
    public var n: Int
    public var parameters: Int
    public var seconds: Double
    public var entriesPerSecond: Double
    public var gflops: Double
    public var strategies: [LayerStrategy]
  }

  /// Best-of-`repeats` SGEMM C = A·B at n³ on the device (after a warm-up).
  public static func sgemm(device: any ComputeDevice, n: Int = 4096, repeats: Int = 3) throws -> GemmResult {
    guard n >= 1 else { throw NTKitError.invalidArgument("the sgemm size must be at least 1, found \(n)") }
    try SizeCheck.require(SizeCheck.product([3, n, n, 4]), for: "sgemm \(n)³ (--gemm-size \(n)): three \(n)×\(n) float32 matrices",
                          hint: "use a smaller --gemm-size")
    var rng = SeededRandom(seed: 1)
    let a = try device.upload((0..<n * n).map { _ in Float(rng.uniform() - 0.5) })
    let b = try device.upload((0..<n * n).map { _ in Float(rng.uniform() - 0.5) })
    let c = try device.makeBuffer(Float.self, count: n * n)
    let op = GemmOp<Float>(m: n, n: n, k: n, a: a.view, lda: n, b: b.view, ldb: n, c: c.view, ldc: n)
    try device.gemm(op)
    try device.synchronize()
    var best = Double.infinity
    for _ in 0..<repeats {
      let t0 = monotonicSeconds()
      try device.gemm(op)
      try device.synchronize()
      best = min(best, monotonicSeconds() - t0)
    }
    return GemmResult(n: n, seconds: best, gflops: 2 * Double(n) * Double(n) * Double(n) / best / 1e9)
  }

  /// Times the trace NTK of `net` on n seeded N(0, 1) inputs (best of
  /// `repeats`), into an output buffer allocated and touched beforehand.
  public static func gram(_ net: BenchmarkNets.Case, n: Int, device: any ComputeDevice, repeats: Int = 1,
                          memoryBudget: Int = GramOptions.defaultMemoryBudget) throws -> GramResult {
    let network = try Network(spec: net.spec, source: net.name)
    guard n >= 1 else { throw NTKitError.invalidArgument("the sample count must be at least 1, found \(n)") }
    let output = SizeCheck.product([n, n, 4]), inputs = SizeCheck.product([n, network.inputSize, 4])
    try SizeCheck.require(output.flatMap { o in inputs.flatMap { i in o.addingReportingOverflow(i).overflow ? nil : o + i } },
                          for: "bench \(net.name) at N = \(n) (--sizes): the \(n)×\(n) float32 output and the inputs",
                          hint: "use smaller --sizes")
    let parameters = ModelParameters(initializing: network, seed: 0)
    var rng = SeededRandom(seed: 1)
    let x = Tensor(shape: [n] + net.spec.inputShape, data: (0..<n * network.inputSize).map { _ in Float(rng.normal()) })
    var options = GramOptions(mode: .trace)
    options.memoryBudget = memoryBudget
    options.isCancelled = { Interrupt.isRequested }
    let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: n * n)
    defer { out.deallocate() }
    // Touched before timing, like the sgemm's operands after its warm-up run:
    // the figure is the computation's, not the kernel's first-touch page
    // faults (which `Benchmarks/compare_nt.sh` includes, timing whole processes).
    out.initialize(repeating: 0)
    var best: GramReport?
    for _ in 0..<max(1, repeats) {
      let report = try NTKGram.compute(network: network, parameters: parameters, inputs1: x, device: device,
                                       options: options, output: out)
      if best == nil || report.seconds < best!.seconds { best = report }
    }
    let r = best!
    return GramResult(net: net.name, n: n, parameters: network.parameterCount, seconds: r.seconds,
                      entriesPerSecond: Double(n) * Double(n) / r.seconds, gflops: r.flops / r.seconds / 1e9,
                      strategies: r.plan.layers.map(\.strategy))
  }
}
