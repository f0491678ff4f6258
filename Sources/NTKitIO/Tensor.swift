/// A dense, row-major (C order) float32 array on the host.
///
/// `shape` is the full shape, e.g. `[N, 28, 28, 1]` for a batch of images;
/// `data.count == shape.reduce(1, *)`.
public struct Tensor: Sendable, Equatable {
  public var shape: [Int]
  public var data: [Float]

  public init(shape: [Int], data: [Float]) {
    precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not hold \(data.count) values")
    self.shape = shape
    self.data = data
  }

  public init(zeros shape: [Int]) {
    self.shape = shape
    self.data = [Float](repeating: 0, count: shape.reduce(1, *))
  }

  /// Number of rows (the leading dimension; 1 for a scalar).
  public var rows: Int { shape.first ?? 1 }
  /// Values per row: the product of every dimension after the first.
  public var rowLength: Int { shape.dropFirst().reduce(1, *) }

  /// The rows `indices`, in that order, as a new tensor.
  public func gatherRows(_ indices: [Int]) -> Tensor {
    let width = rowLength
    var out = [Float](repeating: 0, count: indices.count * width)
    data.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for (r, i) in indices.enumerated() {
          for c in 0..<width { dst[r * width + c] = src[i * width + c] }
        }
      }
    }
    return Tensor(shape: [indices.count] + Array(shape.dropFirst()), data: out)
  }

  /// Rows `range` as a new tensor.
  public func slice(rows range: Range<Int>) -> Tensor {
    let width = rowLength
    return Tensor(shape: [range.count] + Array(shape.dropFirst()),
                  data: Array(data[range.lowerBound * width..<range.upperBound * width]))
  }
}
