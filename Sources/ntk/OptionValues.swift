import ArgumentParser
import NTKit

// The option enums of the library, read by swift-argument-parser: a bad value
// is a usage error (exit 2) that lists the valid values (`allValueStrings`).
// Names parse as the library parses them (`init(parsing:)`: case-insensitive,
// with the aliases it documents).

extension Precision: ExpressibleByArgument {}
extension NTKMode: ExpressibleByArgument {}
extension Parameterization: ExpressibleByArgument {}

extension KernelConvention: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension Loss: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension OptimizerChoice: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SelectionMethod: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SpectrumMethodChoice: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SelectionDistance: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
  public var defaultValueDescription: String { name }
  public static var allValueStrings: [String] { names }
}

extension DeviceChoice: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
  public static var allValueStrings: [String] { ["auto", "cpu", "opencl", "opencl:<platform>:<device>"] }
}
