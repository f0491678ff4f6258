import CNTKitSafety

#if canImport(Glibc)
import Glibc
#endif

/// Interrupt handling: the first SIGINT, SIGTERM or SIGHUP sets a flag that
/// long loops poll (they stop with `NTKitError.interrupted`, the command's
/// staged outputs are removed, exit 130); a second signal, or one that arrives
/// inside `Interrupt.unpollable` (a LAPACK call), removes every staged
/// temporary file in the signal handler and ends the process at once (130).
public enum Interrupt {
  /// Installs the handlers for SIGINT, SIGTERM and SIGHUP (idempotent).
  public static func install() { ntk_signals_install() }

  /// True once a signal asked the work to stop.
  public static var isRequested: Bool { ntk_signals_requested() != 0 }

  /// Throws `.interrupted` when a signal asked the work to stop.
  public static func check() throws {
    if isRequested { throw NTKitError.interrupted }
  }

  /// Behaves as if a signal had arrived (tests of the interrupt paths).
  public static func simulate() { ntk_signals_request() }

  /// Runs `body`, which cannot poll the flag (one long LAPACK call), such that
  /// a signal during it removes the temporaries and exits 130 at once.
  /// A signal that came just before ends the process on entry.
  public static func unpollable<T>(_ body: () throws -> T) rethrows -> T {
    ntk_signals_enter_immediate()
    defer { ntk_signals_leave_immediate() }
    return try body()
  }
}
