/// Loads network inputs from `.npy` or `.csv` files as a tensor, rejecting
/// NaN and Inf. `<f8` arrays and CSV cells keep their float64 values
/// (`Tensor.data64`) for `--precision f64`.
public enum InputData {
  /// Loads `path` by extension:
  /// - `.npy`: any supported dtype, shape `[N, *input_shape]`; `|u1` becomes x/255;
  /// - `.csv`: the columns `features` in that order (all columns when nil), shape `[N, k]`.
  /// A NaN or Inf is a `.nonFinite` error naming the file and the first bad row.
  public static func load(_ path: String, features: [String]? = nil) throws -> Tensor {
    try POSIXFile.checkReadable(path)
    let lower = path.lowercased()
    if lower.hasSuffix(".npy") {
      if let features {
        throw NTKitError.invalidArgument("\(path): feature columns (\(features.joined(separator: ", "))) apply to CSV inputs only, not .npy")
      }
      let tensor = try NPY.readTensor(path)
      guard !tensor.shape.isEmpty else {
        throw NTKitError.format(path: path, reason: "expected inputs of shape [N, ...], found a 0-d scalar")
      }
      if let exact = tensor.data64 {
        try NPY.checkFinite(doubles: exact, path: path, rowLength: max(tensor.rowLength, 2))
      } else {
        try NPY.checkFinite(tensor.data, path: path, rowLength: max(tensor.rowLength, 2))
      }
      return tensor
    }
    if lower.hasSuffix(".csv") {
      let table = try CSVTable(path: path)
      let names = features ?? table.header
      let indices = try names.map(table.index(of:))
      for (r, row) in table.rows.enumerated() {
        for i in indices where !row[i].isFinite {
          throw NTKitError.nonFinite(path: path, detail: "first at row \(r) (0-based, line \(table.lineNumbers[r])), column '\(table.header[i])': \(row[i])")
        }
      }
      return try table.columns(names)
    }
    let ext = path.split(separator: "/").last.flatMap { $0.contains(".") ? $0.split(separator: ".").last : nil }
    throw NTKitError.format(path: path, reason: "unsupported input file type \(ext.map { "'.\($0)'" } ?? "(no extension)"), expected .npy or .csv")
  }

  /// The names of the columns `load(path, features:)` returns, in order: the
  /// features, or every header column of a CSV; empty for `.npy` (no names).
  public static func columnNames(_ path: String, features: [String]?) throws -> [String] {
    if let features { return features }
    guard path.lowercased().hasSuffix(".csv") else { return [] }
    return try CSVTable(path: path).header
  }
}
