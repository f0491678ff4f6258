#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A named float32 tensor, as stored in a safetensors file. A tensor read
/// from an F64 entry also keeps its exact values in `values64` (`values` is
/// then their float32 rounding), for float64 computations.
public struct NamedTensor: Sendable, Equatable {
  public let name: String
  public let shape: [Int]
  public var values: [Float]
  public var values64: [Double]?

  public init(name: String, shape: [Int], values: [Float]) {
    self.name = name
    self.shape = shape
    self.values = values
    self.values64 = nil
  }

  /// A float64 tensor; `values` is its float32 rounding.
  public init(name: String, shape: [Int], doubles: [Double]) {
    self.name = name
    self.shape = shape
    self.values = doubles.map { Float($0) }
    self.values64 = doubles
  }

  /// Equality of name, shape and the float32 values.
  public static func == (a: NamedTensor, b: NamedTensor) -> Bool {
    a.name == b.name && a.shape == b.shape && a.values == b.values
  }

  /// As a `Tensor` (same shape and values).
  public var tensor: Tensor { Tensor(shape: shape, data: values) }
}

/// Reading and writing safetensors files: an 8-byte little-endian header
/// length, a JSON header, then the raw little-endian tensor data.
///
/// Reads F32, F64, F16 and BF16 (converted to float32; F64 values are also
/// kept exact in `NamedTensor.values64`); writes F32 only,
/// atomically, with tensors sorted by name and contiguous offsets.
public enum Safetensors {
  /// The element types that can be read, with their sizes in bytes.
  static let readableTypes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2]

  /// Reads every tensor of `path`, keyed by name. The header is validated
  /// against the file size (offsets in range, sizes matching shape × dtype,
  /// no overlaps) before any tensor is converted.
  public static func read(_ path: String) throws -> [String: NamedTensor] {
    try readFile(path).tensors
  }

  /// Every tensor of `path`, keyed by name, and the `__metadata__` strings
  /// (empty when the file has none).
  public static func readFile(_ path: String) throws -> (tensors: [String: NamedTensor], metadata: [String: String]) {
    let bytes = try readWholeFile(path)
    func fail(_ reason: String) -> NTKitError { .format(path: path, reason: reason) }
    guard bytes.count >= 8 else {
      throw fail("truncated safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
    }
    var headerLength: UInt64 = 0
    for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw fail("header length \(headerLength) is larger than the rest of the file (\(bytes.count - 8) bytes): truncated or not a safetensors file")
    }
    let dataStart = 8 + Int(headerLength)
    let dataSize = bytes.count - dataStart
    guard headerLength > 0, bytes[8] == UInt8(ascii: "{") else {
      throw fail("not a safetensors file: the header does not start with '{'")
    }
    let headerBytes = Array(bytes[8..<dataStart])
    if let bad = nonIntegerArrayToken(headerBytes) {
      throw fail("'\(bad.key)' must hold non-negative integers, found \(bad.token)")
    }
    let header = try JSONValue.parse(headerBytes, path: path)
    guard case .object(let members) = header else {
      throw fail("safetensors header must be a JSON object, found \(header.kindName)")
    }

    struct Entry { var name: String; var dtype: String; var shape: [Int]; var begin: Int; var end: Int; var count: Int }
    var entries: [Entry] = []
    var metadata: [String: String] = [:]
    for (name, info) in members {
      if name == "__metadata__" {
        guard case .object(let meta) = info, meta.allSatisfy({ $0.value.stringValue != nil }) else {
          throw fail("'__metadata__' must be an object of strings")
        }
        for (key, value) in meta { metadata[key] = value.stringValue }
        continue
      }
      guard case .object = info else { throw fail("tensor '\(name)': expected an object, found \(info.kindName)") }
      guard let dtype = info["dtype"]?.stringValue else { throw fail("tensor '\(name)': missing string 'dtype'") }
      guard let itemSize = readableTypes[dtype] else {
        throw fail("tensor '\(name)' has unsupported dtype \(dtype), expected F32, F64, F16 or BF16")
      }
      guard let dims = info["shape"]?.arrayValue else { throw fail("tensor '\(name)': missing 'shape' array") }
      var shape: [Int] = []
      var count = 1
      for d in dims {
        guard let n = d.intValue, n >= 0 else {
          throw fail("tensor '\(name)': shape must hold non-negative integers, found \(d.serialized())")
        }
        let (p, o) = count.multipliedReportingOverflow(by: n)
        if o { throw fail("tensor '\(name)': shape \(shapeText(shape + [n])) is too large") }
        shape.append(n)
        count = p
      }
      guard let offsets = info["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].intValue, let end = offsets[1].intValue else {
        throw fail("tensor '\(name)': 'data_offsets' must be [begin, end] integers")
      }
      guard begin >= 0, begin <= end, end <= dataSize else {
        throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] out of range of the \(dataSize)-byte data section (truncated file?)")
      }
      let (needed, o) = count.multipliedReportingOverflow(by: itemSize)
      guard !o, needed == end - begin else {
        throw fail("tensor '\(name)': shape \(shapeText(shape)) of \(dtype) needs \(o ? "too many" : String(needed)) bytes, but data_offsets [\(begin), \(end)] span \(end - begin)")
      }
      for key in info.objectValue!.map(\.key) where !["dtype", "shape", "data_offsets"].contains(key) {
        throw fail("tensor '\(name)': unexpected key '\(key)'")
      }
      entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end, count: count))
    }
    let byOffset = entries.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
    for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.begin < a.end {
      throw fail("tensors '\(a.name)' [\(a.begin), \(a.end)] and '\(b.name)' [\(b.begin), \(b.end)] overlap")
    }
    // As strict as the reference implementation: the tensors tile the data
    // section exactly, from 0 to its end, with no gap and no trailing bytes.
    var expected = 0
    for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
      guard e.begin == expected else {
        throw fail("tensor '\(e.name)' starts at byte \(e.begin) of the data section but the previous tensor ends at \(expected): gaps are not allowed")
      }
      expected = e.end
    }
    guard expected == dataSize else {
      throw fail("\(dataSize - expected) unexpected bytes after the last tensor (data section of \(dataSize) bytes, tensors end at \(expected))")
    }

    var result: [String: NamedTensor] = [:]
    bytes.withUnsafeBytes { all in
      let data = UnsafeRawBufferPointer(rebasing: all[dataStart...])
      for e in entries {
        let values = [Float](unsafeUninitializedCapacity: e.count) { out, n in
          for i in 0..<e.count {
            let at = e.begin
            switch e.dtype {
            case "F32": out[i] = data.loadUnaligned(fromByteOffset: at + 4 * i, as: Float.self)
            case "F64": out[i] = Float(data.loadUnaligned(fromByteOffset: at + 8 * i, as: Double.self))
            case "F16": out[i] = HalfFloat.float(fromHalf: data.loadUnaligned(fromByteOffset: at + 2 * i, as: UInt16.self))
            default: out[i] = HalfFloat.float(fromBFloat16: data.loadUnaligned(fromByteOffset: at + 2 * i, as: UInt16.self))
            }
          }
          n = e.count
        }
        var tensor = NamedTensor(name: e.name, shape: e.shape, values: values)
        if e.dtype == "F64" {
          tensor.values64 = (0..<e.count).map { data.loadUnaligned(fromByteOffset: e.begin + 8 * $0, as: Double.self) }
        }
        result[e.name] = tensor
      }
    }
    return (result, metadata)
  }

  /// Writes `tensors` as F32, sorted by name with contiguous offsets, atomically.
  /// `metadata` goes into `__metadata__` when not empty.
  /// NaN or Inf is refused unless `allowingNonFinite` (test fixtures).
  public static func write(_ path: String, tensors: [NamedTensor], metadata: [String: String] = [:],
                           allowingNonFinite: Bool = false) throws {
    let sorted = tensors.sorted { $0.name < $1.name }
    var members: [(key: String, value: JSONValue)] = []
    if !metadata.isEmpty {
      members.append((key: "__metadata__", value: .object(metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })))
    }
    var offset = 0
    var previous: String?
    for t in sorted {
      if t.name == previous {
        throw NTKitError.invalidArgument("writing \(path): duplicate tensor name '\(t.name)'")
      }
      if t.name == "__metadata__" {
        throw NTKitError.invalidArgument("writing \(path): '__metadata__' is reserved and cannot name a tensor")
      }
      previous = t.name
      let count = try NPY.checkedCount(t.shape, matching: t.values.count, path: "\(path) tensor '\(t.name)'")
      if !allowingNonFinite, let bad = t.values.firstIndex(where: { !$0.isFinite }) {
        throw NTKitError.nonFinite(path: path, detail: "in tensor '\(t.name)' at index \(bad): \(t.values[bad]); nothing written (the weights diverged: lower the learning rate)")
      }
      let info: JSONValue = [
        "dtype": "F32",
        "shape": .array(t.shape.map { .number(Double($0)) }),
        "data_offsets": [.number(Double(offset)), .number(Double(offset + 4 * count))],
      ]
      members.append((key: t.name, value: info))
      offset += 4 * count
    }
    var header = Array(JSONValue.object(members).serialized().utf8)
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    try AtomicFile.write(path) { sink in
      try sink.append(value: UInt64(header.count).littleEndian)
      try sink.append(header)
      for t in sorted { try sink.append(contentsOf: t.values) }
    }
  }

  /// The first element of a `"shape"` or `"data_offsets"` array in the raw
  /// header text that is not written as a plain non-negative integer (`1.0`,
  /// `1e2`, `-0`): the parsed JSON no longer tells `1.0` from `1`, the
  /// reference implementation rejects it.
  static func nonIntegerArrayToken(_ text: [UInt8]) -> (key: String, token: String)? {
    for key in ["shape", "data_offsets"] {
      let needle = Array("\"\(key)\"".utf8)
      var i = 0
      while i + needle.count <= text.count {
        guard text[i..<i + needle.count].elementsEqual(needle), i == 0 || text[i - 1] != UInt8(ascii: "\\") else { i += 1; continue }
        var j = i + needle.count
        func skipSpace() { while j < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[j]) { j += 1 } }
        skipSpace()
        guard j < text.count, text[j] == UInt8(ascii: ":") else { i += 1; continue }
        j += 1
        skipSpace()
        guard j < text.count, text[j] == UInt8(ascii: "[") else { i += 1; continue }
        j += 1
        var token: [UInt8] = []
        while j < text.count {
          let c = text[j]
          if c == UInt8(ascii: ",") || c == UInt8(ascii: "]") {
            let t = String(decoding: token, as: UTF8.self)
            if !t.isEmpty && !(t.allSatisfy { $0.isASCII && $0.isNumber } && (t == "0" || !t.hasPrefix("0"))) {
              return (key, t)
            }
            token = []
            if c == UInt8(ascii: "]") { break }
          } else if ![0x20, 0x09, 0x0A, 0x0D].contains(c) {
            token.append(c)
          }
          j += 1
        }
        i = j
      }
    }
    return nil
  }
}
