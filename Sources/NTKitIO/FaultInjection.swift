#if canImport(Glibc)
import Glibc
#endif

/// The test hooks of the fault-injection suites, all in this one place and
/// compiled only into debug builds (what `swift test` runs): a release build —
/// what `make demo`, `make release` and users run — reads none of these variables.
///
/// - `NTK_TEST_PAUSE=<phase>`: the process stops at that phase, says so on
///   stderr ("ntk: test pause at <phase>") and waits `NTK_TEST_PAUSE_SECONDS`
///   (default 30), or until a signal, so that a test can send SIGINT, SIGTERM,
///   SIGHUP or SIGKILL at exactly that phase. Phases: `compute` (inside the
///   long loop of gram, train, select and stats), `lapack` (inside the
///   unpollable dsyevd call of stats), `staged` (an output written to its
///   temporary) and `commit` (just before the commit).
/// - `NTK_SELECT_TEST_STOP_AFTER=<steps>`: a selection behaves as if Ctrl-C came
///   after that many steps (checkpoint/resume tests under MPI).
/// - `NTKIT_MPI_TEST_FAIL_RANK=<rank>`: that MPI rank fails with an I/O error in
///   its first round of `ntk-mpi gram`, the others do not.
public enum FaultInjection {
  nonisolated(unsafe) private static var done = Set<String>()

  public static func pause(_ phase: String) {
    #if DEBUG
    guard let value = getenv("NTK_TEST_PAUSE"), String(cString: value) == phase, done.insert(phase).inserted else { return }
    fputs("ntk: test pause at \(phase)\n", stderr)
    fflush(stderr)
    let seconds = getenv("NTK_TEST_PAUSE_SECONDS").flatMap { Double(String(cString: $0)) } ?? 30
    for _ in 0..<Int(seconds * 100) {
      if Interrupt.isRequested { return }
      usleep(10_000)
    }
    #endif
  }

  /// Steps after which a selection stops as if interrupted; nil in release builds.
  public static var selectionStopAfterSteps: Int? {
    #if DEBUG
    return integer("NTK_SELECT_TEST_STOP_AFTER")
    #else
    return nil
    #endif
  }

  /// The MPI rank that fails its first `ntk-mpi gram` round; nil in release builds.
  public static var failingRank: Int? {
    #if DEBUG
    return integer("NTKIT_MPI_TEST_FAIL_RANK")
    #else
    return nil
    #endif
  }

  private static func integer(_ name: String) -> Int? {
    getenv(name).flatMap { Int(String(cString: $0)) }
  }
}
