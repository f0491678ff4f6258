#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Temporary files beside an output: `.ntk-<pid>-<16 random hex>.tmp` in the
/// target's directory, created with `O_CREAT|O_EXCL|O_NOFOLLOW` (a planted
/// file or symlink of that name is never followed or reused). The name does
/// not grow with the target's name, so targets of 255 bytes still work.
/// Temporaries of processes that no longer run (SIGKILL, power loss) are swept
/// the first time a process stages a file in that directory.
enum TemporaryFile {
  static let prefix = ".ntk-"
  static let suffix = ".tmp"

  /// The directory part of `path` ("." when it has none).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  /// A fresh random temporary name in `directory`.
  static func randomPath(in directory: String) -> String {
    var hex = String(UInt64.random(in: .min ... .max), radix: 16)
    while hex.count < 16 { hex = "0" + hex }
    return "\(directory)/\(prefix)\(getpid())-\(hex)\(suffix)"
  }

  /// Creates a new temporary file in the directory of `target`; returns its
  /// descriptor and path. Retries on the (unlikely) name collision.
  static func create(for target: String, readWrite: Bool) throws -> (fd: Int32, path: String) {
    let dir = directory(of: target)
    sweepOnce(dir)
    for _ in 0..<16 {
      let tmp = randomPath(in: dir)
      let fd = open(tmp, (readWrite ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      if fd >= 0 { return (fd, tmp) }
      let code = errno
      if code == EEXIST || code == ELOOP { continue }
      let reason: String
      switch code {
      case ENOENT: reason = "its directory does not exist (\(dir))"
      case EACCES: reason = "permission denied in \(dir)"
      case EROFS: reason = "\(dir) is on a read-only file system"
      case ENOSPC: reason = "no space left on the device of \(dir)"
      default: reason = POSIXFile.errnoText(code)
      }
      throw NTKitError.io(path: target, reason: "cannot create the file: \(reason)")
    }
    throw NTKitError.io(path: target, reason: "cannot create a temporary file in \(dir): every random name was taken")
  }

  nonisolated(unsafe) private static var swept = Set<String>()

  /// Removes temporaries of dead processes from `directory`, once per process.
  static func sweepOnce(_ directory: String) {
    guard swept.insert(directory).inserted else { return }
    sweep(directory)
  }

  /// Removes every `.ntk-<pid>-<hex>.tmp` in `directory` whose process is gone.
  /// Returns the names removed.
  @discardableResult
  static func sweep(_ directory: String) -> [String] {
    guard let d = opendir(directory) else { return [] }
    defer { closedir(d) }
    var removed: [String] = []
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
      }
      guard let pid = ownerPID(name), pid != getpid() else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH {
        let path = "\(directory)/\(name)"
        var info = stat()
        // Only plain files are ours; never follow or remove anything else.
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, unlink(path) == 0 { removed.append(name) }
      }
    }
    return removed
  }

  /// The pid in a temporary's name, or nil when `name` is not one of ours.
  static func ownerPID(_ name: String) -> pid_t? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
    let parts = middle.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2, parts[1].count == 16, parts[1].allSatisfy({ $0.isHexDigit }),
          let pid = pid_t(parts[0]), pid > 0 else { return nil }
    return pid
  }
}
