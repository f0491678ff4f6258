import COpenCL

/// One OpenCL device found by enumeration, with its raw handles.
struct CLDeviceEntry {
  var platformIndex: Int
  var deviceIndex: Int
  var platform: cl_platform_id
  var device: cl_device_id
  var info: DeviceInfo
}

/// Enumerates OpenCL platforms and devices (through the ICD loader) into
/// `DeviceInfo` values with identifiers "opencl:<platform>:<device>".
public enum CLPlatformList {
  /// Every device of every platform, in platform then device order.
  ///
  /// Throws `NTKitError.openCL` when the loader finds no platform
  /// (CL_PLATFORM_NOT_FOUND_KHR, e.g. `OCL_ICD_VENDORS` pointing at an
  /// empty folder) or a query fails. A platform whose device query fails
  /// (e.g. PoCL with an unwritable cache) is skipped.
  public static func devices() throws -> [DeviceInfo] {
    try entries().map(\.info)
  }

  static func entries() throws -> [CLDeviceEntry] {
    var platformCount: cl_uint = 0
    try check(clGetPlatformIDs(0, nil, &platformCount), call: "clGetPlatformIDs")
    guard platformCount > 0 else { return [] }
    var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
    try check(clGetPlatformIDs(platformCount, &platforms, nil), call: "clGetPlatformIDs")
    var result: [CLDeviceEntry] = []
    for (p, platformHandle) in platforms.enumerated() {
      guard let platform = platformHandle else { continue }
      var deviceCount: cl_uint = 0
      let all = cl_device_type(CL_DEVICE_TYPE_ALL)
      guard clGetDeviceIDs(platform, all, 0, nil, &deviceCount) == CL_SUCCESS, deviceCount > 0 else { continue }
      var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
      guard clGetDeviceIDs(platform, all, deviceCount, &devices, nil) == CL_SUCCESS else { continue }
      let platformName = platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
      for (d, deviceHandle) in devices.enumerated() {
        guard let device = deviceHandle else { continue }
        result.append(CLDeviceEntry(platformIndex: p, deviceIndex: d, platform: platform, device: device,
                                    info: describe(device, platform: p, index: d, platformName: platformName)))
      }
    }
    return result
  }

  static func describe(_ device: cl_device_id, platform p: Int, index d: Int, platformName: String) -> DeviceInfo {
    let type: cl_device_type = deviceValue(device, cl_device_info(CL_DEVICE_TYPE), 0)
    let units: cl_uint = deviceValue(device, cl_device_info(CL_DEVICE_MAX_COMPUTE_UNITS), 0)
    let memory: cl_ulong = deviceValue(device, cl_device_info(CL_DEVICE_GLOBAL_MEM_SIZE), 0)
    let extensions = deviceString(device, cl_device_info(CL_DEVICE_EXTENSIONS))
    let version = deviceString(device, cl_device_info(CL_DEVICE_VERSION))
    let driver = deviceString(device, cl_device_info(CL_DRIVER_VERSION))
    let fp64 = extensions.split(separator: " ").contains("cl_khr_fp64")
    return DeviceInfo(
      kind: .opencl, identifier: "opencl:\(p):\(d)",
      name: deviceString(device, cl_device_info(CL_DEVICE_NAME)),
      vendor: deviceString(device, cl_device_info(CL_DEVICE_VENDOR)),
      computeUnits: Int(units), globalMemoryBytes: Int(clamping: memory),
      supportsF64: fp64, isGPU: type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0,
      detail: "platform: \(platformName); \(version); driver \(driver)",
      clockMHz: Int(deviceValue(device, cl_device_info(CL_DEVICE_MAX_CLOCK_FREQUENCY), cl_uint(0))),
      nativeFloatWidth: Int(deviceValue(device, cl_device_info(CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT), cl_uint(0))))
  }

  /// A fixed-size device property, `fallback` when the query fails.
  static func deviceValue<V>(_ device: cl_device_id, _ param: cl_device_info, _ fallback: V) -> V {
    var value = fallback
    let status = withUnsafeMutableBytes(of: &value) {
      clGetDeviceInfo(device, param, $0.count, $0.baseAddress, nil)
    }
    return status == CL_SUCCESS ? value : fallback
  }

  /// A string device property, "" when the query fails.
  static func deviceString(_ device: cl_device_id, _ param: cl_device_info) -> String {
    var size = 0
    guard clGetDeviceInfo(device, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    guard clGetDeviceInfo(device, param, size, &bytes, nil) == CL_SUCCESS else { return "" }
    return decodeCString(bytes)
  }

  static func platformString(_ platform: cl_platform_id, _ param: cl_platform_info) -> String {
    var size = 0
    guard clGetPlatformInfo(platform, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    guard clGetPlatformInfo(platform, param, size, &bytes, nil) == CL_SUCCESS else { return "" }
    return decodeCString(bytes)
  }
}

/// UTF-8 text up to the first NUL, trimmed of surrounding spaces.
func decodeCString(_ bytes: [UInt8]) -> String {
  let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
  let text = String(decoding: bytes[..<end], as: UTF8.self)
  var scalars = Substring(text)
  while scalars.first == " " { scalars.removeFirst() }
  while scalars.last == " " || scalars.last == "\n" { scalars.removeLast() }
  return String(scalars)
}
