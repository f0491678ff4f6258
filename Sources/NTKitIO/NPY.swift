import CNTKitSafety
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element types NTKit reads from and writes to `.npy` files.
public enum NPYDType: String, Sendable, CaseIterable {
  case float32 = "<f4", float64 = "<f8", uint8 = "|u1", int32 = "<i4", int64 = "<i8"

  /// Bytes per element.
  public var itemSize: Int {
    switch self {
    case .uint8: return 1
    case .float32, .int32: return 4
    case .float64, .int64: return 8
    }
  }

  /// True for `<f4` and `<f8`.
  public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

  static let supportedList = "<f4, <f8, |u1, <i4, <i8"

  /// Maps a NumPy `descr` string; native (`=`) and no-order forms are
  /// accepted as little-endian, big-endian is rejected by name.
  init(descr: String, path: String) throws {
    var order: Character = "|"
    var code = Substring(descr)
    if let first = code.first, "<>|=".contains(first) {
      order = first
      code = code.dropFirst()
    }
    let type: NPYDType
    switch code {
    case "f4": type = .float32
    case "f8": type = .float64
    case "i4": type = .int32
    case "i8": type = .int64
    case "u1": self = .uint8; return
    default:
      throw NTKitError.format(path: path, reason: "unsupported dtype '\(descr)', expected one of \(NPYDType.supportedList)")
    }
    if order == ">" {
      throw NTKitError.format(path: path, reason: "big-endian dtype '\(descr)' is not supported, expected little-endian '<\(code)' (save x.astype('<\(code)'))")
    }
    self = type
  }
}

/// A `.npy` array held in memory: shape, dtype and the raw little-endian payload.
public struct NPYArray: Sendable {
  /// The file it was read from (for error messages); empty if built in memory.
  public let path: String
  public let shape: [Int]
  public let dtype: NPYDType
  /// The element bytes, C order, little-endian.
  public let payload: [UInt8]

  /// Wraps `payload`; it must hold `shape.product * dtype.itemSize` bytes.
  public init(shape: [Int], dtype: NPYDType, payload: [UInt8], path: String = "") throws {
    let count = shape.reduce(1, *)
    guard payload.count == count * dtype.itemSize else {
      throw NTKitError.shapeMismatch(context: path.isEmpty ? "NPYArray" : path,
                                     expected: "\(count * dtype.itemSize) bytes for shape \(shapeText(shape)) of \(dtype.rawValue)",
                                     found: "\(payload.count) bytes")
    }
    self.path = path
    self.shape = shape
    self.dtype = dtype
    self.payload = payload
  }

  /// Number of elements.
  public var count: Int { payload.count / dtype.itemSize }

  /// Elements as Float; `|u1` becomes `x / 255` (formats.md), integers convert.
  public func floats() -> [Float] {
    payload.withUnsafeBytes { raw in
      [Float](unsafeUninitializedCapacity: count) { out, n in
        NPYArray.convert(raw, dtype, into: out.baseAddress!, count: count)
        n = count
      }
    }
  }

  /// Elements as Double; `|u1` becomes `x / 255`, integers convert.
  public func doubles() -> [Double] {
    payload.withUnsafeBytes { raw in
      switch dtype {
      case .float32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)) }
      case .float64: return (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
      case .uint8: return raw.map { Double($0) / 255 }
      case .int32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
      case .int64: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
      }
    }
  }

  /// Elements as integers (labels, indices). `|u1` gives the raw byte value;
  /// floats must be integral, else a `.format` error naming the first bad element.
  public func int64s() throws -> [Int64] {
    try payload.withUnsafeBytes { raw in
      switch dtype {
      case .uint8: return raw.map { Int64($0) }
      case .int32: return (0..<count).map { Int64(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
      case .int64: return (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
      case .float32, .float64:
        return try doubles().enumerated().map { i, x in
          guard x.rounded() == x, abs(x) < 9.2e18 else {
            throw NTKitError.format(path: path, reason: "element \(i) is \(x), expected an integer (dtype \(dtype.rawValue))")
          }
          return Int64(x)
        }
      }
    }
  }

  /// The array as a tensor (`floats()` with the same shape); a `<f8` array
  /// keeps its exact values in `data64` too.
  public func tensor() -> Tensor {
    dtype == .float64 ? Tensor(shape: shape, doubles: doubles()) : Tensor(shape: shape, data: floats())
  }

  /// Converts `count` elements of `dtype` at `raw` to Float (u8 → x/255).
  static func convert(_ raw: UnsafeRawBufferPointer, _ dtype: NPYDType, into out: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    switch dtype {
    case .float32: memcpy(out, raw.baseAddress!, count * 4)
    case .float64: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
    case .uint8: for i in 0..<count { out[i] = Float(raw[i]) / 255 }
    case .int32: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    case .int64: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    }
  }
}

/// Reading and writing NumPy `.npy` files (versions 1.0, 2.0, 3.0; C order;
/// little-endian). Writes are atomic (temporary file, then rename).
public enum NPY {
  /// Reads a whole `.npy` file into memory. Sizes are validated against the
  /// file size before the payload is allocated.
  public static func read(_ path: String) throws -> NPYArray {
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    let header = try NPYHeader.read(fd: fd, fileSize: size, path: path)
    let payload = try [UInt8](unsafeUninitializedCapacity: header.dataBytes) { buffer, n in
      n = 0
      if header.dataBytes > 0 {
        try POSIXFile.readFully(fd, buffer.baseAddress!, count: header.dataBytes, offset: header.dataOffset, path: path)
      }
      n = header.dataBytes
    }
    return try NPYArray(shape: header.shape, dtype: header.dtype, payload: payload, path: path)
  }

  /// Reads a whole `.npy` file as a tensor: a `<f4` payload straight into
  /// the tensor's storage (one read, no byte copy), any other dtype through
  /// `read(_:)` and `NPYArray.tensor()`.
  public static func readTensor(_ path: String) throws -> Tensor {
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    let header = try NPYHeader.read(fd: fd, fileSize: size, path: path)
    guard header.dtype == .float32 else { return try read(path).tensor() }
    let data = try [Float](unsafeUninitializedCapacity: header.count) { buffer, n in
      n = 0
      if header.dataBytes > 0 {
        try POSIXFile.readFully(fd, UnsafeMutableRawPointer(buffer.baseAddress!), count: header.dataBytes,
                                offset: header.dataOffset, path: path)
      }
      n = header.count
    }
    return Tensor(shape: header.shape, data: data)
  }

  /// Writes `floats` as `<f4` with `shape`, atomically. NaN or Inf is refused
  /// unless `allowingNonFinite` (test fixtures of the readers' own checks).
  public static func write(_ path: String, shape: [Int], floats: [Float], allowingNonFinite: Bool = false) throws {
    try floats.withUnsafeBytes {
      try write(path, shape: shape, dtype: .float32, count: floats.count, raw: $0, checkFinite: !allowingNonFinite)
    }
  }

  /// Writes `doubles` as `<f8` with `shape`, atomically.
  public static func write(_ path: String, shape: [Int], doubles: [Double]) throws {
    try doubles.withUnsafeBytes { try write(path, shape: shape, dtype: .float64, count: doubles.count, raw: $0) }
  }

  /// Writes `int64s` as `<i8` with `shape`, atomically.
  public static func write(_ path: String, shape: [Int], int64s: [Int64]) throws {
    try int64s.withUnsafeBytes { try write(path, shape: shape, dtype: .int64, count: int64s.count, raw: $0) }
  }

  /// Writes `int32s` as `<i4` with `shape`, atomically.
  public static func write(_ path: String, shape: [Int], int32s: [Int32]) throws {
    try int32s.withUnsafeBytes { try write(path, shape: shape, dtype: .int32, count: int32s.count, raw: $0) }
  }

  /// Writes `bytes` as `|u1` with `shape`, atomically.
  public static func write(_ path: String, shape: [Int], uint8s: [UInt8]) throws {
    try uint8s.withUnsafeBytes { try write(path, shape: shape, dtype: .uint8, count: uint8s.count, raw: $0) }
  }

  /// Writes a tensor as `<f4`, atomically.
  public static func write(_ path: String, tensor: Tensor) throws {
    try write(path, shape: tensor.shape, floats: tensor.data)
  }

  /// Writes an in-memory array with its own dtype, atomically.
  public static func write(_ path: String, array: NPYArray) throws {
    try array.payload.withUnsafeBytes { try write(path, shape: array.shape, dtype: array.dtype, count: array.count, raw: $0) }
  }

  /// The element count of `shape`, or a `.shapeMismatch` error if it is
  /// negative, overflows, or differs from `count`.
  static func checkedCount(_ shape: [Int], matching count: Int?, path: String) throws -> Int {
    var n = 1
    for d in shape {
      guard d >= 0 else {
        throw NTKitError.shapeMismatch(context: "writing \(path)", expected: "non-negative dimensions", found: "shape \(shapeText(shape))")
      }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { throw NTKitError.shapeMismatch(context: "writing \(path)", expected: "a shape whose size fits in memory", found: "shape \(shapeText(shape))") }
      n = p
    }
    if let count, count != n {
      throw NTKitError.shapeMismatch(context: "writing \(path)", expected: "\(n) values for shape \(shapeText(shape))", found: "\(count) values")
    }
    return n
  }

  public static func write(_ path: String, shape: [Int], dtype: NPYDType, count: Int, raw: UnsafeRawBufferPointer,
                           checkFinite: Bool = true) throws {
    _ = try checkedCount(shape, matching: count, path: path)
    let rowLength = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
    if !checkFinite {
    } else if dtype == .float32 {
      try checkOutputFinite(raw.bindMemory(to: Float.self), path: path, rowLength: rowLength, precision: "float32")
    } else if dtype == .float64 {
      try checkOutputFinite(raw.bindMemory(to: Double.self), path: path, rowLength: rowLength, precision: "float64")
    }
    try AtomicFile.write(path) { sink in
      try sink.append(NPYHeader.encode(dtype: dtype, shape: shape))
      try sink.append(raw: raw)
    }
  }

  /// Throws `.nonFinite` naming the first NaN or Inf in `values` (as row and
  /// column when `rowLength > 1`, else as an index).
  public static func checkFinite(_ values: [Float], path: String, rowLength: Int = 1) throws {
    let first = values.withUnsafeBufferPointer { $0.isEmpty ? -1 : ntk_first_nonfinite_f32($0.baseAddress!, $0.count) }
    guard first >= 0 else { return }
    let i = first
    throw NTKitError.nonFinite(path: path, detail: finiteDetail(index: i, rowLength: rowLength, value: Double(values[i])))
  }

  /// `checkFinite` for float64 values.
  public static func checkFinite(doubles values: [Double], path: String, rowLength: Int = 1) throws {
    guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
    throw NTKitError.nonFinite(path: path, detail: finiteDetail(index: i, rowLength: rowLength, value: values[i]))
  }

  /// Throws `.nonFinite` for the first NaN or Inf of an array about to be
  /// written, with a hint: nothing non-finite ever leaves NTKit.
  static func checkOutputFinite<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>, path: String, rowLength: Int,
                                                        precision: String) throws {
    let first: Int?
    let raw = UnsafeRawPointer(values.baseAddress)
    if let raw, T.self == Float.self || T.self == Double.self {
      // Large outputs in chunks on every core (a GiB streams in ~60 ms on one); the first bad index of the first flagged chunk.
      let chunks = max(1, min(16, values.count >> 22))
      let per = (values.count + chunks - 1) / chunks
      let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
      defer { found.deallocate() }
      let scan = { (c: Int) in
        let lo = c * per, n = max(0, min(values.count, lo + per) - lo)
        let i = T.self == Float.self
          ? ntk_first_nonfinite_f32(raw.assumingMemoryBound(to: Float.self) + lo, n)
          : ntk_first_nonfinite_f64(raw.assumingMemoryBound(to: Double.self) + lo, n)
        found[c] = i < 0 ? -1 : lo + i
      }
      if chunks == 1 { scan(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: scan) }
      first = found.first { $0 >= 0 }
    } else {
      first = values.firstIndex(where: { !$0.isFinite })
    }
    guard let i = first, i >= 0 else { return }
    let hint = precision == "float32"
      ? "the result overflowed float32; try --precision f64, or scale the inputs or weights down"
      : "the result overflowed float64; scale the inputs or weights down"
    throw NTKitError.nonFinite(path: path, detail: finiteDetail(index: i, rowLength: rowLength, value: Double(values[i])) + "; nothing written: " + hint)
  }

  static func finiteDetail(index i: Int, rowLength: Int, value: Double) -> String {
    if rowLength > 1 {
      return "first at row \(i / rowLength), column \(i % rowLength) (0-based): \(value)"
    }
    return "first at index \(i) (0-based): \(value)"
  }
}
