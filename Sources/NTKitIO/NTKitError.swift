/// Every failure the library reports. The text of each case is one actionable
/// line for a user: which file or field, what was expected, what was found.
/// The library never aborts the process; the CLI maps these to exit status 1.
public enum NTKitError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A file could not be read or written (missing, a directory, permissions).
  case io(path: String, reason: String)
  /// A file's contents are malformed (truncated, bad header, wrong magic…).
  case format(path: String, reason: String)
  /// A value does not match what the model or operation needs.
  case shapeMismatch(context: String, expected: String, found: String)
  /// A tensor or column is missing.
  case missing(path: String, name: String)
  /// NaN or Inf in data where finite values are required.
  case nonFinite(path: String, detail: String)
  /// A model spec is invalid (unknown layer, shapes that do not chain, …).
  case invalidSpec(path: String, reason: String)
  /// An argument value is out of range or inconsistent with others.
  case invalidArgument(String)
  /// The request needs more memory than the budget allows.
  case memoryBudget(needed: Int, budget: Int, hint: String)
  /// LAPACK returned a non-zero info.
  case lapack(routine: String, info: Int)
  /// An OpenCL call failed.
  case openCL(call: String, code: Int32, name: String)
  /// An OpenCL program failed to build; `log` is the compiler's build log.
  case kernelBuild(file: String, log: String)
  /// No usable OpenCL platform or device.
  case noOpenCLPlatform(hint: String)
  /// The work was interrupted (Ctrl-C).
  case interrupted
  /// A numerical failure (divergence, non-finite result).
  case numerical(String)

  /// The message, one line: control bytes echoed from input files (a NUL in
  /// a CSV cell, a newline in a tensor name) are escaped (`MessageText`). Only
  /// a kernel build log keeps its line breaks.
  public var description: String {
    if case .kernelBuild = self { return rawDescription }
    return MessageText.escaped(rawDescription)
  }

  private var rawDescription: String {
    switch self {
    case .io(let path, let reason): return "\(path): \(reason)"
    case .format(let path, let reason): return "\(path): \(reason)"
    case .shapeMismatch(let context, let expected, let found):
      return "\(context): expected \(expected), found \(found)"
    case .missing(let path, let name): return "\(path): missing \(name)"
    case .nonFinite(let path, let detail): return "\(path): non-finite value (NaN or Inf) \(detail)"
    case .invalidSpec(let path, let reason): return "\(path): invalid model spec: \(reason)"
    case .invalidArgument(let text): return text
    case .memoryBudget(let needed, let budget, let hint):
      return "needs about \(formatBytes(needed)) of temporaries but the memory budget is \(formatBytes(budget)); \(hint)"
    case .lapack(let routine, let info): return "LAPACK \(routine) failed with info = \(info)"
    case .openCL(let call, let code, let name): return "OpenCL error \(code) (\(name)) in \(call)"
    case .kernelBuild(let file, let log): return "OpenCL kernel \(file) failed to build:\n\(log)"
    case .noOpenCLPlatform(let hint): return "no OpenCL platform: \(hint)"
    case .interrupted: return "interrupted"
    case .numerical(let text): return "numerical failure: \(text)"
    }
  }
}

/// Human-readable byte count (binary units), e.g. "1.50 GiB".
public func formatBytes(_ bytes: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
  return unit == 0 ? "\(bytes) B" : "\(format(value, "%.2f")) \(units[unit])"
}
