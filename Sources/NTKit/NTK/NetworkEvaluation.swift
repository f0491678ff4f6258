/// Forward outputs and per-sample Jacobians of a network over a batch of
/// inputs, in blocks on any device.
public enum NetworkEvaluation {
  /// Samples per propagation block: large enough for BLAS efficiency, small
  /// enough that conv nets with M cotangents per sample stay within memory.
  static let blockSamples = 256

  static func checkInputs(_ network: Network, _ inputs: Tensor) throws {
    guard inputs.rowLength == network.inputSize, inputs.shape.count >= 1 else {
      throw NTKitError.shapeMismatch(
        context: "inputs", expected: "[N, \(network.spec.inputShape.map(String.init).joined(separator: ", "))]",
        found: "\(inputs.shape)")
    }
  }

  /// f(X): N × M. With `fallback` set (`auto` chose the device), a
  /// recoverable device failure reruns on the CPU after one warning line.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public static func forward<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs: Tensor, device: any ComputeDevice, as: T.Type = Float.self,
    fallback: ((String) -> Void)? = nil
  ) throws -> [T] {
    try DeviceSelector.withFallback(on: device, warn: fallback) { device in
      try forwardOnce(network: network, parameters: parameters, inputs: inputs, device: device, as: T.self)
    }
  }

  static func forwardOnce<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs: Tensor, device: any ComputeDevice, as: T.Type
  ) throws -> [T] {
    try checkInputs(network, inputs)
    let n = inputs.rows, m = network.outputSize
    let theta = try device.upload(parameters: parameters, as: T.self)
    let p = try Propagator<T>(network: network, parameters: theta, device: device,
                              capacity: max(1, min(n, blockSamples)), multiplicity: 1)
    var out = [T](repeating: 0, count: n * m)
    var lo = 0
    while lo < n {
      let b = min(p.capacity, n - lo)
      try device.write(rows: lo..<lo + b, of: inputs, to: p.input.view)
      try p.forward(n: b)
      try out.withUnsafeMutableBufferPointer {
        try device.read(p.output, into: UnsafeMutableBufferPointer(rebasing: $0[lo * m..<(lo + b) * m]))
      }
      lo += b
    }
    return out
  }

  /// ∂f_a(x_i)/∂θ: [N, M, P], θ in `ModelParameters` order. `fallback` as
  /// in `forward`.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public static func jacobian<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs: Tensor, device: any ComputeDevice,
    memoryBudget: Int = GramOptions.defaultMemoryBudget, as: T.Type = Float.self, fallback: ((String) -> Void)? = nil
  ) throws -> [T] {
    try DeviceSelector.withFallback(on: device, warn: fallback) { device in
      try jacobianOnce(network: network, parameters: parameters, inputs: inputs, device: device,
                       memoryBudget: memoryBudget, as: T.self)
    }
  }

  static func jacobianOnce<T: DeviceScalar>(
    network: Network, parameters: ModelParameters, inputs: Tensor, device: any ComputeDevice,
    memoryBudget: Int, as: T.Type
  ) throws -> [T] {
    try checkInputs(network, inputs)
    let n = inputs.rows, m = network.outputSize, pCount = network.parameterCount
    let perSample = m * pCount * MemoryLayout<T>.stride + Propagator<T>.bytesPerSample(network, multiplicity: m)
    let block = max(1, min(n, blockSamples, memoryBudget / max(perSample, 1)))
    guard perSample <= memoryBudget else {
      throw NTKitError.memoryBudget(needed: perSample, budget: memoryBudget, hint: "raise --memory-budget")
    }
    let theta = try device.upload(parameters: parameters, as: T.self)
    let p = try Propagator<T>(network: network, parameters: theta, device: device, capacity: block, multiplicity: m)
    let jBlock = try device.makeBuffer(T.self, count: block * m * pCount)
    var out = [T](repeating: 0, count: n * m * pCount)
    var lo = 0
    while lo < n {
      let b = min(block, n - lo)
      try device.write(rows: lo..<lo + b, of: inputs, to: p.input.view)
      try p.forward(n: b)
      try p.backward(n: b, seed: nil) { k, a, g in
        try p.jacobianBlock(k, a, cotangent: g, n: b, into: jBlock.view(at: a.kernelOffset), ld: pCount)
      }
      try out.withUnsafeMutableBufferPointer {
        try device.read(jBlock.view, into: UnsafeMutableBufferPointer(rebasing: $0[lo * m * pCount..<(lo + b) * m * pCount]))
      }
      lo += b
    }
    return out
  }
}
