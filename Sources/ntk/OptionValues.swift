import ArgumentParser
import NTKit

// The option enums of the library, read by swift-argument-parser: a bad value
// is a usage error (exit 2) that lists the valid values (`allValueStrings`).
// Names parse as the library parses them (`init(parsing:)`: case-insensitive,
// with the aliases it documents).

/// Any `NamedChoice`: case-insensitive, as the library parses it.
extension ExpressibleByArgument where Self: NamedChoice {
  public init?(argument: String) {
    guard let value = try? Self.named(argument) else { return nil }
    self = value
  }
}

extension Precision: ExpressibleByArgument {}
extension NTKMode: ExpressibleByArgument {}
extension Parameterization: ExpressibleByArgument {}

extension KernelConvention: ExpressibleByArgument {}

extension Loss: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension OptimizerChoice: ExpressibleByArgument {}

extension SelectionMethod: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SpectrumMethodChoice: ExpressibleByArgument {}

extension SelectionDistance: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
  public var defaultValueDescription: String { name }
  public static var allValueStrings: [String] { names }
}

extension DeviceChoice: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
  /// What `"\(self)"` (argument-parser's default) prints, without its
  /// dynamic casts, which scan the binary's conformances at every start.
  public var defaultValueDescription: String { description }
  public static var allValueStrings: [String] { ["auto", "cpu", "opencl", "opencl:<platform>:<device>"] }
}
