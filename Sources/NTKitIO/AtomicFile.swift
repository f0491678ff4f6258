#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files all-or-nothing: into a random temporary beside the target
/// (`TemporaryFile`), checked on every `write`, `fsync` and `close`, then
/// renamed over the target — at once, or together with the command's other
/// outputs when an `OutputTransaction` is open. Readers never see a partial
/// file; on any error the temporary is removed and an existing file at the
/// target is left untouched.
///
/// Targets: a missing or regular file (or a symlink, which the rename
/// replaces). An existing character device (`/dev/null`) is written directly,
/// never renamed over; a FIFO, socket or block device is refused.
public enum AtomicFile {
  /// Opens the place where `path` is written: a new temporary, or the device itself.
  /// `claim`: register the target with the open transaction, which refuses a
  /// second output naming the same file (off for a checkpoint rewritten in place).
  static func stage(_ path: String, readWrite: Bool = false, claim: Bool = true) throws -> StagedOutput {
    guard !path.isEmpty else { throw NTKitError.io(path: path, reason: "the output file name is empty") }
    if path.hasSuffix("/") { throw NTKitError.io(path: path, reason: "is a directory name, expected a file name") }
    var info = stat()
    if stat(path, &info) == 0 {
      switch info.st_mode & S_IFMT {
      case S_IFDIR: throw NTKitError.io(path: path, reason: "is a directory, cannot write a file there")
      case S_IFREG: break
      case S_IFCHR:
        if readWrite {
          throw NTKitError.io(path: path, reason: "is a device; this output is written through a memory map and needs a regular file")
        }
        let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
        if fd < 0 { throw NTKitError.io(path: path, reason: "cannot open the device for writing: \(POSIXFile.errnoText())") }
        return StagedOutput(target: path, temporary: nil, fd: fd)
      case S_IFIFO:
        throw NTKitError.io(path: path, reason: "is a FIFO (named pipe); outputs must be regular files (or a character device such as /dev/null)")
      default:
        throw NTKitError.io(path: path, reason: "is not a regular file (a socket or block device); choose a regular file")
      }
    }
    if claim { try OutputTransaction.claim(path) }
    let (fd, tmp) = try TemporaryFile.create(for: path, readWrite: readWrite)
    return StagedOutput(target: path, temporary: tmp, fd: fd)
  }

  /// Finishes a staged output: flush, fsync, close, then rename now (`now`,
  /// or no open transaction) or at the transaction's commit.
  static func finish(_ staged: StagedOutput, now: Bool = false) throws {
    do {
      try staged.finish()
    } catch {
      staged.remove()
      throw error
    }
    FaultInjection.pause("staged")
    if !now && OutputTransaction.defer_(staged) { return }
    try staged.rename()
    syncDirectory(TemporaryFile.directory(of: staged.target))
  }

  /// Throws `.io` unless a file can be created in `directory` (a probe
  /// temporary, removed at once; nothing is left behind).
  public static func checkWritable(directory: String) throws {
    do {
      let (fd, probe) = try TemporaryFile.create(for: directory + "/probe", readWrite: false)
      close(fd)
      unlink(probe)
    } catch {
      throw NTKitError.io(path: directory, reason: "the output folder is not writable")
    }
  }

  /// Best-effort fsync of a directory after a rename (errors ignored: some
  /// file systems cannot sync directories).
  static func syncDirectory(_ dir: String) {
    let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
      fsync(fd)
      close(fd)
    }
  }

  /// Writes `path` through `body`, atomically (staged in an open transaction).
  public static func write(_ path: String, _ body: (inout FileSink) throws -> Void) throws {
    try write(path, now: false, body)
  }

  /// Writes `path` and renames it into place at once, even inside a
  /// transaction (state that must survive a failure: a checkpoint).
  public static func writeNow(_ path: String, text: String) throws {
    try write(path, now: true) { try $0.append(text) }
  }

  static func write(_ path: String, now: Bool, _ body: (inout FileSink) throws -> Void) throws {
    let staged = try stage(path, claim: !now)
    var sink = FileSink(fd: staged.fd, path: path)
    // A checkpoint is written after an interrupt, on purpose.
    sink.pollsInterrupt = !now
    do {
      try body(&sink)
      try sink.flush()
    } catch {
      staged.remove()
      throw error
    }
    try finish(staged, now: now)
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
