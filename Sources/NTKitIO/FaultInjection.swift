#if canImport(Glibc)
import Glibc
#endif

/// Test hook of the fault-injection suite: with `NTK_TEST_PAUSE=<phase>` in
/// the environment, the process stops at that phase — says so on stderr
/// ("ntk: test pause at <phase>") and waits `NTK_TEST_PAUSE_SECONDS` (default
/// 30), or until a signal —
/// so that a test can send SIGINT, SIGTERM, SIGHUP or SIGKILL at exactly that
/// phase. Phases: `compute` (inside the long loop of gram, train, select and
/// stats), `lapack` (inside the unpollable dsyevd call of stats), `staged`
/// (an output written to its temporary) and `commit` (just before the commit).
/// Without the variable this costs one `getenv` per call site.
public enum FaultInjection {
  nonisolated(unsafe) private static var done = Set<String>()

  public static func pause(_ phase: String) {
    guard let value = getenv("NTK_TEST_PAUSE"), String(cString: value) == phase, done.insert(phase).inserted else { return }
    fputs("ntk: test pause at \(phase)\n", stderr)
    fflush(stderr)
    let seconds = getenv("NTK_TEST_PAUSE_SECONDS").flatMap { Double(String(cString: $0)) } ?? 30
    for _ in 0..<Int(seconds * 100) {
      if Interrupt.isRequested { return }
      usleep(10_000)
    }
  }
}
