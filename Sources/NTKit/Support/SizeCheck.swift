/// Overflow-checked sizes, checked against the machine's memory before
/// anything is allocated: a request too large for this machine is one line
/// naming what needs the memory and how much, never Swift's "failed to
/// allocate" trap.
public enum SizeCheck {
  /// `a × b × …`, or nil when the product overflows `Int`.
  public static func product(_ factors: [Int]) -> Int? {
    var p = 1
    for f in factors {
      guard f >= 0 else { return nil }
      let (r, o) = p.multipliedReportingOverflow(by: f)
      if o { return nil }
      p = r
    }
    return p
  }

  /// `count × elementSize` bytes, or nil on overflow.
  public static func bytes(_ count: Int, _ elementSize: Int) -> Int? {
    let (r, o) = count.multipliedReportingOverflow(by: elementSize)
    return o ? nil : r
  }

  /// Physical memory of this machine in bytes (0 when unknown).
  public static var machineMemory: Int { physicalMemoryBytes() }

  /// Throws `.invalidArgument` naming `what` when `bytes` (nil: overflowed)
  /// exceeds the machine's memory, or `budget` when given. `what` is built
  /// only for the error (a spec's shapes are described by reflection).
  public static func require(_ bytes: Int?, for what: @autoclosure () -> String, budget: Int? = nil, hint: String = "") throws {
    let memory = machineMemory
    let tail = hint.isEmpty ? "" : "; \(hint)"
    guard let bytes else {
      throw NTKitError.invalidArgument("\(what()) needs more than 8 EiB (the size overflows)\(tail)")
    }
    if memory > 0 && bytes > memory {
      throw NTKitError.invalidArgument("\(what()) needs \(formatBytes(bytes)) but this machine has \(formatBytes(memory)) of memory\(tail)")
    }
    if let budget, bytes > budget {
      throw NTKitError.invalidArgument("\(what()) needs \(formatBytes(bytes)) but --memory-budget is \(formatBytes(budget))\(tail)")
    }
  }
}
