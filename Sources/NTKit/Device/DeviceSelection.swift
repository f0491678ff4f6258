#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `--device` asks for.
public enum DeviceChoice: Sendable, Equatable, CustomStringConvertible {
  /// A GPU OpenCL device when there is one, else the CPU (BLAS). A CPU
  /// OpenCL device (PoCL) is never picked by `auto`.
  case auto
  /// The CPU BLAS path.
  case cpu
  /// The first OpenCL GPU, else the first OpenCL device of any kind.
  case opencl
  /// Device `device` of platform `platform`, as `ntk devices` numbers them.
  case openclIndexed(platform: Int, device: Int)

  /// Parses `auto`, `cpu`, `opencl` or `opencl:<platform>:<device>`.
  public init(parsing text: String) throws {
    switch text.lowercased() {
    case "auto": self = .auto
    case "cpu": self = .cpu
    case "opencl": self = .opencl
    default:
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      if parts.count == 3, parts[0].lowercased() == "opencl", let p = Int(parts[1]), let d = Int(parts[2]), p >= 0, d >= 0 {
        self = .openclIndexed(platform: p, device: d)
      } else {
        throw NTKitError.invalidArgument(
          "invalid device '\(text)': expected auto, cpu, opencl or opencl:<platform>:<device> (see `ntk devices`)")
      }
    }
  }

  public var description: String {
    switch self {
    case .auto: return "auto"
    case .cpu: return "cpu"
    case .opencl: return "opencl"
    case .openclIndexed(let p, let d): return "opencl:\(p):\(d)"
    }
  }
}

/// Turns a `DeviceChoice` into a device, with the fallback rules of `--device`:
///
/// - `auto`: a GPU OpenCL device, else the CPU. When the OpenCL loader or
///   platform is missing, or the GPU's kernels fail to build, it falls back to
///   the CPU with one warning line (through `warn`).
/// - `opencl`, `opencl:<p>:<d>`: that device or a clear error
///   (`NTKitError.noOpenCLPlatform` with a hint when there is no platform).
/// - `cpu`: `CPUDevice.shared`.
///
/// The platform list is read lazily, on the first call that needs it, so a
/// process can set `OCL_ICD_VENDORS` / `POCL_CACHE_DIR` before.
public enum DeviceSelector {
  /// The device for `choice`. `platforms` replaces OpenCL enumeration (tests
  /// pass `[]` to simulate a machine without OpenCL); nil enumerates.
  public static func make(
    _ choice: DeviceChoice, platforms: [DeviceInfo]? = nil, options: OpenCLOptions = OpenCLOptions(),
    warn: (String) -> Void
  ) throws -> any ComputeDevice {
    if choice == .cpu { return CPUDevice.shared }
    let (devices, failure) = platforms.map { ($0, nil) } ?? enumerate()
    switch choice {
    case .cpu:
      return CPUDevice.shared
    case .auto:
      guard !devices.isEmpty else {
        warn("warning: no OpenCL platform (\(failure.map(firstLine) ?? "none installed")); using the CPU")
        return CPUDevice.shared
      }
      guard let gpu = devices.first(where: \.isGPU) else { return CPUDevice.shared }
      do {
        let device = try open(gpu.identifier, options: options)
        try device.prepare(Float.self)
        return device
      } catch {
        warn("warning: OpenCL device \(gpu.identifier) (\(gpu.name)) is unusable (\(firstLine(error))); using the CPU")
        return CPUDevice.shared
      }
    case .opencl:
      guard let pick = devices.first(where: \.isGPU) ?? devices.first else {
        throw NTKitError.noOpenCLPlatform(hint: missingPlatformHint(failure))
      }
      return try open(pick.identifier, options: options)
    case .openclIndexed(let p, let d):
      guard !devices.isEmpty else { throw NTKitError.noOpenCLPlatform(hint: missingPlatformHint(failure)) }
      let wanted = "opencl:\(p):\(d)"
      guard devices.contains(where: { $0.identifier == wanted }) else {
        throw NTKitError.invalidArgument(
          "no OpenCL device \(wanted); available: \(devices.map(\.identifier).joined(separator: ", ")) (see `ntk devices`)")
      }
      return try open(wanted, options: options)
    }
  }

  /// Every device: the CPU first, then each OpenCL device (none when the
  /// loader finds no platform).
  public static func listAll() -> [DeviceInfo] {
    [CPUDevice.shared.info] + enumerate().devices
  }

  /// The identifier `auto` would pick ("cpu" or "opencl:<p>:<d>"), without
  /// building kernels.
  public static func autoChoice() -> String {
    enumerate().devices.first(where: \.isGPU)?.identifier ?? "cpu"
  }

  /// True for errors after which a caller that chose `auto` may rerun on the
  /// CPU: no platform, a kernel that fails to build, device out of memory.
  public static func isRecoverable(_ error: Error) -> Bool {
    guard let error = error as? NTKitError else { return false }
    switch error {
    case .noOpenCLPlatform, .kernelBuild: return true
    case .openCL(_, let code, _): return CLStatus.isOutOfMemory(code)
    default: return false
    }
  }

  /// Runs `body` on `device`, rerunning it on `fallback` (the CPU) when a
  /// device that `auto` chose fails mid-run.
  ///
  /// The rerun happens only when `warn` is non-nil (the caller chose `auto`;
  /// an explicit `--device` must fail loudly instead), `device` is not
  /// `fallback` itself, and the error is recoverable (`isRecoverable`: no
  /// platform, kernel build failure, device out of memory). `warn` then
  /// receives one line naming the device and the error. Any other error, or
  /// a failure of the rerun, is rethrown unchanged.
  ///
  /// `body` must be restartable: it must not leave partial results behind
  /// when it throws (GramJob writes through a temporary file).
  public static func withFallback<R>(
    on device: any ComputeDevice, to fallback: any ComputeDevice = CPUDevice.shared,
    warn: ((String) -> Void)?, _ body: (any ComputeDevice) throws -> R
  ) throws -> R {
    do {
      return try body(device)
    } catch {
      guard let warn, device !== fallback, isRecoverable(error) else { throw error }
      warn("warning: \(device.identifier) (\(device.info.name)) failed (\(firstLine(error))); "
           + "rerunning on \(fallback.identifier)")
      return try body(fallback)
    }
  }

  /// OpenCL devices, or an empty list and the reason.
  static func enumerate() -> (devices: [DeviceInfo], failure: Error?) {
    do { return (try CLPlatformList.devices(), nil) } catch { return ([], error) }
  }

  static func open(_ identifier: String, options: OpenCLOptions) throws -> OpenCLDevice {
    let parts = identifier.split(separator: ":")
    guard parts.count == 3, let p = Int(parts[1]), let d = Int(parts[2]) else {
      throw NTKitError.invalidArgument("invalid OpenCL device identifier \(identifier)")
    }
    return try OpenCLDevice(platform: p, device: d, options: options)
  }

  static func missingPlatformHint(_ failure: Error?) -> String {
    let vendors = getenv("OCL_ICD_VENDORS").map { String(cString: $0) }
    let reason = failure.map(firstLine) ?? "the OpenCL loader lists no platform"
    return "\(reason); install an OpenCL driver (Debian: apt-get install pocl-opencl-icd) and check that "
      + "OCL_ICD_VENDORS (\(vendors.map { "now \($0)" } ?? "unset")) names a folder of .icd files; or use --device cpu"
  }

  static func firstLine(_ error: Error) -> String {
    let text = String(describing: error)
    return String(text.split(separator: "\n", maxSplits: 1).first ?? Substring(text))
  }
}
