/// Per-column standardisation `(x - mean) / std`, fitted on an `[N, k]`
/// tensor and saved as JSON: `{"columns": [...], "mean": [...], "std": [...]}`.
///
/// `std` is the population standard deviation (ddof = 0, as scikit-learn's
/// StandardScaler), floored at 1e-12 so constant columns do not divide by zero.
public struct Standardizer: Sendable, Equatable, Codable {
  public var columns: [String]
  public var mean: [Double]
  public var std: [Double]

  public static let stdFloor = 1e-12

  public init(columns: [String], mean: [Double], std: [Double]) {
    self.columns = columns
    self.mean = mean
    self.std = std
  }

  /// Fits mean and std of every column of `data` (rows × rowLength).
  /// `columns` names them (optional; empty or one name per column).
  public static func fit(_ data: Tensor, columns: [String] = []) -> Standardizer {
    let n = data.rows, k = data.rowLength
    let values = data.doubles
    var mean = [Double](repeating: 0, count: k)
    var m2 = [Double](repeating: 0, count: k)
    for r in 0..<n { for c in 0..<k { mean[c] += values[r * k + c] } }
    if n > 0 { for c in 0..<k { mean[c] /= Double(n) } }
    for r in 0..<n {
      for c in 0..<k {
        let d = values[r * k + c] - mean[c]
        m2[c] += d * d
      }
    }
    let std = m2.map { n > 0 ? max(($0 / Double(n)).squareRoot(), stdFloor) : 1 }
    return Standardizer(columns: columns, mean: mean, std: std)
  }

  private func check(_ data: Tensor) throws {
    guard data.rowLength == mean.count else {
      throw NTKitError.shapeMismatch(context: "standardizer", expected: "\(mean.count) columns", found: "\(data.rowLength) (shape \(data.shape))")
    }
  }

  /// `(x - mean) / std` per column.
  public func apply(_ data: Tensor) throws -> Tensor {
    try check(data)
    let k = mean.count
    let x = data.doubles
    // In float64 throughout, so float64 inputs stay float64 (`Tensor.data64`).
    return Tensor(shape: data.shape, doubles: (0..<x.count).map { (x[$0] - mean[$0 % k]) / std[$0 % k] })
  }

  /// `x * std + mean` per column (undoes `apply`, e.g. for predictions).
  public func inverse(_ data: Tensor) throws -> Tensor {
    try check(data)
    var out = data
    let k = mean.count
    for i in 0..<out.data.count { out.data[i] = Float(Double(out.data[i]) * std[i % k] + mean[i % k]) }
    return out
  }

  /// The JSON form.
  public var json: JSONValue {
    ["columns": JSONValue(strings: columns), "mean": JSONValue(numbers: mean), "std": JSONValue(numbers: std)]
  }

  /// Builds a standardizer from its JSON form; `path` names the source in errors.
  public init(json: JSONValue, path: String) throws {
    func numbers(_ key: String) throws -> [Double] {
      guard let items = json[key]?.arrayValue else { throw NTKitError.missing(path: path, name: "array '\(key)'") }
      return try items.map {
        guard let x = $0.doubleValue, x.isFinite else {
          throw NTKitError.format(path: path, reason: "'\(key)' must hold finite numbers, found \($0.serialized())")
        }
        return x
      }
    }
    let mean = try numbers("mean"), std = try numbers("std")
    var columns: [String] = []
    if let items = json["columns"] {
      guard let list = items.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
        throw NTKitError.format(path: path, reason: "'columns' must be an array of strings")
      }
      columns = list.map { $0.stringValue! }
    }
    guard std.count == mean.count, columns.isEmpty || columns.count == mean.count else {
      throw NTKitError.format(path: path, reason: "'mean' has \(mean.count) entries but 'std' has \(std.count) and 'columns' \(columns.count)")
    }
    if let bad = std.firstIndex(where: { $0 <= 0 }) {
      throw NTKitError.format(path: path, reason: "'std' entry \(bad) is \(std[bad]), expected > 0")
    }
    self.init(columns: columns, mean: mean, std: std)
  }

  /// This scaler with its columns in the order of `wanted` (matched by name),
  /// so that a scaler saved for `a,b,c` applies correctly to inputs read as
  /// `c,a,b`. A wanted column the scaler does not know is an error naming it.
  /// Without names on either side the columns are taken by position.
  public func matching(columns wanted: [String], path: String) throws -> Standardizer {
    guard !columns.isEmpty, !wanted.isEmpty else { return self }
    if wanted == columns { return self }
    var mean: [Double] = [], std: [Double] = []
    for name in wanted {
      guard let i = columns.firstIndex(of: name) else {
        throw NTKitError.missing(path: path, name: "column '\(name)' (the scaler's columns are \(columns.joined(separator: ", ")))")
      }
      mean.append(self.mean[i])
      std.append(self.std[i])
    }
    return Standardizer(columns: wanted, mean: mean, std: std)
  }

  /// Saves as pretty JSON, atomically.
  public func save(_ path: String) throws {
    try AtomicFile.write(path, text: json.serialized(pretty: true) + "\n")
  }

  /// Loads a standardizer saved by `save`.
  public static func load(_ path: String) throws -> Standardizer {
    try Standardizer(json: JSONValue.parse(readWholeFile(path), path: path), path: path)
  }
}
