/// Reads a kernel matrix for `ntk stats --kernel`: a square `[N, N]` float
/// array (`<f4` or `<f8`) of finite values. Integer or `|u1` files are refused
/// (they are not kernels; reading `|u1` as x/255 would silently rescale them).
public enum KernelFile {
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
