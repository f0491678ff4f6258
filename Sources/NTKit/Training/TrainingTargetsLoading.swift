/// Training targets from files: a labels `.npy`, or target columns of a CSV
/// (`ntk train --labels` / `--target`, `ntk experiment compare --labels`).
extension TrainingTargets {
  /// Targets from a labels `.npy` of `rows` rows: N or N × M floats (mse) or
  /// N integer classes (cross-entropy). Without `loss`, a float dtype means mse
  /// and an integer dtype cross-entropy.
  public static func load(labels path: String, rows: Int, loss: Loss? = nil) throws -> TrainingTargets {
    let array = try NPY.read(path)
    guard array.shape.first == rows else {
      throw NTKitError.shapeMismatch(context: "\(path): labels", expected: "\(rows) rows (the inputs')",
                                     found: "shape \(array.shape)")
    }
    switch loss ?? (array.dtype.isFloatingPoint ? .mse : .crossEntropy) {
    case .crossEntropy:
      return .labels(try array.int64s().map { Int($0) })
    case .mse:
      let v = array.floats()
      try NPY.checkFinite(v, path: path, rowLength: max(v.count / max(rows, 1), 1))
      return .values(v)
    }
  }

  /// Targets from the `columns` of the CSV file `path` (mse unless `loss` is
  /// cross-entropy, when each value must be a whole class index). A column
  /// that is not in the header is reported as "missing column 'name'" with the
  /// available columns.
  public static func load(csv path: String, columns: [String], loss: Loss? = nil) throws -> TrainingTargets {
    let table = try CSVTable(path: path)
    let t = try table.columns(columns)
    try NPY.checkFinite(t.data, path: path, rowLength: max(t.rowLength, 1))
    switch loss ?? .mse {
    case .mse: return .values(t.data)
    case .crossEntropy:
      return .labels(try t.data.enumerated().map { i, v in
        guard v.rounded() == v else { throw NTKitError.format(path: path, reason: "target row \(i) is \(v), expected a class index") }
        return Int(v)
      })
    }
  }

  /// The targets of rows `indices` of a set of `rows` rows (`--indices`).
  public func selectingRows(_ indices: [Int], of rows: Int) -> TrainingTargets {
    switch self {
    case .labels(let l): return .labels(indices.map { l[$0] })
    case .values(let v):
      let m = v.count / max(rows, 1)
      var out: [Float] = []
      out.reserveCapacity(indices.count * m)
      for i in indices { out.append(contentsOf: v[i * m..<(i + 1) * m]) }
      return .values(out)
    }
  }

  /// The feature columns of a CSV whose `targets` columns are predicted: every
  /// header column but the targets; a target missing from the header is an
  /// error naming it and listing the available columns.
  public static func featureColumns(csv path: String, excludingTargets targets: [String]) throws -> [String] {
    let table = try CSVTable(path: path)
    for t in targets { _ = try table.index(of: t) }
    return table.header.filter { !targets.contains($0) }
  }
}
