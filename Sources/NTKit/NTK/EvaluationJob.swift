/// `ntk forward` and `ntk jacobian` as library calls: compute in the
/// requested precision and write the `.npy` atomically (`<f4` or `<f8`).
public enum EvaluationJob {
  /// f(X) → `[N, M]`.
  public static func forward(model: LoadedModel, inputs: Tensor, device: any ComputeDevice, precision: Precision,
                             output path: String, fallback: ((String) -> Void)? = nil) throws {
    let shape = [inputs.rows, model.network.outputSize]
    func run<T: DeviceScalar>(_: T.Type) throws {
      try write(path, shape: shape, try NetworkEvaluation.forward(
        network: model.network, parameters: model.parameters, inputs: inputs, device: device, as: T.self, fallback: fallback))
    }
    switch precision {
    case .f32: try run(Float.self)
    case .f64: try run(Double.self)
    }
  }

  /// ∂f/∂θ → `[N, M, P]`, held in memory before it is written: refused when it
  /// exceeds eight times the temporaries budget (use `ntk gram` for large N).
  public static func jacobian(model: LoadedModel, inputs: Tensor, device: any ComputeDevice, precision: Precision,
                              memoryBudget: Int, output path: String, fallback: ((String) -> Void)? = nil) throws {
    let shape = [inputs.rows, model.network.outputSize, model.network.parameterCount]
    let limit = memoryBudget.multipliedReportingOverflow(by: 8).overflow ? Int.max : memoryBudget * 8
    try SizeCheck.require(SizeCheck.product(shape + [precision == .f32 ? 4 : 8]), for: "the Jacobian \(shape)",
                          hint: "use fewer samples or `ntk gram`")
    let bytes = SizeCheck.product(shape + [precision == .f32 ? 4 : 8]) ?? Int.max
    guard bytes <= limit else {
      throw NTKitError.memoryBudget(needed: bytes, budget: limit,
                                    hint: "the Jacobian \(shape) is held in memory; use fewer samples or `ntk gram`")
    }
    func run<T: DeviceScalar>(_: T.Type) throws {
      try write(path, shape: shape, try NetworkEvaluation.jacobian(
        network: model.network, parameters: model.parameters, inputs: inputs, device: device,
        memoryBudget: memoryBudget, as: T.self, fallback: fallback))
    }
    switch precision {
    case .f32: try run(Float.self)
    case .f64: try run(Double.self)
    }
  }

  /// Writes float32 or float64 values as `<f4` / `<f8`.
  private static func write<T: DeviceScalar>(_ path: String, shape: [Int], _ values: [T]) throws {
    if let floats = values as? [Float] {
      try NPY.write(path, shape: shape, floats: floats)
    } else {
      try NPY.write(path, shape: shape, doubles: values.map { $0.double })
    }
  }
}
