/// A closed set of names a front end takes (`--convention`, `--dataset`,
/// `--optimizer`, …): parsed case-insensitively, and refused with one line
/// that lists the valid names.
public protocol NamedChoice: RawRepresentable, CaseIterable where RawValue == String {
  /// What one value is called in messages ("convention"), and several ("conventions").
  static var choiceName: (one: String, many: String) { get }
}

extension NamedChoice {
  /// The case named `text` (any letter case), else an `NTKitError.invalidArgument`
  /// such as "unknown convention 'x'; valid conventions: ntkit, nt".
  public static func named(_ text: String) throws -> Self {
    guard let value = Self(rawValue: text.lowercased()) else {
      throw NTKitError.invalidArgument(
        "unknown \(choiceName.one) '\(text)'; valid \(choiceName.many): \(allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return value
  }
}
