import ArgumentParser
import NTKit

/// The root command of `ntk-mpi`; each subcommand reuses the flags of the
/// `ntk` command of the same name (`@OptionGroup` of that command).
struct NTKMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ntk-mpi",
    abstract: "NTK Gram, collective variables and RND selection across MPI ranks (mpirun -n P ntk-mpi …).",
    discussion: """
      Same flags and outputs as `ntk gram|stats|select`; run under mpirun. Each rank runs one thread;
      --memory-budget is per rank. Exit status: 0 success, 1 failure on any rank (one line from
      rank 0, no output file), 2 usage error, 130 interrupted. See docs/scale-out.md.
      """,
    version: NTKitVersion.string,
    subcommands: [MPIGramCommand.self, MPIStatsCommand.self, MPISelectCommand.self])
}

/// Progress from rank 0 only (the other ranks draw nothing).
func rootProgress(_ label: String, total: Int, unit: String) -> ProgressBar? {
  world.isRoot ? ProgressBar(label, total: total, unit: unit) : nil
}

/// The CPU device for ntk-mpi (one thread a rank); other devices are refused.
func mpiDevice(_ choice: DeviceChoice) throws -> any ComputeDevice {
  guard choice == .auto || choice == .cpu else {
    throw ValidationError("ntk-mpi computes on the CPU, one thread a rank: --device must be auto or cpu, found \"\(choice)\"")
  }
  return CPUDevice()
}
