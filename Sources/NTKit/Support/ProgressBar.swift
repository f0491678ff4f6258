#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal,
/// at most ~10 times a second: "label [#####.....] 42/100 12.3/s ETA 5s".
public final class ProgressBar: @unchecked Sendable {
  // @unchecked: updated from one thread at a time (the loop that owns it).
  private let label: String
  private var total: Int
  private let unit: String
  private let start = monotonicSeconds()
  private var lastDraw = 0.0
  private let enabled: Bool

  public init(_ label: String, total: Int, unit: String = "", enabled: Bool = ProgressBar.stderrIsTerminal) {
    self.label = label
    self.total = max(total, 1)
    self.unit = unit
    self.enabled = enabled
  }

  public static var stderrIsTerminal: Bool { isatty(2) != 0 }

  /// Redraws with `done` items finished (of `total`, when given: it may change).
  public func update(_ done: Int, total newTotal: Int? = nil, rateItems: Double? = nil) {
    guard enabled else { return }
    if let newTotal { total = max(newTotal, 1) }
    let now = monotonicSeconds()
    guard done >= total || now - lastDraw >= 0.1 else { return }
    lastDraw = now
    let elapsed = max(now - start, 1e-9)
    let fraction = min(1, Double(done) / Double(total))
    let width = 28
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    let rate = (rateItems ?? Double(done)) / elapsed
    let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
    let line = "\r\(label) [\(bar)] \(done)/\(total) \(format(rate, "%.1f"))\(unit)/s ETA \(format(eta, "%.0f"))s\u{1B}[K"
    fputs(line, stderr)
    if done >= total { fputs("\n", stderr) }
  }

  /// Clears the line (after an error or interruption).
  public func finish() {
    guard enabled else { return }
    fputs("\r\u{1B}[K", stderr)
  }
}
