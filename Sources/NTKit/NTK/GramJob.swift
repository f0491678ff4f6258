/// `ntk gram` as a library call: Θ of a model over inputs, written to a
/// `.npy` file (float32 or float64) through a temporary file renamed on
/// success, never leaving a partial file behind.
public enum GramJob {
  /// Computes and writes Θ. With `fallback` set (the device was chosen by
  /// `auto`), a recoverable failure of a non-CPU device mid-run reruns the
  /// whole job on the CPU after one warning line through `fallback`
  /// (`DeviceSelector.withFallback`); `GramReport.device` names the device
  /// that produced the file.
  public static func run(model: LoadedModel, inputs1: Tensor, inputs2: Tensor?, device: any ComputeDevice,
                         precision: Precision, options: GramOptions, output path: String,
                         convention: KernelConvention = .ntkit,
                         fallback: ((String) -> Void)? = nil) throws -> GramReport {
    try DeviceSelector.withFallback(on: device, warn: fallback) { device in
      try runOnce(model: model, inputs1: inputs1, inputs2: inputs2, device: device, precision: precision,
                  options: options, output: path, convention: convention)
    }
  }

  static func runOnce(model: LoadedModel, inputs1: Tensor, inputs2: Tensor?, device: any ComputeDevice,
                      precision: Precision, options: GramOptions, output path: String,
                      convention: KernelConvention = .ntkit) throws -> GramReport {
    let m = model.network.outputSize
    let n1 = inputs1.rows, n2 = inputs2?.rows ?? inputs1.rows
    let shape = convention.shape(mode: options.mode, n1: n1, m: m, n2: n2)
    // The output is held in memory before it is written: refuse what cannot fit.
    let count = try checkOutputFits(shape: shape, precision: precision)
    switch precision {
    case .f32:
      // Computed straight into the (memory-mapped, temporary) output file:
      // no second copy of Θ and no write pass (NPY.withMappedOutput).
      var report: GramReport?
      try NPY.withMappedOutput(path, shape: shape) { out in
        report = try NTKGram.compute(network: model.network, parameters: model.parameters, inputs1: inputs1,
                                     inputs2: inputs2, device: device, options: options, output: out)
        convention.convert(out, mode: options.mode, n1: n1, m: m, n2: n2)
      }
      return report!
    case .f64:
      guard device.supports(.f64) else {
        throw NTKitError.invalidArgument("device \(device.identifier) has no float64 support; use --device cpu with --precision f64")
      }
      var out = [Double](repeating: 0, count: count)
      let report = try out.withUnsafeMutableBufferPointer {
        try NTKGram.compute(network: model.network, parameters: model.parameters, inputs1: inputs1,
                            inputs2: inputs2, device: device, options: options, output: $0)
      }
      out.withUnsafeMutableBufferPointer { convention.convert($0, mode: options.mode, n1: n1, m: m, n2: n2) }
      try NPY.write(path, shape: shape, doubles: out)
      return report
    }
  }

  /// The element count of an output of `shape`, or an error when it cannot be
  /// held in this machine's memory (callers that allocate Θ themselves check first).
  public static func checkOutputFits(shape: [Int], precision: Precision) throws -> Int {
    let (count, overflow) = shape.dropFirst().reduce((shape.first ?? 0, false)) { acc, d in
      let (p, o) = acc.0.multipliedReportingOverflow(by: d)
      return (p, acc.1 || o)
    }
    let outputBytes = overflow ? Int.max : count.multipliedReportingOverflow(by: precision == .f32 ? 4 : 8).partialValue
    let memory = physicalMemoryBytes()
    if overflow || (memory > 0 && outputBytes > memory - memory / 8) {
      throw NTKitError.invalidArgument(
        "the output \(shape) needs \(overflow ? "more than 8 EiB" : formatBytes(outputBytes)) but this machine has "
          + "\(formatBytes(memory)) of memory; use --mode trace, --precision f32, or fewer samples")
    }
    return count
  }
}
