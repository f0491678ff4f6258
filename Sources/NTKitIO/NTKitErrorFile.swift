extension NTKitError {
  /// The same failure, told as a failure of the file `path`: a numerical,
  /// LAPACK or argument error, whose message names no file, becomes
  /// "`path`: numerical failure: …" (one line); errors that already name
  /// their file are returned unchanged.
  public func naming(file path: String) -> NTKitError {
    switch self {
    case .numerical, .lapack, .invalidArgument:
      let text = description
      return text.hasPrefix(path + ":") ? self : .format(path: path, reason: text)
    default:
      return self
    }
  }

  /// Runs `body`, telling its failures as failures of the file `path`.
  public static func naming<R>(file path: String, _ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as NTKitError { throw error.naming(file: path) }
  }
}
