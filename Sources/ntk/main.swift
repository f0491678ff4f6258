import ArgumentParser
import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes (clarifications.md): 0 success, 1 failure (bad input, I/O,
/// numerical), 2 usage. swift-argument-parser's usage code 64 is mapped here, once.
// Commands whose time goes into OpenBLAS products are worth a restart with
// the right OpenBLAS kernels (BLASCoreSelection); the rest start faster without.
let blasHeavyCommands: Set<String> = ["gram", "jacobian", "forward", "stats", "bench", "train", "experiment", "demo", "devices"]
if CommandLine.arguments.count > 1, blasHeavyCommands.contains(CommandLine.arguments[1]) {
  BLASCoreSelection.restartWithBetterCoreIfNeeded()
}
Interrupt.install()
do {
  try CPUConfiguration.validateEnvironment()
} catch {
  fputs("ntk: error: \(error)\n", stderr)
  exit(2)
}
do {
  var command = try NTK.parseAsRoot()
  do {
    try command.run()
  } catch let error as NTKitError {
    fputs("ntk: error: \(error)\n", stderr)
    exit(error == .interrupted ? 130 : 1)
  }
} catch {
  let code = NTK.exitCode(for: error)
  let message = NTK.fullMessage(for: error)
  if code == .success {
    print(message)
    exit(0)
  }
  fputs("\(message)\n", stderr)
  exit(code == .validationFailure ? 2 : (code.rawValue == 0 ? 0 : (code.rawValue == 64 ? 2 : code.rawValue)))
}
