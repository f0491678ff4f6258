/// Resolves a `--device` value to a device. (The OpenCL backend extends this.)
public enum DeviceResolver {
  public static let validNames = "auto, cpu, opencl, opencl:<platform>:<device>"

  public static func resolve(_ name: String, warn: (String) -> Void) throws -> any ComputeDevice {
    switch name {
    case "auto", "cpu": return CPUDevice.shared
    default:
      if name == "opencl" || name.hasPrefix("opencl:") {
        throw NTKitError.noOpenCLPlatform(hint: "this build has no OpenCL backend yet")
      }
      throw NTKitError.invalidArgument("unknown device \"\(name)\"; expected one of \(validNames)")
    }
  }

  public static func list() -> [DeviceInfo] { [CPUDevice.shared.info] }
}
