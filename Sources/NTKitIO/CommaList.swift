/// A comma-separated list of names, as the `--features`, `--target` and
/// `--methods` flags take them: "a, b,c" → ["a", "b", "c"] (items trimmed;
/// empty items kept, so that callers can refuse them).
public func commaSeparatedList(_ text: String) -> [String] {
  text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
}
