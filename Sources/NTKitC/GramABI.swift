/// The empirical NTK Θ through the C ABI, written straight into the caller's buffer.
///
///     int32_t ntk_gram(void *model, const float *theta /* P */,
///                      const float *x1, const int64_t *x1_shape, int64_t x1_rank,
///                      const float *x2 /* NULL: Θ(X₁, X₁) */, const int64_t *x2_shape, int64_t x2_rank,
///                      const char *options, void *out, int64_t out_count,
///                      char **info, const int32_t *cancel, char *err, size_t errlen);
///       out: N₁ × N₂ (mode "trace", summed over the M outputs) or [N₁, M, N₂, M] (mode "full"),
///       float32, or float64 with precision "f64"; out_count must equal that element count.
///       options: {"mode", "precision", "device", "memory_budget", "block_size"};
///       info: {"device", "seconds" (the engine's own compute time), "gflops", "tiles",
///              "block_size", "strategies", "warnings"}.
import NTKit

@_cdecl("ntk_gram")
public func ntk_gram(
  _ model: UnsafeMutableRawPointer?, _ theta: UnsafePointer<Float>?,
  _ x1: UnsafePointer<Float>?, _ x1Shape: UnsafePointer<Int64>?, _ x1Rank: Int64,
  _ x2: UnsafePointer<Float>?, _ x2Shape: UnsafePointer<Int64>?, _ x2Rank: Int64,
  _ options: UnsafePointer<CChar>?, _ out: UnsafeMutableRawPointer?, _ outCount: Int64,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    let opts = try ABIOptions(options, context: "ntk")
    let modeText = try opts.string("mode", default: "trace")
    guard let mode = NTKMode(rawValue: modeText) else {
      throw NTKitError.invalidArgument("ntk: mode must be trace or full, found \"\(modeText)\"")
    }
    let precision = try opts.precision()
    var gram = GramOptions(mode: mode)
    gram.memoryBudget = try opts.byteSize("memory_budget") ?? GramOptions.defaultMemoryBudget
    if let b = try opts.int("block_size") {
      try ArgumentRules.atLeast(1, b, flag: "ntk: block_size")
      gram.blockSize = b
    }
    var warnings: [String] = []
    let (device0, auto) = try opts.device(default: "auto", warnings: &warnings)
    try opts.finish()
    let params = try h.parameters(theta)
    let inputs1 = try checkInputs(try hostTensor(x1, x1Shape, Int(x1Rank), name: "x1"), h.network, name: "x1")
    let inputs2 = try x2.map { try checkInputs(try hostTensor($0, x2Shape, Int(x2Rank), name: "x2"), h.network, name: "x2") }
    let m = h.network.outputSize, n1 = inputs1.rows, n2 = inputs2?.rows ?? n1
    let shape = mode == .trace ? [n1, n2] : [n1, m, n2, m]
    let count = try GramJob.checkOutputFits(shape: shape, precision: precision)
    guard let out, Int(outCount) == count else {
      throw NTKitError.invalidArgument("ntk: the output buffer holds \(outCount) values but Θ \(shape) needs \(count)")
    }
    if precision == .f64 && !device0.supports(.f64) {
      throw NTKitError.invalidArgument("device \(device0.identifier) has no float64 support; use device=\"cpu\" with precision=\"f64\"")
    }
    let token = CancelToken(pointer: cancel)
    gram.isCancelled = { token.isCancelled }
    try token.check()
    let report = try DeviceSelector.withFallback(on: device0, warn: auto ? { warnings.append($0) } : nil) { device in
      switch precision {
      case .f32:
        return try NTKGram.compute(network: h.network, parameters: params, inputs1: inputs1, inputs2: inputs2, device: device,
                                   options: gram, output: UnsafeMutableBufferPointer(start: out.assumingMemoryBound(to: Float.self), count: count))
      case .f64:
        return try NTKGram.compute(network: h.network, parameters: params, inputs1: inputs1, inputs2: inputs2, device: device,
                                   options: gram, output: UnsafeMutableBufferPointer(start: out.assumingMemoryBound(to: Double.self), count: count))
      }
    }
    setInfo(info, .object([
      ("device", .string(report.device)), ("seconds", .number(report.seconds)),
      ("gflops", .number(report.seconds > 0 ? report.flops / report.seconds / 1e9 : 0)),
      ("tiles", .number(Double(report.tiles))), ("block_size", .number(Double(report.blockSize))),
      ("strategies", .array(report.plan.layers.map { .string($0.strategy.rawValue) })),
      ("warnings", JSONValue(strings: warnings)),
    ]))
  }
}
