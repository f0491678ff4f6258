#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parsed preamble of a `.npy` file: dtype, shape and where the data starts.
///
/// Reads versions 1.0, 2.0 and 3.0. The header dictionary is parsed as the
/// Python literal NumPy writes; every size is checked against the file size
/// with overflow-checked arithmetic before anything is allocated.
struct NPYHeader {
  var dtype: NPYDType
  var shape: [Int]
  /// Byte offset of the first element (the header length, a multiple of 64 when numpy wrote it).
  var dataOffset: Int
  /// Number of elements (product of `shape`).
  var count: Int
  /// Bytes of element data (`count * itemSize`).
  var dataBytes: Int

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

  /// Reads and validates the header of the open file `fd` of `fileSize` bytes.
  static func read(fd: Int32, fileSize: Int, path: String) throws -> NPYHeader {
    if fileSize < 10 {
      throw NTKitError.format(path: path, reason: "truncated .npy file: \(fileSize) bytes, shorter than the 10-byte preamble")
    }
    var pre = [UInt8](repeating: 0, count: min(fileSize, 12))
    try pre.withUnsafeMutableBytes { try POSIXFile.readFully(fd, $0.baseAddress!, count: $0.count, offset: 0, path: path) }
    guard Array(pre[0..<6]) == magic else {
      let shown = pre[0..<6].map { b in b >= 0x20 && b < 0x7F ? String(Character(Unicode.Scalar(b))) : "\\x" + String(b, radix: 16) }.joined()
      throw NTKitError.format(path: path, reason: "not a .npy file: wrong magic, expected \"\\x93NUMPY\", found \"\(shown)\"")
    }
    let major = pre[6], minor = pre[7]
    let headerLength: Int
    let start: Int
    switch major {
    case 1:
      headerLength = Int(pre[8]) | Int(pre[9]) << 8
      start = 10
    case 2, 3:
      guard fileSize >= 12 else {
        throw NTKitError.format(path: path, reason: "truncated .npy file: \(fileSize) bytes, shorter than the 12-byte version \(major) preamble")
      }
      headerLength = Int(pre[8]) | Int(pre[9]) << 8 | Int(pre[10]) << 16 | Int(pre[11]) << 24
      start = 12
    default:
      throw NTKitError.format(path: path, reason: "unsupported .npy format version \(major).\(minor), expected 1.0, 2.0 or 3.0")
    }
    let dataOffset = start + headerLength
    guard dataOffset <= fileSize else {
      throw NTKitError.format(path: path, reason: "truncated .npy file: header claims \(headerLength) bytes but the file has \(fileSize - start) bytes after the preamble")
    }
    var text = [UInt8](repeating: 0, count: headerLength)
    if headerLength > 0 {
      try text.withUnsafeMutableBytes { try POSIXFile.readFully(fd, $0.baseAddress!, count: headerLength, offset: start, path: path) }
    }
    var header = try parseDictionary(text, path: path)
    header.dataOffset = dataOffset
    // Sizes, overflow-checked, before anything the size of the data is allocated.
    var count = 1
    for d in header.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      if overflow { throw NTKitError.format(path: path, reason: "shape \(shapeText(header.shape)) is too large (element count overflows)") }
      count = product
    }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: header.dtype.itemSize)
    if overflow { throw NTKitError.format(path: path, reason: "shape \(shapeText(header.shape)) is too large (byte count overflows)") }
    header.count = count
    header.dataBytes = bytes
    let available = fileSize - dataOffset
    if available < bytes {
      throw NTKitError.format(path: path, reason: "truncated .npy file: shape \(shapeText(header.shape)) of \(header.dtype.rawValue) needs \(bytes) bytes of data, found \(available)")
    }
    if available > bytes {
      throw NTKitError.format(path: path, reason: "\(available - bytes) unexpected bytes after the data: shape \(shapeText(header.shape)) of \(header.dtype.rawValue) needs \(bytes) bytes, found \(available)")
    }
    return header
  }

  /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
  static func parseDictionary(_ text: [UInt8], path: String) throws -> NPYHeader {
    var parser = PyLiteralParser(bytes: text, path: path)
    let value = try parser.parseHeader()
    guard case .dict(let entries) = value else {
      throw NTKitError.format(path: path, reason: "invalid .npy header: expected a dictionary")
    }
    var descr: PyLiteral?, fortran: PyLiteral?, shape: PyLiteral?
    for (key, v) in entries {
      switch key {
      case "descr": descr = v
      case "fortran_order": fortran = v
      case "shape": shape = v
      default: throw NTKitError.format(path: path, reason: "invalid .npy header: unexpected key '\(key)'")
      }
    }
    guard let descr, let fortran, let shape else {
      let missing = [("descr", descr), ("fortran_order", fortran), ("shape", shape)].filter { $0.1 == nil }.map { "'\($0.0)'" }
      throw NTKitError.format(path: path, reason: "invalid .npy header: missing key \(missing.joined(separator: ", "))")
    }
    let dtype: NPYDType
    switch descr {
    case .string(let s): dtype = try NPYDType(descr: s, path: path)
    case .list: throw NTKitError.format(path: path, reason: "structured (record) dtypes are not supported; expected one of \(NPYDType.supportedList)")
    default: throw NTKitError.format(path: path, reason: "invalid .npy header: 'descr' must be a string")
    }
    guard case .tuple(let dims) = shape else {
      throw NTKitError.format(path: path, reason: "invalid .npy header: 'shape' must be a tuple of integers")
    }
    var dims2: [Int] = []
    for d in dims {
      guard case .int(let n) = d, n >= 0 else {
        throw NTKitError.format(path: path, reason: "invalid .npy header: 'shape' must hold non-negative integers")
      }
      dims2.append(n)
    }
    guard case .bool(let isFortran) = fortran else {
      throw NTKitError.format(path: path, reason: "invalid .npy header: 'fortran_order' must be True or False")
    }
    // A Fortran-order array with at most one non-trivial axis has the same layout as C order.
    if isFortran && dims2.filter({ $0 > 1 }).count > 1 {
      throw NTKitError.format(path: path, reason: "Fortran-order (column-major) arrays are not supported; expected fortran_order False (save np.ascontiguousarray(x))")
    }
    return NPYHeader(dtype: dtype, shape: dims2, dataOffset: 0, count: 0, dataBytes: 0)
  }

  /// The header bytes (preamble, dictionary, padding, '\n') for writing; the
  /// total length is a multiple of 64. Version 1.0 unless the header needs 2.0.
  static func encode(dtype: NPYDType, shape: [Int]) -> [UInt8] {
    let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    let dict = Array("{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(dims), }".utf8)
    var prefix = 10
    var total = (prefix + dict.count + 1 + 63) / 64 * 64
    if total - prefix > 65535 {
      prefix = 12
      total = (prefix + dict.count + 1 + 63) / 64 * 64
    }
    let headerLength = total - prefix
    var out = magic
    if prefix == 10 {
      out += [1, 0, UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)]
    } else {
      out += [2, 0] + (0..<4).map { UInt8((headerLength >> (8 * $0)) & 0xFF) }
    }
    out += dict
    out += [UInt8](repeating: 0x20, count: total - out.count - 1)
    out.append(0x0A)
    return out
  }
}

/// `(3, 4)`-style text of a shape for messages.
func shapeText(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}

/// The subset of Python literals that appears in `.npy` headers.
enum PyLiteral: Equatable {
  case string(String), int(Int), bool(Bool), none
  case tuple([PyLiteral]), list([PyLiteral])
  case dict([(String, PyLiteral)])

  static func == (a: PyLiteral, b: PyLiteral) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.none, .none): return true
    case (.tuple(let x), .tuple(let y)), (.list(let x), .list(let y)): return x == y
    case (.dict(let x), .dict(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }
}

/// A small strict parser for the Python dictionary literal of a `.npy` header.
struct PyLiteralParser {
  let bytes: [UInt8]
  let path: String
  var pos = 0
  var depth = 0

  init(bytes: [UInt8], path: String) {
    self.bytes = bytes
    self.path = path
  }

  func fail(_ message: String) -> NTKitError {
    .format(path: path, reason: "invalid .npy header at byte \(pos): \(message)")
  }

  mutating func skipSpace() {
    while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x00].contains(bytes[pos]) { pos += 1 }
  }

  mutating func parseHeader() throws -> PyLiteral {
    skipSpace()
    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else {
      throw fail("expected '{' starting the header dictionary")
    }
    let value = try parseValue()
    skipSpace()
    if pos < bytes.count { throw fail("unexpected text after the header dictionary") }
    return value
  }

  mutating func expect(_ c: Character) throws {
    skipSpace()
    guard pos < bytes.count, bytes[pos] == c.asciiValue! else { throw fail("expected '\(c)'") }
    pos += 1
  }

  /// Items up to `close`, allowing a trailing comma.
  mutating func items(until close: UInt8) throws -> [PyLiteral] {
    var out: [PyLiteral] = []
    while true {
      skipSpace()
      if pos < bytes.count && bytes[pos] == close { pos += 1; return out }
      out.append(try parseValue())
      skipSpace()
      guard pos < bytes.count else { throw fail("unterminated literal") }
      if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
      if bytes[pos] == close { pos += 1; return out }
      throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
    }
  }

  mutating func parseValue() throws -> PyLiteral {
    skipSpace()
    guard pos < bytes.count else { throw fail("unexpected end of header") }
    depth += 1
    defer { depth -= 1 }
    if depth > 32 { throw fail("nesting too deep") }
    let b = bytes[pos]
    switch b {
    case UInt8(ascii: "{"):
      pos += 1
      var entries: [(String, PyLiteral)] = []
      while true {
        skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(entries) }
        guard case .string(let key) = try parseValue() else { throw fail("dictionary keys must be strings") }
        if entries.contains(where: { $0.0 == key }) { throw fail("duplicate key '\(key)'") }
        try expect(":")
        entries.append((key, try parseValue()))
        skipSpace()
        guard pos < bytes.count else { throw fail("unterminated dictionary") }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
        if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(entries) }
        throw fail("expected ',' or '}' in dictionary")
      }
    case UInt8(ascii: "("):
      pos += 1
      return .tuple(try items(until: UInt8(ascii: ")")))
    case UInt8(ascii: "["):
      pos += 1
      return .list(try items(until: UInt8(ascii: "]")))
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      pos += 1
      let start = pos
      while pos < bytes.count && bytes[pos] != b {
        if bytes[pos] == UInt8(ascii: "\\") { throw fail("escapes in strings are not supported") }
        pos += 1
      }
      guard pos < bytes.count else { throw fail("unterminated string") }
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      pos += 1
      return .string(text)
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
      let negative = b == UInt8(ascii: "-")
      if negative { pos += 1 }
      var value = 0
      var digits = 0
      while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(Int(bytes[pos] - 0x30))
        if o1 || o2 { throw fail("integer too large") }
        value = s
        digits += 1
        pos += 1
      }
      if digits == 0 { throw fail("expected digits") }
      if pos < bytes.count && (bytes[pos] == UInt8(ascii: "L") || bytes[pos] == UInt8(ascii: "l")) { pos += 1 }
      return .int(negative ? -value : value)
    default:
      let start = pos
      while pos < bytes.count, (bytes[pos] >= 0x41 && bytes[pos] <= 0x5A) || (bytes[pos] >= 0x61 && bytes[pos] <= 0x7A) { pos += 1 }
      switch String(decoding: bytes[start..<pos], as: UTF8.self) {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default: pos = start; throw fail("unexpected character '\(Character(Unicode.Scalar(b)))'")
      }
    }
  }
}
