#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which files are the same: an existing file by device and inode (hard links
/// and symlinks included), a missing one by its resolved path. A command's
/// outputs are checked against its inputs and against each other before any
/// work starts, so that no output can destroy an input.
public enum FileIdentity {
  /// A key equal for two paths exactly when they name the same file.
  public static func key(_ path: String) -> String {
    var info = stat()
    if stat(path, &info) == 0 { return "inode:\(info.st_dev):\(info.st_ino)" }
    let dir = TemporaryFile.directory(of: path)
    let base = path.split(separator: "/").last.map(String.init) ?? path
    if let resolved = realpath(dir, nil) {
      defer { free(resolved) }
      return "path:\(String(cString: resolved))/\(base)"
    }
    return "path:\(dir)/\(base)"
  }

  /// True for an existing character device (`/dev/null`): several outputs may
  /// be discarded there.
  static func isCharacterDevice(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR
  }

  /// A file a command reads or writes, with the flag that names it.
  public struct Role: Sendable {
    public var flag: String
    public var path: String
    public init(_ flag: String, _ path: String) {
      self.flag = flag
      self.path = path
    }
  }

  /// The first clash, as one line: an output that is the same file as an
  /// input or as another output. `allowed` lists (input flag, output flag)
  /// pairs that may name the same file (`train --weights w --out w`, which
  /// reads the file in full before the output replaces it). Nil when none.
  public static func firstConflict(inputs: [Role], outputs: [Role], allowed: [(input: String, output: String)] = []) -> String? {
    let inputKeys = inputs.map { key($0.path) }
    var seen: [(Role, String)] = []
    for out in outputs {
      let k = key(out.path)
      for (input, ik) in zip(inputs, inputKeys) where ik == k {
        if allowed.contains(where: { $0.input == input.flag && $0.output == out.flag }) { continue }
        return "\(out.flag) \(out.path) is the same file as \(input.flag) \(input.path): writing it would destroy the input; choose another output file"
      }
      if !isCharacterDevice(out.path), let (other, _) = seen.first(where: { $0.1 == k }) {
        return "\(out.flag) \(out.path) is the same file as \(other.flag) \(other.path): each output needs its own file"
      }
      seen.append((out, k))
    }
    return nil
  }
}
