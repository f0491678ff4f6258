#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered, append-only writer to an open file descriptor.
///
/// Obtained from `AtomicFile.write(_:_:)`; values are written in the host's
/// byte order, which is little-endian on every platform NTKit supports.
public struct FileSink {
  let fd: Int32
  /// The user-facing path (the final name, not the temporary one) for errors.
  public let path: String
  private var buffer: [UInt8] = []
  private let capacity: Int
  /// Bytes appended so far (buffered or written).
  public private(set) var count: Int = 0

  init(fd: Int32, path: String, capacity: Int = 1 << 20) {
    self.fd = fd
    self.path = path
    self.capacity = capacity
    buffer.reserveCapacity(capacity)
  }

  /// Appends raw bytes; large blocks bypass the buffer.
  public mutating func append(raw bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count > 0 else { return }
    count += bytes.count
    if buffer.count + bytes.count <= capacity {
      buffer.append(contentsOf: bytes)
      return
    }
    try flush()
    if bytes.count >= capacity {
      try POSIXFile.writeFully(fd, bytes.baseAddress!, count: bytes.count, path: path)
    } else {
      buffer.append(contentsOf: bytes)
    }
  }

  /// Appends bytes.
  public mutating func append(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try append(raw: $0) }
  }

  /// Appends the UTF-8 encoding of `text`.
  public mutating func append(_ text: String) throws {
    try append(Array(text.utf8))
  }

  /// Appends the in-memory (little-endian) representation of `values`.
  public mutating func append<T: BitwiseCopyable>(contentsOf values: [T]) throws {
    try values.withUnsafeBytes { try append(raw: $0) }
  }

  /// Appends the in-memory (little-endian) representation of one value.
  public mutating func append<T: BitwiseCopyable>(value: T) throws {
    try withUnsafeBytes(of: value) { try append(raw: $0) }
  }

  /// Writes out whatever is buffered.
  public mutating func flush() throws {
    guard !buffer.isEmpty else { return }
    try buffer.withUnsafeBytes {
      try POSIXFile.writeFully(fd, $0.baseAddress!, count: $0.count, path: path)
    }
    buffer.removeAll(keepingCapacity: true)
  }
}
