/// Opening a selection pool as `ntk select --pool` does, with its dtype policy,
/// and the checks of a pool against the request (size, model input).
extension PoolSource {
  /// The `.npy` dtypes a memory-mapped pool may have: float32, float64 and uint8 (images).
  public static func supports(_ dtype: NPYDType) -> Bool { dtype.isFloatingPoint || dtype == .uint8 }

  /// A `.npy` pool memory-mapped (no standardisation: refuse `--standardize`
  /// for `.npy` pools before calling), or a CSV pool read whole (`features`
  /// columns, default all), standardised on request.
  public static func open(_ path: String, features: [String]? = nil, scaling: InputScaling = InputScaling()) throws -> PoolSource {
    if isMappable(path) {
      let mapped = try MappedNPY(path: path)
      guard supports(mapped.dtype) else {
        throw NTKitError.format(path: path, reason: "pool dtype \(mapped.dtype.rawValue) is not supported; expected <f4, <f8 or |u1")
      }
      return .mapped(mapped)
    }
    var x = try InputData.load(path, features: features)
    if let scaler = try scaling.scaler(fittingOn: x, columns: InputData.columnNames(path, features: features)) {
      x = try scaler.apply(x)
    }
    return .tensor(x)
  }

  /// True for a pool that is memory-mapped (`.npy`): `--features` and
  /// standardisation apply to CSV pools only.
  public static func isMappable(_ path: String) -> Bool { path.lowercased().hasSuffix(".npy") }

  /// Refuses an empty pool, or `size` points chosen from fewer (`path` names the pool).
  public func check(size: Int, path: String) throws {
    guard rows > 0, rowLength > 0 else {
      throw NTKitError.format(path: path, reason: "the pool is empty (shape \(rows) × \(rowLength))")
    }
    guard size <= rows else {
      throw NTKitError.invalidArgument("\(path): --size \(size) is larger than the pool (\(rows) points)")
    }
  }

  /// The spec in `modelPath` for RND's networks, refused unless its input fits
  /// this pool's rows (`path` names the pool).
  public func model(_ modelPath: String, path: String) throws -> ModelSpec {
    let spec = try ModelSpec.load(modelPath)
    let network = try Network(spec: spec, source: modelPath)
    guard network.inputSize == rowLength else {
      throw NTKitError.shapeMismatch(
        context: "\(modelPath): model input", expected: "\(rowLength) features (the pool \(path) has \(rows) × \(rowLength))",
        found: "input_shape \(spec.inputShape) (\(network.inputSize) values)")
    }
    return spec
  }
}
