#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C handling: the first SIGINT sets a flag that long loops poll (they
/// stop with `NTKitError.interrupted`, leaving no partial output file); a
/// second one ends the process at once.
public enum Interrupt {
  nonisolated(unsafe) private static var requested: sig_atomic_t = 0

  public static func install() {
    signal(SIGINT) { _ in
      if Interrupt.requested != 0 { _exit(130) }
      Interrupt.requested = 1
    }
  }

  public static var isRequested: Bool { requested != 0 }
}
