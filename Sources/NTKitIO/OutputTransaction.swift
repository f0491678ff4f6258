import CNTKitSafety

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// All of a command's output files, committed together or not at all.
///
/// While a transaction is open (`begin()`), every `AtomicFile` write is staged:
/// written in full to a random temporary beside its target, checked (`write`,
/// `fsync`, `close`), and kept there. `commit()` makes a last interrupt check
/// and only then renames every temporary over its target (signals blocked
/// meanwhile); `abort()` removes them all. Without an open transaction a write
/// commits on its own, as a single atomic file. A signal that ends the process
/// early removes the registered temporaries in the handler (`Interrupt`).
public enum OutputTransaction {
  nonisolated(unsafe) private static var open = false
  nonisolated(unsafe) private static var pending: [StagedOutput] = []
  nonisolated(unsafe) private static var claimed: [(target: String, key: String)] = []
  nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
  }()

  private static func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    return try body()
  }

  /// True between `begin()` and `commit()`/`abort()`.
  public static var isOpen: Bool { locked { open } }

  /// Opens the transaction: later writes are staged until `commit()`.
  public static func begin() {
    locked {
      open = true
      pending = []
      claimed = []
    }
  }

  /// The outputs staged so far (their target paths), in order.
  public static var stagedTargets: [String] { locked { pending.map(\.target) } }

  /// Claims `target` for this command; a second output naming the same file
  /// (same resolved path, or same device and inode) is refused.
  static func claim(_ target: String) throws {
    let key = FileIdentity.key(target)
    try locked {
      guard open else { return }
      if let other = claimed.first(where: { $0.key == key }) {
        throw NTKitError.invalidArgument(
          "\(target): two outputs of this command name the same file (\(other.target) and \(target)); give each output its own file")
      }
      claimed.append((target, key))
    }
  }

  /// Keeps a finished temporary until `commit()`; false when no transaction is open.
  static func defer_(_ staged: StagedOutput) -> Bool {
    locked {
      guard open else { return false }
      pending.append(staged)
      return true
    }
  }

  /// Renames every staged temporary over its target, after a last check for
  /// an interrupt (which removes them all and throws `.interrupted`).
  public static func commit() throws {
    FaultInjection.pause("commit")
    var block = sigset_t(), previous = sigset_t()
    sigemptyset(&block)
    sigaddset(&block, SIGINT); sigaddset(&block, SIGTERM); sigaddset(&block, SIGHUP)
    pthread_sigmask(SIG_BLOCK, &block, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    let items = locked { () -> [StagedOutput] in
      open = false
      claimed = []
      defer { pending = [] }
      return pending
    }
    if Interrupt.isRequested {
      for s in items { s.remove() }
      throw NTKitError.interrupted
    }
    var directories: [String] = []
    for (i, s) in items.enumerated() {
      do {
        try s.rename()
      } catch {
        for rest in items[(i + 1)...] { rest.remove() }
        throw error
      }
      let dir = TemporaryFile.directory(of: s.target)
      if !directories.contains(dir) { directories.append(dir) }
    }
    for dir in directories { AtomicFile.syncDirectory(dir) }
  }

  /// Removes every staged temporary and closes the transaction.
  public static func abort() {
    let items = locked { () -> [StagedOutput] in
      open = false
      claimed = []
      defer { pending = [] }
      return pending
    }
    for s in items { s.remove() }
  }
}

/// One output being written: a temporary beside the target (renamed into place
/// on commit), or an existing character device written directly.
final class StagedOutput {
  let target: String
  /// The temporary's path; nil when the target (a device) is written directly.
  let temporary: String?
  var fd: Int32
  private var slot: Int32

  init(target: String, temporary: String?, fd: Int32) {
    self.target = target
    self.temporary = temporary
    self.fd = fd
    self.slot = temporary.map { ntk_temp_register($0) } ?? -1
  }

  /// Flushes to disk and closes; every failure (a full disk) is an error.
  func finish() throws {
    guard fd >= 0 else { return }
    let d = fd
    fd = -1
    if temporary != nil, fsync(d) != 0 {
      let code = errno
      if code != EINVAL && code != EROFS {
        close(d)
        throw NTKitError.io(path: target, reason: "write failed on fsync: \(POSIXFile.errnoText(code))")
      }
    }
    if close(d) != 0 {
      let code = errno
      if code != EINTR { throw NTKitError.io(path: target, reason: "write failed on close: \(POSIXFile.errnoText(code))") }
    }
  }

  /// Moves the temporary over the target.
  func rename() throws {
    guard let temporary else { return }
    if Glibc.rename(temporary, target) != 0 {
      let text = POSIXFile.errnoText()
      remove()
      throw NTKitError.io(path: target, reason: "cannot move the finished file into place: \(text)")
    }
    ntk_temp_unregister(slot)
    slot = -1
  }

  /// Closes and deletes the temporary (a directly written device is left as is).
  func remove() {
    if fd >= 0 { close(fd); fd = -1 }
    if let temporary { unlink(temporary) }
    ntk_temp_unregister(slot)
    slot = -1
  }
}

extension OutputTransaction {
  /// Drops what the C `stdout` buffer still holds, so that a command whose
  /// outputs were not committed prints no "wrote …" line.
  public static func discardBufferedStdout() { ntk_stdout_discard() }
}
