import ArgumentParser
import NTKit
import NTKitMPI

#if canImport(Glibc)
import Glibc
#endif

/// `ntk-mpi select`: `ntk select`'s flags and outputs; the pool is sharded by
/// rows over the ranks (`ShardedSelection`), picks equal `ntk select`'s.
struct MPISelectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "select",
    abstract: "RND, random or k-center selection with the pool sharded by rows over the MPI ranks.",
    discussion: "Each rank reads only its rows; the winner of each step is agreed with an arg-max allreduce. "
      + "RND runs the CPU fast path (dense MLP; mse, l2 or l1). Rank 0 writes --out, --report and --checkpoint.")

  @OptionGroup var flags: SelectCommand

  func run() throws {
    let started = monotonicSeconds()
    var f = flags
    if !world.isRoot { f.scaling.saveScaler = nil }  // one rank writes the scaler
    _ = try mpiDevice(f.device)
    let (source, request) = try world.agree { () throws -> (PoolSource, SelectionRequest) in
      let source = try f.loadPool()
      return (source, try f.makeRequest(source))
    }
    let bar = rootProgress("ntk-mpi select", total: f.size, unit: " points")
    let stopAfter = FaultInjection.selectionStopAfterSteps
    var steps = 0
    let result: SelectionResult
    do {
      result = try world.agree {
        try ShardedSelection.run(request, collectives: world, checkpointWriter: world.isRoot,
                                 progress: { p in steps += 1; bar?.update(p.picks, total: p.size) },
                                 isInterrupted: { Communicator.interrupted || (stopAfter.map { steps >= $0 } ?? false) })
      }
    } catch let failure as CollectiveFailure {
      bar?.finish()
      if failure.interrupted, let checkpoint = f.checkpoint, world.isRoot {
        stderrLine("ntk-mpi: interrupted; state saved to \(checkpoint) (rerun with --resume to continue)")
      }
      throw failure
    }
    bar?.finish()
    try world.agree {
      if world.isRoot { try f.finish(result, source: source, deviceName: "cpu×\(world.size) ranks", started: started) }
    }
  }
}
