import ArgumentParser
import NTKit
import NTKitMPI

#if canImport(Glibc)
import Glibc
#endif

/// `mpirun -n P ntk-mpi gram|stats|select …`: the commands of `ntk` with the
/// same flags and outputs, spread over MPI ranks (one thread a rank).
/// Exit status as `ntk`: 0 success, 1 failure on any rank (one stderr line
/// from rank 0), 2 usage, 130 interrupted.

// One thread a rank: our CPU loops and OpenBLAS both.
setenv("NTKIT_THREADS", "1", 1)
setenv("OPENBLAS_NUM_THREADS", "1", 1)
if CommandLine.arguments.count > 1, ["gram", "stats", "select"].contains(CommandLine.arguments[1]) {
  BLASCoreSelection.restartWithBetterCoreIfNeeded()  // before MPI_Init: an exec keeps the pid
}
// ScaLAPACK links OpenBLAS, so it is loaded (and its pool started) already:
// set it single-threaded and park the pool now, not at the first BLAS call.
_ = try? OpenBLAS.require()
Communicator.installInterruptHandler()

let world: Communicator
do {
  world = try Communicator()
} catch {
  fputs("ntk-mpi: error: \(error)\n", stderr)
  exit(1)
}

func finish(_ code: Int32) -> Never {
  world.finalize()
  exit(code)
}

do {
  try CPUConfiguration.validateEnvironment()
  try TuningKnobs.validateEnvironment()
} catch {
  // Every rank sees the same environment: rank 0 reports it.
  if world.isRoot { fputs("ntk-mpi: error: \(error)\n", stderr) }
  finish(2)
}

do {
  var command = try NTKMPI.parseAsRoot(normalizedArguments(Array(CommandLine.arguments.dropFirst())))
  do {
    try command.run()
    finish(0)
  } catch let failure as CollectiveFailure {
    if world.isRoot { fputs("ntk-mpi: error: \(failure.message)\n", stderr) }
    finish(failure.interrupted ? 130 : 1)
  } catch let error as NTKitError {
    // A failure outside a collective step: this rank reports it itself.
    fputs("ntk-mpi: error: \(world.size > 1 ? "rank \(world.rank): " : "")\(error)\n", stderr)
    finish(error == .interrupted ? 130 : 1)
  }
} catch {
  let code = NTKMPI.exitCode(for: error)
  if world.isRoot {
    let message = NTKMPI.fullMessage(for: error)
    if code == .success { print(message) } else { fputs("\(message)\n", stderr) }
  }
  finish(code == .success ? 0 : (code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue))
}
