#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The validated header of a `.npy` file as other readers and writers (MPI-IO
/// in `ntk-mpi`) need it: element type, shape and the byte offset of the
/// first element; the elements follow row-major (C order), little-endian.
public struct NPYFileHeader: Sendable, Equatable {
  public var dtype: NPYDType
  public var shape: [Int]
  /// Byte offset of element 0.
  public var dataOffset: Int
  /// Size of the whole file in bytes (header + data, checked to be enough).
  public var fileSize: Int
}

extension NPY {
  /// Reads and validates the header of `path` (sizes checked against the
  /// file size), without touching the data.
  public static func header(of path: String) throws -> NPYFileHeader {
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    let h = try NPYHeader.read(fd: fd, fileSize: size, path: path)
    return NPYFileHeader(dtype: h.dtype, shape: h.shape, dataOffset: h.dataOffset, fileSize: size)
  }

  /// The header bytes (version 1.0, or 2.0 when needed; padded to 64 bytes) that `NPY.write`
  /// puts before an array of `shape`; the data starts right after them.
  public static func headerBytes(dtype: NPYDType, shape: [Int]) -> [UInt8] {
    NPYHeader.encode(dtype: dtype, shape: shape)
  }
}
