/// Forward outputs and per-sample Jacobians through the C ABI.
///
///     int32_t ntk_forward(void *model, const float *theta /* P */, const float *x, const int64_t *x_shape,
///                         int64_t x_rank, const char *options, void *out /* [N, M] */,
///                         char **info, const int32_t *cancel, char *err, size_t errlen);
///     int32_t ntk_jacobian(… same arguments …, void *out /* [N, M, P] */, …);
///       x: float32 [N, *input_shape] (or [N, d] flattened); out: float32, or float64 with
///       precision "f64". options: {"precision": "f32"|"f64", "device": "auto"|"cpu"|…,
///       "memory_budget": "1G" (jacobian)}; info: {"device", "warnings"}.
import NTKit

/// The shared body of forward and jacobian: options, device, inputs, then `compute`.
private func evaluate(
  _ name: String, _ model: UnsafeMutableRawPointer?, _ theta: UnsafePointer<Float>?, _ x: UnsafePointer<Float>?,
  _ xShape: UnsafePointer<Int64>?, _ xRank: Int64, _ options: UnsafePointer<CChar>?, _ out: UnsafeMutableRawPointer?,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int,
  compute: (ModelHandle, ModelParameters, Tensor, any ComputeDevice, Precision, Int,
            ((String) -> Void)?, UnsafeMutableRawPointer) throws -> Void
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    let opts = try ABIOptions(options, context: name)
    let precision = try opts.precision()
    let budget = try opts.byteSize("memory_budget") ?? GramOptions.defaultMemoryBudget
    var warnings: [String] = []
    let (device, auto) = try opts.device(default: "auto", warnings: &warnings)
    try opts.finish()
    guard let out else { throw NTKitError.invalidArgument("\(name): output buffer is NULL") }
    let params = try h.parameters(theta)
    let inputs = try checkInputs(try hostTensor(x, xShape, Int(xRank), name: "x"), h.network, name: "x")
    try CancelToken(pointer: cancel).check()
    var fallbackWarnings: [String] = []
    try compute(h, params, inputs, device, precision, budget, auto ? { fallbackWarnings.append($0) } : nil, out)
    setInfo(info, .object([("device", .string(device.identifier)),
                           ("warnings", JSONValue(strings: warnings + fallbackWarnings))]))
  }
}

/// Copies `values` into the caller's buffer.
private func store<T>(_ values: [T], _ out: UnsafeMutableRawPointer) {
  let p = out.assumingMemoryBound(to: T.self)
  values.withUnsafeBufferPointer { src in p.update(from: src.baseAddress!, count: src.count) }
}

@_cdecl("ntk_forward")
public func ntk_forward(
  _ model: UnsafeMutableRawPointer?, _ theta: UnsafePointer<Float>?, _ x: UnsafePointer<Float>?,
  _ xShape: UnsafePointer<Int64>?, _ xRank: Int64, _ options: UnsafePointer<CChar>?, _ out: UnsafeMutableRawPointer?,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  evaluate("forward", model, theta, x, xShape, xRank, options, out, info, cancel, err, errlen) {
    h, params, inputs, device, precision, _, fallback, out in
    switch precision {
    case .f32:
      store(try NetworkEvaluation.forward(network: h.network, parameters: params, inputs: inputs, device: device,
                                          as: Float.self, fallback: fallback), out)
    case .f64:
      store(try NetworkEvaluation.forward(network: h.network, parameters: params, inputs: inputs, device: device,
                                          as: Double.self, fallback: fallback), out)
    }
  }
}

@_cdecl("ntk_jacobian")
public func ntk_jacobian(
  _ model: UnsafeMutableRawPointer?, _ theta: UnsafePointer<Float>?, _ x: UnsafePointer<Float>?,
  _ xShape: UnsafePointer<Int64>?, _ xRank: Int64, _ options: UnsafePointer<CChar>?, _ out: UnsafeMutableRawPointer?,
  _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ cancel: UnsafePointer<Int32>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  evaluate("jacobian", model, theta, x, xShape, xRank, options, out, info, cancel, err, errlen) {
    h, params, inputs, device, precision, budget, fallback, out in
    switch precision {
    case .f32:
      store(try NetworkEvaluation.jacobian(network: h.network, parameters: params, inputs: inputs, device: device,
                                           memoryBudget: budget, as: Float.self, fallback: fallback), out)
    case .f64:
      store(try NetworkEvaluation.jacobian(network: h.network, parameters: params, inputs: inputs, device: device,
                                           memoryBudget: budget, as: Double.self, fallback: fallback), out)
    }
  }
}
