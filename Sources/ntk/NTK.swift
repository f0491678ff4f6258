import ArgumentParser
import NTKit

struct NTK: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ntk",
    abstract: "Neural-tangent kernels, their collective variables and RND data selection for small networks.",
    discussion: """
      Exit status: 0 success, 1 failure (bad input, I/O, numerical), 2 usage error.
      Models are JSON specs; weights are safetensors; arrays are .npy or .csv: see docs/formats.md.
      """,
    version: NTKitVersion.string,
    subcommands: [
      InitCommand.self, ForwardCommand.self, JacobianCommand.self, GramCommand.self, StatsCommand.self,
      TrainCommand.self, SelectCommand.self, ExperimentCommand.self,
      DevicesCommand.self, BenchCommand.self, DemoCommand.self,
    ])
}
