/// Reads a kernel matrix for `ntk stats --kernel`: a square `[N, N]` float
/// array (`<f4` or `<f8`) of finite values. Integer or `|u1` files are refused
/// (they are not kernels; reading `|u1` as x/255 would silently rescale them).
public enum KernelFile {
  /// A kernel as read: `n × n` values in the file's precision (exactly one
  /// of `floats` / `doubles` is set). A full-mode `[N, M, N, M]` kernel is
  /// read as the `NM × NM` matrix it is in row-major order (`n = N·M`).
  public struct Matrix: Sendable {
    public var n: Int
    public var floats: [Float]?
    public var doubles: [Double]?
    /// The shape in the file.
    public var fileShape: [Int]
  }

  /// Reads an `[N, N]` or full-mode `[N, M, N, M]` kernel, `<f4` as float32
  /// and `<f8` as float64 (`ntk stats` keeps the file's precision).
  public static func load(_ path: String) throws -> Matrix {
    let array = try NPY.read(path)
    guard array.dtype.isFloatingPoint else {
      throw NTKitError.format(path: path, reason: "kernel dtype \(array.dtype.rawValue) is not a float type; expected <f4 or <f8 (an NTK written by ntk gram)")
    }
    let s = array.shape
    let n: Int
    if s.count == 2, s[0] == s[1], s[0] > 0 {
      n = s[0]
    } else if s.count == 4, s[0] == s[2], s[1] == s[3], s[0] > 0, s[1] > 0 {
      n = s[0] * s[1]
    } else {
      throw NTKitError.shapeMismatch(context: "\(path): kernel",
                                     expected: "a square [N, N] matrix or a full-mode [N, M, N, M] kernel", found: "shape \(s)")
    }
    if array.dtype == .float64 {
      let values = array.doubles()
      try NPY.checkFinite(doubles: values, path: path, rowLength: n)
      return Matrix(n: n, floats: nil, doubles: values, fileShape: s)
    }
    let values = array.floats()
    try NPY.checkFinite(values, path: path, rowLength: n)
    return Matrix(n: n, floats: values, doubles: nil, fileShape: s)
  }

  public static func read(_ path: String) throws -> (values: [Float], n: Int) {
    let array = try NPY.read(path)
    guard array.dtype.isFloatingPoint else {
      throw NTKitError.format(path: path, reason: "kernel dtype \(array.dtype.rawValue) is not a float type; expected <f4 or <f8 (an NTK written by ntk gram)")
    }
    guard array.shape.count == 2, array.shape[0] == array.shape[1], array.shape[0] > 0 else {
      throw NTKitError.shapeMismatch(context: "\(path): kernel", expected: "a square [N, N] matrix", found: "shape \(array.shape)")
    }
    let n = array.shape[0]
    let values = array.floats()
    try NPY.checkFinite(values, path: path, rowLength: n)
    return (values, n)
  }
}
