/// `ntk stats` as a library call: the collective variables of a kernel file,
/// or of the trace NTK of a model over inputs (computed in memory first, with
/// `GramJob`'s device fallback).
public enum StatsJob {
  /// The variables and the device that computed the kernel (`cpu` for a kernel file).
  public struct Report: Sendable {
    public var n: Int
    public var variables: CollectiveVariables
    public var device: String
  }

  /// The variables of the kernel in `path` (`[N, N]` or `[N, M, N, M]`, in its
  /// own precision). A failing decomposition names the file.
  public static func run(kernelFile path: String, method: SpectrumMethodChoice, topK: Int) throws -> Report {
    let k = try KernelFile.load(path)
    let cv = try variables(n: k.n, floats: k.floats, doubles: k.doubles, method: method.method(n: k.n, topK: topK),
                           source: path)
    return Report(n: k.n, variables: cv, device: "cpu")
  }

  /// The variables of the trace NTK of `model` over `inputs` (`source` names
  /// the inputs file in errors). `options.mode` is taken as trace. With
  /// `fallback` set (`--device auto`), a recoverable failure of a non-CPU device
  /// reruns the kernel on the CPU after one warning line.
  public static func run(model: LoadedModel, inputs: Tensor, source: String, device: any ComputeDevice,
                         precision: Precision, options: GramOptions, method: SpectrumMethodChoice, topK: Int,
                         fallback: ((String) -> Void)? = nil) throws -> Report {
    let n = inputs.rows
    var options = options
    options.mode = .trace
    _ = try GramJob.checkOutputFits(shape: [n, n], precision: precision)
    var deviceName = device.identifier
    func gram<T: DeviceScalar>(_: T.Type) throws -> [T] {
      var k = [T](repeating: 0, count: n * n)
      let report = try DeviceSelector.withFallback(on: device, warn: fallback) { device in
        if T.self == Double.self && !device.supports(.f64) {
          throw NTKitError.invalidArgument("device \(device.identifier) has no float64 support; use --device cpu with --precision f64")
        }
        return try k.withUnsafeMutableBufferPointer {
          try NTKGram.compute(network: model.network, parameters: model.parameters, inputs1: inputs, device: device,
                              options: options, output: $0)
        }
      }
      deviceName = report.device
      return k
    }
    let floats = precision == .f32 ? try gram(Float.self) : nil
    let doubles = precision == .f64 ? try gram(Double.self) : nil
    let cv = try variables(n: n, floats: floats, doubles: doubles, method: method.method(n: n, topK: topK), source: source)
    return Report(n: n, variables: cv, device: deviceName)
  }

  /// The decomposition of whichever matrix is set; a failure names `source`.
  static func variables(n: Int, floats: [Float]?, doubles: [Double]?, method: CollectiveVariables.Method,
                        source: String) throws -> CollectiveVariables {
    try NTKitError.naming(file: source) { () throws -> CollectiveVariables in
      if let doubles { return try CollectiveVariables.compute(kernel: doubles, n: n, method: method) }
      return try floats!.withUnsafeBufferPointer { try CollectiveVariables.compute(kernel: $0, n: n, method: method) }
    }
  }
}
