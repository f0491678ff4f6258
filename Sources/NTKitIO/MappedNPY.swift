import CNTKitSafety
import Dispatch
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
///
/// Every read from the mapping is guarded: a file truncated under the map
/// (which would raise SIGBUS) or changed on disk (size or modification time)
/// is an error naming the file, never a bus error.
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
  private let fd: Int32
  private let size: Int
  private let modified: timespec

  /// Maps `path`; the header and the file size are validated first.
  public init(path: String) throws {
    let (fd, size) = try POSIXFile.openForReading(path)
    var ok = false
    defer { if !ok { close(fd) } }
    let header = try NPYHeader.read(fd: fd, fileSize: size, path: path)
    guard !header.shape.isEmpty else {
      throw NTKitError.format(path: path, reason: "expected an array of at least 1 dimension (rows first), found a 0-d scalar")
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw NTKitError.io(path: path, reason: "cannot stat: \(POSIXFile.errnoText())") }
    self.path = path
    self.shape = header.shape
    self.dtype = header.dtype
    self.rowLength = header.shape.dropFirst().reduce(1, *)
    self.dataOffset = header.dataOffset
    self.mappedLength = size
    self.size = size
    self.modified = info.st_mtim
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw NTKitError.io(path: path, reason: "cannot memory-map \(formatBytes(size)): \(POSIXFile.errnoText())")
    }
    madvise(p, size, MADV_SEQUENTIAL)
    self.base = p
    self.fd = fd
    ok = true
  }

  deinit {
    if let base { munmap(base, mappedLength) }
    close(fd)
  }

  /// Throws when the file is no longer what was mapped (truncated, grown or rewritten).
  public func checkUnchanged() throws {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw NTKitError.io(path: path, reason: "cannot stat: \(POSIXFile.errnoText())") }
    if Int(info.st_size) != size {
      throw NTKitError.io(path: path, reason: "the file changed while being read (\(size) bytes, now \(info.st_size)); leave the pool alone during the run and start again")
    }
    if info.st_mtim.tv_sec != modified.tv_sec || info.st_mtim.tv_nsec != modified.tv_nsec {
      throw NTKitError.io(path: path, reason: "the file was rewritten while being read (its modification time changed); leave the pool alone during the run and start again")
    }
  }

  /// Copies `count` bytes at `offset` of the element data into `into`,
  /// guarded against SIGBUS.
  func guardedCopy(offset: Int, count: Int, into: UnsafeMutableRawPointer) throws {
    guard count > 0 else { return }
    if ntk_guarded_copy(into, UnsafeRawPointer(base! + dataOffset + offset), count) != 0 {
      throw NTKitError.io(path: path, reason: "the file was truncated while being read (bus error on the mapping); leave the pool alone during the run and start again")
    }
  }

  /// Copies rows `range` (converted to float32; `|u1` as x/255) into `into`,
  /// which must hold `range.count * rowLength` floats. Throws when the file
  /// changed under the mapping.
  public func copyRows(_ range: Range<Int>, into: UnsafeMutablePointer<Float>) throws {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "MappedNPY.copyRows: rows \(range) out of 0..<\(rows)")
    try checkUnchanged()
    let start = range.lowerBound * rowLength * dtype.itemSize
    let count = range.count * rowLength
    if dtype == .float32 {
      try guardedCopy(offset: start, count: count * 4, into: UnsafeMutableRawPointer(into))
      return
    }
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count * dtype.itemSize, 1), alignment: 16)
    defer { raw.deallocate() }
    try guardedCopy(offset: start, count: count * dtype.itemSize, into: raw.baseAddress!)
    NPYArray.convert(UnsafeRawBufferPointer(rebasing: raw[0..<count * dtype.itemSize]), dtype, into: into, count: count)
  }

  /// Rows `range` as a tensor of shape `[range.count] + shape.dropFirst()`.
  public func tensor(rows range: Range<Int>) throws -> Tensor {
    var data = [Float](repeating: 0, count: range.count * rowLength)
    try data.withUnsafeMutableBufferPointer { if range.count > 0 { try copyRows(range, into: $0.baseAddress!) } }
    return Tensor(shape: [range.count] + shape.dropFirst(), data: data)
  }

  /// Scans every element (in guarded chunks); throws `.nonFinite` naming the
  /// first row (and column) that holds a NaN or Inf. Integer files are always finite.
  public func checkFinite() throws {
    guard dtype == .float32 || dtype == .float64 else { return }
    let n = rows * rowLength
    let item = dtype.itemSize
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * item, alignment: 16)
    defer { buffer.deallocate() }
    try checkUnchanged()
    var lo = 0
    while lo < n {
      let c = min(chunk, n - lo)
      try guardedCopy(offset: lo * item, count: c * item, into: buffer.baseAddress!)
      for k in 0..<c {
        let value: Double
        if dtype == .float32 {
          let x = buffer.load(fromByteOffset: k * 4, as: UInt32.self)
          if x & 0x7F80_0000 != 0x7F80_0000 { continue }
          value = Double(Float(bitPattern: x))
        } else {
          let x = buffer.load(fromByteOffset: k * 8, as: UInt64.self)
          if x & 0x7FF0_0000_0000_0000 != 0x7FF0_0000_0000_0000 { continue }
          value = Double(bitPattern: x)
        }
        throw NTKitError.nonFinite(path: path, detail: NPY.finiteDetail(index: lo + k, rowLength: max(rowLength, 2), value: value))
      }
      lo += c
    }
  }
}

extension NPY {
  /// Writes a large `<f4` array straight into a memory-mapped temporary file
  /// that is committed (`AtomicFile`) when `body` returns and every value is
  /// finite; on a throw the temporary file is removed. The space is reserved
  /// up front (`reserve`), so a full disk is an error here rather than a bus
  /// error while writing. An existing character device (`/dev/null`) gets
  /// the bytes from an anonymous mapping, written directly.
  public static func withMappedOutput(_ path: String, shape: [Int],
                                      _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
    let count = try checkedCount(shape, matching: nil, path: path)
    let header = NPYHeader.encode(dtype: .float32, shape: shape)
    let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
    let (total, overflow2) = bytes.addingReportingOverflow(header.count)
    if overflow || overflow2 {
      throw NTKitError.shapeMismatch(context: "writing \(path)", expected: "a shape whose size fits in memory", found: "shape \(shapeText(shape))")
    }
    var info = stat()
    let device = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR
    let staged = try AtomicFile.stage(path, readWrite: !device)
    var mapped: UnsafeMutableRawPointer?
    do {
      if device {
        guard let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
          throw NTKitError.io(path: path, reason: "cannot allocate \(formatBytes(total)) for the output: \(POSIXFile.errnoText())")
        }
        mapped = p
      } else {
        guard ftruncate(staged.fd, off_t(total)) == 0 else {
          let e = errno
          throw NTKitError.io(path: path, reason: "cannot size the file to \(formatBytes(total)): \(POSIXFile.errnoText(e))\(e == ENOSPC || e == EFBIG ? " (the disk is full)" : "")")
        }
        guard let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_SHARED, staged.fd, 0), p != MAP_FAILED else {
          throw NTKitError.io(path: path, reason: "cannot memory-map \(formatBytes(total)) for writing: \(POSIXFile.errnoText())")
        }
        mapped = p
        try reserve(p, total, fd: staged.fd, path: path)
      }
      let p = mapped!
      header.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
      let floats = (p + header.count).bindMemory(to: Float.self, capacity: count)
      let buffer = UnsafeMutableBufferPointer(start: floats, count: count)
      try body(buffer)
      try Interrupt.check()
      try NPY.checkOutputFinite(UnsafeBufferPointer(buffer), path: path, rowLength: shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1, precision: "float32")
      if device {
        try POSIXFile.writeFully(staged.fd, p, count: total, path: path)
      } else if msync(p, total, MS_SYNC) != 0 {
        throw NTKitError.io(path: path, reason: "write failed (msync): \(POSIXFile.errnoText())")
      }
      munmap(p, total)
      mapped = nil
    } catch {
      if let mapped { munmap(mapped, total) }
      staged.remove()
      throw error
    }
    try AtomicFile.finish(staged)
  }

  /// Allocates every page of a fresh shared mapping before it is written:
  /// `MADV_POPULATE_WRITE` (Linux ≥ 5.14) in two halves at once, which fails
  /// with EFAULT where a write would raise SIGBUS (no space); on older
  /// kernels `posix_fallocate`. On the VMs measured, populating a tmpfs
  /// file and computing into it cost 0.8–0.9 s per GiB against 1.0–1.3 s
  /// for anonymous memory plus one `write`.
  static func reserve(_ p: UnsafeMutableRawPointer, _ total: Int, fd: Int32, path: String) throws {
    let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE
    let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
    let half = (total / 2 + page - 1) / page * page
    var codes = [Int32](repeating: 0, count: 2)
    codes.withUnsafeMutableBufferPointer { rc in
      DispatchQueue.concurrentPerform(iterations: 2) { k in
        let lo = k * half, n = k == 0 ? min(half, total) : total - min(half, total)
        guard n > 0 else { return }
        rc[k] = madvise(p + lo, n, populateWrite) == 0 ? 0 : errno
      }
    }
    var failure = codes.first { $0 != 0 } ?? 0
    if failure == EINVAL {
      // No MADV_POPULATE_WRITE: reserve the blocks instead.
      failure = posix_fallocate(fd, 0, off_t(total))
      if failure == EOPNOTSUPP || failure == EINVAL { failure = 0 }
    }
    guard failure != 0 else { return }
    let full = failure == EFAULT || failure == ENOSPC || failure == EFBIG
    let why = full ? "no space left (the disk is full)" : failure == ENOMEM ? "out of memory" : POSIXFile.errnoText(failure)
    throw NTKitError.io(path: path, reason: "cannot reserve \(formatBytes(total)): \(why)")
  }
}
