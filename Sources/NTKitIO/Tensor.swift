/// A dense, row-major (C order) float32 array on the host.
///
/// `shape` is the full shape, e.g. `[N, 28, 28, 1]` for a batch of images;
/// `data.count == shape.reduce(1, *)`.
///
/// `data64`, when present, holds the exact float64 values the tensor was read
/// from (`<f8` npy, CSV); `data` is then their float32 rounding. Float64
/// computations (`--precision f64`) use `data64`, so float64 inputs are never
/// rounded to float32 on the way. Any change to `data` drops `data64`.
/// Equality compares `shape` and `data` (the float32 view).
public struct Tensor: Sendable, Equatable {
  public var shape: [Int]
  public var data: [Float] { didSet { data64 = nil } }
  public private(set) var data64: [Double]?

  public init(shape: [Int], data: [Float]) {
    precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not hold \(data.count) values")
    self.shape = shape
    self.data = data
    self.data64 = nil
  }

  /// A tensor of float64 values; `data` is their float32 rounding.
  public init(shape: [Int], doubles: [Double]) {
    precondition(shape.reduce(1, *) == doubles.count, "Tensor: shape \(shape) does not hold \(doubles.count) values")
    self.shape = shape
    self.data = doubles.map { Float($0) }
    self.data64 = doubles
  }

  public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.data == b.data }

  /// The values as float64: `data64` when present, else `data` widened.
  public var doubles: [Double] { data64 ?? data.map { Double($0) } }

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
    var t = Tensor(shape: [indices.count] + Array(shape.dropFirst()), data: out)
    if let data64 {
      var wide = [Double](repeating: 0, count: indices.count * width)
      for (r, i) in indices.enumerated() { for c in 0..<width { wide[r * width + c] = data64[i * width + c] } }
      t.data64 = wide
    }
    return t
  }

  /// Rows `range` as a new tensor.
  public func slice(rows range: Range<Int>) -> Tensor {
    let width = rowLength
    var t = Tensor(shape: [range.count] + Array(shape.dropFirst()),
                   data: Array(data[range.lowerBound * width..<range.upperBound * width]))
    t.data64 = data64.map { Array($0[range.lowerBound * width..<range.upperBound * width]) }
    return t
  }
}
