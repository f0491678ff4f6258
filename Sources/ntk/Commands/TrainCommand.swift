import ArgumentParser
import NTKit

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a model (placeholder).")
  func run() throws { throw NTKitError.invalidArgument("ntk train: not implemented yet") }
}
