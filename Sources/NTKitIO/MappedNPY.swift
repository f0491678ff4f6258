#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, memory-mapped view of a large `.npy` file (pools of up to
/// 1e7 × 784 samples) whose rows are converted to float32 on demand.
///
/// The file is never copied into memory as a whole; the kernel pages it in.
/// Element types: `<f4`, `<f8`, `|u1` (as x/255), `<i4`, `<i8`.
public final class MappedNPY: @unchecked Sendable {
  public let path: String
  public let shape: [Int]
  public let dtype: NPYDType
  /// The leading dimension (samples).
  public var rows: Int { shape[0] }
  /// Elements per row (product of the trailing dimensions).
  public let rowLength: Int
  private let base: UnsafeMutableRawPointer?
  private let mappedLength: Int
  private let dataOffset: Int

  /// Maps `path`; the header and the file size are validated first.
  public init(path: String) throws {
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    let header = try NPYHeader.read(fd: fd, fileSize: size, path: path)
    guard !header.shape.isEmpty else {
      throw NTKitError.format(path: path, reason: "expected an array of at least 1 dimension (rows first), found a 0-d scalar")
    }
    self.path = path
    self.shape = header.shape
    self.dtype = header.dtype
    self.rowLength = header.shape.dropFirst().reduce(1, *)
    self.dataOffset = header.dataOffset
    self.mappedLength = size
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw NTKitError.io(path: path, reason: "cannot memory-map \(formatBytes(size)): \(POSIXFile.errnoText())")
    }
    madvise(p, size, MADV_SEQUENTIAL)
    self.base = p
  }

  deinit {
    if let base { munmap(base, mappedLength) }
  }

  /// The raw element bytes (C order, little-endian).
  public var rawData: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base! + dataOffset, count: rows * rowLength * dtype.itemSize)
  }

  /// The elements without copying when the file is `<f4`, else nil.
  /// Valid while this object is alive.
  public var float32Data: UnsafeBufferPointer<Float>? {
    guard dtype == .float32 else { return nil }
    // numpy pads headers to 64 bytes, so the data is aligned; check anyway.
    let p = base! + dataOffset
    guard Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 else { return nil }
    return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: rows * rowLength)
  }

  /// Copies rows `range` (converted to float32; `|u1` as x/255) into `into`,
  /// which must hold `range.count * rowLength` floats.
  public func copyRows(_ range: Range<Int>, into: UnsafeMutablePointer<Float>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "MappedNPY.copyRows: rows \(range) out of 0..<\(rows)")
    let start = range.lowerBound * rowLength * dtype.itemSize
    let count = range.count * rowLength
    let raw = UnsafeRawBufferPointer(rebasing: rawData[start..<(start + count * dtype.itemSize)])
    NPYArray.convert(raw, dtype, into: into, count: count)
  }

  /// Rows `range` as a tensor of shape `[range.count] + shape.dropFirst()`.
  public func tensor(rows range: Range<Int>) -> Tensor {
    var data = [Float](repeating: 0, count: range.count * rowLength)
    data.withUnsafeMutableBufferPointer { if range.count > 0 { copyRows(range, into: $0.baseAddress!) } }
    return Tensor(shape: [range.count] + shape.dropFirst(), data: data)
  }

  /// Scans every element; throws `.nonFinite` naming the first row (and
  /// column) that holds a NaN or Inf. Integer files are always finite.
  public func checkFinite() throws {
    let n = rows * rowLength
    let raw = rawData
    func report(_ i: Int, _ value: Double) -> NTKitError {
      .nonFinite(path: path, detail: NPY.finiteDetail(index: i, rowLength: max(rowLength, 2), value: value))
    }
    switch dtype {
    case .float32:
      for i in 0..<n {
        let x = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
        if x & 0x7F80_0000 == 0x7F80_0000 { throw report(i, Double(Float(bitPattern: x))) }
      }
    case .float64:
      for i in 0..<n {
        let x = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
        if x & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 { throw report(i, Double(bitPattern: x)) }
      }
    default: return
    }
  }
}

extension NPY {
  /// Writes a large `<f4` array straight into a memory-mapped temporary file
  /// that is renamed to `path` when `body` returns; on a throw the temporary
  /// file is removed. The space is reserved up front (`posix_fallocate`), so
  /// a full disk is an error here rather than a crash while writing.
  public static func withMappedOutput(_ path: String, shape: [Int],
                                      _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
    let count = try checkedCount(shape, matching: nil, path: path)
    let header = NPYHeader.encode(dtype: .float32, shape: shape)
    let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
    let (total, overflow2) = bytes.addingReportingOverflow(header.count)
    if overflow || overflow2 {
      throw NTKitError.shapeMismatch(context: "writing \(path)", expected: "a shape whose size fits in memory", found: "shape \(shapeText(shape))")
    }
    let (fd, tmp) = try AtomicFile.createTemporary(for: path, readWrite: true)
    var mapped: UnsafeMutableRawPointer?
    do {
      let rc = posix_fallocate(fd, 0, off_t(total))
      if rc != 0 && !(rc == EOPNOTSUPP || rc == EINVAL) {
        throw NTKitError.io(path: path, reason: "cannot reserve \(formatBytes(total)): \(POSIXFile.errnoText(rc))")
      }
      if rc != 0 && ftruncate(fd, off_t(total)) != 0 {
        throw NTKitError.io(path: path, reason: "cannot size the file to \(formatBytes(total)): \(POSIXFile.errnoText())")
      }
      guard let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
        throw NTKitError.io(path: path, reason: "cannot memory-map \(formatBytes(total)) for writing: \(POSIXFile.errnoText())")
      }
      mapped = p
      header.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
      let floats = (p + header.count).bindMemory(to: Float.self, capacity: count)
      try body(UnsafeMutableBufferPointer(start: floats, count: count))
      munmap(p, total)
      mapped = nil
    } catch {
      if let mapped { munmap(mapped, total) }
      close(fd)
      unlink(tmp)
      throw error
    }
    try AtomicFile.commit(fd: fd, tmp: tmp, path: path)
  }
}
