/// NTK collective variables through the C ABI.
///
///     int32_t ntk_collective_variables(const void *kernel, int64_t n, int32_t is_f64, const char *options,
///                                      double *eigenvalues /* n, descending */, char **info,
///                                      char *err, size_t errlen);
///       kernel: row-major N × N, float32 (is_f64 = 0) or float64; options: {"method": "auto"|"exact"|"lanczos",
///       "top_k": 16}; info: {"n", "trace", "entropy" (null with Lanczos), "lambda_max", "method",
///       "eigenvalues" (how many were written)}.
import NTKit

@_cdecl("ntk_collective_variables")
public func ntk_collective_variables(
  _ kernel: UnsafeRawPointer?, _ n: Int64, _ isF64: Int32, _ options: UnsafePointer<CChar>?,
  _ eigenvalues: UnsafeMutablePointer<Double>?, _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let opts = try ABIOptions(options, context: "collective_variables")
    let methodText = try opts.string("method", default: "auto")
    let topK = try opts.int("top_k") ?? 16
    try opts.finish()
    try ArgumentRules.topK(topK, flag: "collective_variables: top_k")
    guard let kernel, n > 0 else { throw NTKitError.invalidArgument("collective_variables: the kernel is empty (N = 0)") }
    let count = Int(n) * Int(n)
    guard let choice = SpectrumMethodChoice(rawValue: methodText) else {
      throw NTKitError.invalidArgument("collective_variables: method must be exact, lanczos or auto, found \"\(methodText)\"")
    }
    let method = choice.method(n: Int(n), topK: min(topK, Int(n)))
    let cv: CollectiveVariables
    if isF64 != 0 {
      let values = Array(UnsafeBufferPointer(start: kernel.assumingMemoryBound(to: Double.self), count: count))
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: "kernel", detail: "at row \(bad / Int(n)), column \(bad % Int(n))")
      }
      if case .exact = method {
        cv = try CollectiveVariables.compute(kernel: values, n: Int(n))
      } else {
        // Lanczos runs on float32 kernels.
        let floats = values.map { Float($0) }
        cv = try floats.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: Int(n), method: method) }
      }
    } else {
      let buffer = UnsafeBufferPointer(start: kernel.assumingMemoryBound(to: Float.self), count: count)
      if let bad = buffer.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: "kernel", detail: "at row \(bad / Int(n)), column \(bad % Int(n))")
      }
      cv = try CollectiveVariables.compute(kernel: buffer, n: Int(n), method: method)
    }
    let values = cv.eigenvalues ?? []
    if let eigenvalues { for (i, v) in values.prefix(Int(n)).enumerated() { eigenvalues[i] = v } }
    let methodName: String
    switch cv.method {
    case .exact: methodName = "exact (\(SymmetricEigen.routine(n: Int(n))))"
    case .lanczos(let k): methodName = "lanczos (top \(k))"
    }
    setInfo(info, .object([
      ("n", .number(Double(cv.n))), ("trace", .number(cv.trace)), ("entropy", cv.entropy.map { .number($0) } ?? .null),
      ("lambda_max", .number(cv.lambdaMax)), ("method", .string(methodName)),
      ("eigenvalues", .number(Double(min(values.count, Int(n))))),
    ]))
  }
}
