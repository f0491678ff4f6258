import ArgumentParser
import NTKit

struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "experiment", abstract: "The paper's experiments (placeholder).")
  func run() throws { throw NTKitError.invalidArgument("ntk experiment: not implemented yet") }
}
