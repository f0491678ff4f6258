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
  /// `enumerateAlways`: `auto` loads the platforms even where no GPU device
  /// node exists (the Python package needs PoCL loaded by its first `auto`
  /// call, before TensorFlow's LLVM; see python/ntkit/_lib.py).
  public static func make(
    _ choice: DeviceChoice, platforms: [DeviceInfo]? = nil, options: OpenCLOptions = OpenCLOptions(),
    enumerateAlways: Bool = false, warn: (String) -> Void
  ) throws -> any ComputeDevice {
    if choice == .cpu || (choice == .auto && platforms == nil && !enumerateAlways && noGPUPossible()) {
      return CPUDevice.shared
    }
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
    if noGPUPossible() { return "cpu" }
    return enumerate().devices.first(where: \.isGPU)?.identifier ?? "cpu"
  }

  /// True when `auto` can skip loading the OpenCL platforms (PoCL loads
  /// LLVM: 20–50 ms of start-up) because no GPU can be behind them: OpenCL
  /// platforms are installed (.icd files, so there is no missing-platform
  /// warning to give) but none of the device nodes through which GPU drivers
  /// work exists (NVIDIA /dev/nvidiactl, AMD ROCm /dev/kfd, DRM render nodes
  /// /dev/dri, Arm Mali /dev/mali0, WSL /dev/dxg). `--device opencl` always
  /// enumerates.
  static func noGPUPossible() -> Bool {
    let nodes = ["/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dri", "/dev/mali0", "/dev/dxg"]
    if nodes.contains(where: { access($0, F_OK) == 0 }) { return false }
    if let files = getenv("OCL_ICD_FILENAMES"), files.pointee != 0 { return true }
    let vendors = getenv("OCL_ICD_VENDORS").map { String(cString: $0) } ?? "/etc/OpenCL/vendors"
    var info = stat()
    guard stat(vendors, &info) == 0 else { return false }
    if (info.st_mode & S_IFMT) != S_IFDIR { return true }
    guard let dir = opendir(vendors) else { return false }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name.hasSuffix(".icd") { return true }
    }
    return false
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

  /// OpenCL devices, or an empty list and the reason: the result of
  /// `beginProbe(for:)` when one is pending (taken once), else a fresh enumeration.
  static func enumerate() -> (devices: [DeviceInfo], failure: Error?) {
    if let probe = PendingProbe.take() { return probe.wait() }
    return enumerateNow()
  }

  static func enumerateNow() -> (devices: [DeviceInfo], failure: Error?) {
    do { return (try CLPlatformList.devices(), nil) } catch { return ([], error) }
  }

  /// Starts enumerating the OpenCL devices on a thread of its own when
  /// `choice` needs them, so that loading the platforms (PoCL loads LLVM:
  /// 20–50 ms) overlaps the caller's own start-up (reading the model and
  /// inputs). The next `make(.auto)`, `make(.opencl…)`, `listAll()` or
  /// `autoChoice()` takes its result. Call it only once the OpenCL
  /// environment (`OCL_ICD_VENDORS`, `POCL_*`) is final, and `endProbe()`
  /// before the process exits (a driver still loading while exit handlers run
  /// can crash); a second call while one is pending does nothing.
  public static func beginProbe(for choice: DeviceChoice) {
    if choice == .cpu || (choice == .auto && noGPUPossible()) { return }
    PendingProbe.start()
  }

  /// Waits for a probe that nothing took and drops it.
  public static func endProbe() { _ = PendingProbe.take()?.wait() }

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

/// The one enumeration `DeviceSelector.beginProbe(for:)` started, if any.
private final class PendingProbe: @unchecked Sendable {
  private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let p = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(p, nil)
    return p
  }()
  private static var pending: PendingProbe?

  /// Written by the probe thread, read after joining it.
  private var result: (devices: [DeviceInfo], failure: Error?) = ([], nil)
  private var thread = pthread_t()

  private static func locked<R>(_ body: () -> R) -> R {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    return body()
  }

  static func start() {
    locked {
      guard pending == nil else { return }
      let probe = PendingProbe()
      let box = Unmanaged.passRetained(probe).toOpaque()
      let started = pthread_create(&probe.thread, nil, { raw in
        let probe = Unmanaged<PendingProbe>.fromOpaque(raw!).takeRetainedValue()
        probe.result = DeviceSelector.enumerateNow()
        return nil
      }, box)
      if started == 0 {
        pending = probe
      } else {
        Unmanaged<PendingProbe>.fromOpaque(box).release()
      }
    }
  }

  static func take() -> PendingProbe? { locked { defer { pending = nil }; return pending } }

  func wait() -> (devices: [DeviceInfo], failure: Error?) {
    pthread_join(thread, nil)
    return result
  }
}
