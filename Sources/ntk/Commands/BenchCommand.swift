import ArgumentParser
import NTKit

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (placeholder).")
  func run() throws { print("not yet") }
}
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "demo", abstract: "Demo (placeholder).")
  func run() throws { print("not yet") }
}
