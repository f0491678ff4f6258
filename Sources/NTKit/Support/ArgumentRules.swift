/// The validation rules that several commands (and the C ABI) share, each
/// written once: a rule throws a `UsageError` with one line that names the
/// flag, what it expects and what it found (`ntk` exits 2).
public enum ArgumentRules {
  /// `value ≥ minimum` (`--size`, `--epochs`, `--batch-size`, `--jobs`, …);
  /// nil (a flag left out) passes.
  public static func atLeast(_ minimum: Int, _ value: Int?, flag: String) throws {
    guard let value, value < minimum else { return }
    let bound = minimum == 0 ? "≥ 0" : "at least \(minimum)"
    throw UsageError("\(flag) must be \(bound), found \(value)")
  }

  /// A learning rate: positive and finite.
  public static func learningRate(_ value: Double, flag: String = "--lr") throws {
    guard value > 0, value.isFinite else {
      throw UsageError("\(flag) must be a positive number, found \(value)")
    }
  }

  /// Adam's hyperparameters: β1, β2 in [0, 1), ε > 0, weight decay ≥ 0.
  public static func adam(beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double) throws {
    guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
      throw UsageError("--beta1 and --beta2 must be in [0, 1)")
    }
    guard epsilon > 0, weightDecay >= 0 else {
      throw UsageError("--eps must be > 0 and --weight-decay ≥ 0")
    }
  }

  /// The number of eigenvalues Lanczos computes: 1 … `maxLanczosK`.
  public static func topK(_ value: Int, flag: String = "--top-k") throws {
    guard (1...maxLanczosK).contains(value) else {
      throw UsageError("\(flag) must be between 1 and \(maxLanczosK), found \(value)")
    }
  }

  /// The largest `--top-k` (Lanczos keeps its basis small).
  public static let maxLanczosK = 64

  /// A memory budget such as `1G`, `512M` or a byte count, in bytes.
  public static func memoryBudget(_ text: String, flag: String = "--memory-budget") throws -> Int {
    guard let bytes = parseByteSize(text) else {
      throw UsageError("\(flag) must be a size such as 1G or 512M, found \"\(text)\"")
    }
    return bytes
  }

  /// A finite number (`--threshold`); nil passes.
  public static func finite(_ value: Double?, flag: String) throws {
    if let value, !value.isFinite { throw UsageError("\(flag) must be finite") }
  }

}

/// A usage error: a flag's value out of range (`ArgumentRules`), or flags that
/// do not fit the data they name (`--standardize-target` with class labels,
/// found only once the files are read). Front ends report it as such (`ntk`
/// exits 2); every other failure is an `NTKitError`.
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

extension ArgumentRules {
  /// Training-set sizes "10,20,50": whole numbers ≥ 1, not empty.
  public static func sizes(_ text: String, flag: String) throws -> [Int] {
    let parts = commaSeparatedList(text)
    guard !(parts.count == 1 && parts[0].isEmpty) else {
      throw UsageError("\(flag) is empty: give a comma-separated list, e.g. 10,20,50")
    }
    return try parts.map { p in
      guard let v = Int(p) else { throw UsageError("\(flag): \"\(p)\" is not a whole number") }
      guard v >= 1 else { throw UsageError("\(flag): sizes must be at least 1, found \(v)") }
      return v
    }
  }

  /// A size range "lo:hi" with 1 ≤ lo ≤ hi.
  public static func sizeRange(_ text: String, flag: String) throws -> ClosedRange<Int> {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int(String($0).trimmingWhitespace()) }
    guard parts.count == 2, let lo = parts[0], let hi = parts[1] else {
      throw UsageError("\(flag) must be lo:hi with whole numbers, e.g. 10:200, found \"\(text)\"")
    }
    guard lo >= 1, lo <= hi else { throw UsageError("\(flag) needs 1 ≤ lo ≤ hi, found \(lo):\(hi)") }
    return lo...hi
  }
}
