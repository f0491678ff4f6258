/// Row indices read from an `.npy` file (`--indices picks.npy`, e.g. the
/// output of `ntk select`), applied the way NumPy's fancy indexing `x[idx]`
/// applies an integer array:
///
/// - dtype: an integer type (`<i8`, `<i4`, `|u1`); a float array is refused,
///   as NumPy refuses it ("arrays used as indices must be of integer type");
/// - shape: one dimension `[S]` (a column `[S, 1]` is accepted too);
/// - range: `-N ≤ i < N` for N rows; a negative index counts from the end;
/// - duplicates: kept, as NumPy keeps them (the row appears twice, and so
///   weighs twice in training); order is kept;
/// - an empty array is refused (it would select nothing).
public struct RowIndices: Sendable, Equatable {
  /// The file the indices came from (for messages).
  public let path: String
  /// The indices as stored (negative ones not yet resolved).
  public let values: [Int]

  public init(path: String, values: [Int]) {
    self.path = path
    self.values = values
  }

  /// Reads and checks the dtype and shape of `path`.
  public static func load(_ path: String) throws -> RowIndices {
    let array = try NPY.read(path)
    guard !array.dtype.isFloatingPoint else {
      throw NTKitError.format(path: path, reason: "indices must be integers (<i8, <i4 or |u1), found dtype \(array.dtype.rawValue)")
    }
    guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
      throw NTKitError.shapeMismatch(context: "\(path): indices", expected: "one dimension [S]",
                                     found: "shape \(shapeText(array.shape))")
    }
    let values = try array.int64s().map { Int($0) }
    guard !values.isEmpty else {
      throw NTKitError.format(path: path, reason: "the index array is empty, so it selects no rows")
    }
    return RowIndices(path: path, values: values)
  }

  /// The indices resolved against `rows` rows of `what` (negative ones count
  /// from the end); an index outside `-rows..<rows` is an error naming the
  /// file, its position and the valid range.
  public func resolved(rows: Int, of what: String) throws -> [Int] {
    try values.enumerated().map { position, i in
      guard i >= -rows, i < rows else {
        throw NTKitError.format(
          path: path,
          reason: "index \(i) at position \(position) is out of range for the \(rows) rows of \(what) (valid: \(-rows) to \(rows - 1))")
      }
      return i < 0 ? i + rows : i
    }
  }

  /// The rows of `tensor` (from the file `what`) these indices select.
  public func select(_ tensor: Tensor, of what: String) throws -> Tensor {
    tensor.gatherRows(try resolved(rows: tensor.rows, of: what))
  }
}
