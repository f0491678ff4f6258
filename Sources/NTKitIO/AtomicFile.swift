#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files all-or-nothing: into `path.tmp-<pid>` beside the target, then
/// renamed over it, so readers never see a partial file.
///
/// If the body throws (or any write fails), the temporary file is removed and
/// an existing file at `path` is left untouched.
public enum AtomicFile {
  /// The temporary name used while `path` is being written.
  static func temporaryPath(for path: String) -> String { "\(path).tmp-\(getpid())" }

  /// Creates (truncates) the temporary file for `path`; returns its descriptor
  /// (read-write when it is to be memory-mapped).
  static func createTemporary(for path: String, readWrite: Bool = false) throws -> (fd: Int32, tmp: String) {
    if POSIXFile.isDirectory(path) {
      throw NTKitError.io(path: path, reason: "is a directory, cannot write a file there")
    }
    let tmp = temporaryPath(for: path)
    let fd = open(tmp, (readWrite ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 {
      let code = errno
      let reason = code == ENOENT ? "its directory does not exist" : POSIXFile.errnoText(code)
      throw NTKitError.io(path: path, reason: "cannot create the file: \(reason)")
    }
    return (fd, tmp)
  }

  /// Closes `fd` and renames `tmp` to `path`; removes `tmp` on failure.
  static func commit(fd: Int32, tmp: String, path: String) throws {
    if close(fd) != 0 {
      let text = POSIXFile.errnoText()
      unlink(tmp)
      throw NTKitError.io(path: path, reason: "write failed on close: \(text)")
    }
    if rename(tmp, path) != 0 {
      let text = POSIXFile.errnoText()
      unlink(tmp)
      throw NTKitError.io(path: path, reason: "cannot rename the temporary file into place: \(text)")
    }
  }

  /// Writes `path` through `body`, atomically.
  public static func write(_ path: String, _ body: (inout FileSink) throws -> Void) throws {
    let (fd, tmp) = try createTemporary(for: path)
    var sink = FileSink(fd: fd, path: path)
    do {
      try body(&sink)
      try sink.flush()
    } catch {
      close(fd)
      unlink(tmp)
      throw error
    }
    try commit(fd: fd, tmp: tmp, path: path)
  }

  /// Writes `bytes` to `path`, atomically.
  public static func write(_ path: String, bytes: [UInt8]) throws {
    try write(path) { try $0.append(bytes) }
  }

  /// Writes the UTF-8 text `text` to `path`, atomically.
  public static func write(_ path: String, text: String) throws {
    try write(path) { try $0.append(text) }
  }
}
