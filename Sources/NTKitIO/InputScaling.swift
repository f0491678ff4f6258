/// Standardisation of inputs on request (`--standardize`, `--scaler`,
/// `--save-scaler`): fit on the first data set a command reads, save the
/// scaler so that the same transform applies to later data (test sets, a
/// second kernel argument).
public struct InputScaling: Sendable {
  /// Fit mean and standard deviation on the data (and save them if `saveTo` is set).
  public var standardize = false
  /// Apply a saved scaler (JSON from `--save-scaler`); wins over `standardize`.
  public var scalerPath: String?
  public var saveTo: String?

  public init(standardize: Bool = false, scalerPath: String? = nil, saveTo: String? = nil) {
    self.standardize = standardize
    self.scalerPath = scalerPath
    self.saveTo = saveTo
  }

  /// The scaler to use for data whose first set is `x` (nil: leave inputs as they are).
  public func scaler(fittingOn x: Tensor, columns: [String]) throws -> Standardizer? {
    if let scalerPath {
      let s = try Standardizer.load(scalerPath)
      guard s.mean.count == x.rowLength else {
        throw NTKitError.shapeMismatch(context: "\(scalerPath): scaler", expected: "\(x.rowLength) columns (the inputs')",
                                       found: "\(s.mean.count)")
      }
      return s
    }
    guard standardize else { return nil }
    let s = Standardizer.fit(x, columns: columns)
    if let saveTo { try s.save(saveTo) }
    return s
  }
}
