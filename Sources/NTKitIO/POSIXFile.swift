#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the POSIX calls the file formats use.
public enum POSIXFile {
  /// The text of the current `errno`, e.g. "No such file or directory".
  public static func errnoText(_ code: Int32 = errno) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
  }

  /// Opens `path` read-only and checks that it is a regular, non-empty file.
  /// Returns the descriptor (caller closes it) and the file size.
  static func openForReading(_ path: String, allowEmpty: Bool = false) throws -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      let code = errno
      switch code {
      case ENOENT: throw NTKitError.io(path: path, reason: "no such file")
      case EACCES: throw NTKitError.io(path: path, reason: "permission denied (cannot read the file)")
      default: throw NTKitError.io(path: path, reason: "cannot open for reading: \(errnoText(code))")
      }
    }
    var info = stat()
    if fstat(fd, &info) != 0 {
      let code = errno
      close(fd)
      throw NTKitError.io(path: path, reason: "cannot stat: \(errnoText(code))")
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR {
      close(fd)
      throw NTKitError.io(path: path, reason: "is a directory, expected a file")
    }
    if kind != S_IFREG {
      close(fd)
      throw NTKitError.io(path: path, reason: "is not a regular file")
    }
    let size = Int(info.st_size)
    if size == 0 && !allowEmpty {
      close(fd)
      throw NTKitError.format(path: path, reason: "empty file (0 bytes)")
    }
    return (fd, size)
  }

  /// Reads exactly `count` bytes at `offset` into `buffer`; a short read is a
  /// truncation error (the file shrank while being read).
  static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, count: Int, offset: Int, path: String) throws {
    var done = 0
    while done < count {
      let n = pread(fd, buffer + done, min(count - done, 1 << 30), off_t(offset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw NTKitError.io(path: path, reason: "read failed: \(errnoText())")
      }
      if n == 0 {
        throw NTKitError.format(path: path, reason: "truncated file: expected \(offset + count) bytes, found \(offset + done)")
      }
      done += n
    }
  }

  /// Writes all `count` bytes, retrying after partial writes and EINTR.
  static func writeFully(_ fd: Int32, _ bytes: UnsafeRawPointer, count: Int, path: String) throws {
    var done = 0
    while done < count {
      let n = write(fd, bytes + done, min(count - done, 1 << 30))
      if n < 0 {
        if errno == EINTR { continue }
        throw NTKitError.io(path: path, reason: "write failed: \(errnoText())")
      }
      done += n
    }
  }

  /// True if `path` names an existing directory.
  public static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  /// Throws the `.io` error a reader would give for a missing path or a
  /// directory; returns quietly for an existing non-directory.
  static func checkReadable(_ path: String) throws {
    var info = stat()
    if stat(path, &info) != 0 {
      let code = errno
      if code == ENOENT { throw NTKitError.io(path: path, reason: "no such file") }
      throw NTKitError.io(path: path, reason: "cannot access: \(errnoText(code))")
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw NTKitError.io(path: path, reason: "is a directory, expected a file")
    }
  }
}

/// Reads a whole file into memory.
///
/// A missing file or a directory is an `.io` error; an empty file is a
/// `.format` error ("empty file"), since none of the formats is ever empty.
public func readWholeFile(_ path: String) throws -> [UInt8] {
  let (fd, size) = try POSIXFile.openForReading(path)
  defer { close(fd) }
  return try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
    count = 0
    try POSIXFile.readFully(fd, buffer.baseAddress!, count: size, offset: 0, path: path)
    count = size
  }
}
