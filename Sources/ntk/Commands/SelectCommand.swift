import ArgumentParser
import NTKit

struct SelectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "select", abstract: "Data selection (placeholder).")
  func run() throws { throw NTKitError.invalidArgument("ntk select: not implemented yet") }
}
