import ArgumentParser
import NTKit
import NTKitMPI

struct MPISelectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "select", abstract: "RND, random or k-center selection across MPI ranks.")
  @OptionGroup var flags: SelectCommand
  func run() throws { throw ValidationError("not yet") }
}
