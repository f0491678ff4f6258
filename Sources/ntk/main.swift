import ArgumentParser
import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes (clarifications.md): 0 success, 1 failure (bad input, I/O,
/// numerical), 2 usage. swift-argument-parser's usage code 64 is mapped here, once.
// Commands whose time goes into OpenBLAS products are worth a restart with
// the right OpenBLAS kernels (BLASCoreSelection); the rest start faster without.
// (An array: a Set<String> literal this early costs a scan of the binary's
// protocol conformances for String: Hashable.)
let blasHeavyCommands: [String] = ["gram", "jacobian", "forward", "stats", "bench", "train", "experiment", "demo", "devices"]
if CommandLine.arguments.count > 1, blasHeavyCommands.contains(CommandLine.arguments[1]) {
  BLASCoreSelection.restartWithBetterCoreIfNeeded()
}
// OpenBLAS and LAPACKE are loaded by the first call that needs them (CNTKitBLAS),
// which also sets OpenBLAS single-threaded and parks its pool: `ntk select` on
// the fused RND path, `ntk --version` and the like never load them.
Interrupt.install()
// Output is held until the command's files are committed, so that a command
// that fails late prints no "wrote …" line (a terminal still sees lines at once).
if isatty(1) == 0 { setvbuf(stdout, nil, _IOFBF, 1 << 20) }
do {
  try CPUConfiguration.validateEnvironment()
  try TuningKnobs.validateEnvironment()
} catch {
  fputs("ntk: error: \(error)\n", stderr)
  exit(2)
}
let arguments = normalizedArguments(Array(CommandLine.arguments.dropFirst()))
if let message = unknownHelpTopic(arguments, root: NTK.self) {
  fputs("ntk: error: \(message)\n", stderr)
  exit(2)
}
/// Exits once a device probe that nothing took has finished (an OpenCL
/// driver still loading while exit handlers run can crash).
func finish(_ code: Int32) -> Never {
  DeviceSelector.endProbe()
  exit(code)
}
do {
  var command = try NTK.parseAsRoot(arguments)
  // The OpenCL platforms load (PoCL: ~20 ms) while the command reads its inputs.
  if let choice = (command as? DeviceCommand)?.deviceChoice { DeviceSelector.beginProbe(for: choice) }
  // Outputs that clash with inputs or with each other: usage error, before any work.
  let staged = try checkFileRoles(command)
  if staged { OutputTransaction.begin() }
  do {
    try command.run()
    if staged { try OutputTransaction.commit() }
  } catch let error as NTKitError {
    OutputTransaction.abort()
    discardStdout()
    fputs("ntk: error: \(error)\n", stderr)
    finish(error == .interrupted ? 130 : 1)
  } catch {
    OutputTransaction.abort()
    discardStdout()
    throw error
  }
} catch {
  let code = NTK.exitCode(for: error)
  let message = NTK.fullMessage(for: error)
  if code == .success {
    stdoutLine(message)
    finish(0)
  }
  fputs("\(message)\n", stderr)
  finish(code == .validationFailure ? 2 : (code.rawValue == 0 ? 0 : (code.rawValue == 64 ? 2 : code.rawValue)))
}
DeviceSelector.endProbe()
