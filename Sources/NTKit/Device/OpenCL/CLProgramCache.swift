#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenCL
import NTKitKernels

/// Compiles the embedded kernel sources for one device at run time and keeps
/// the programs and kernels, keyed by (file, build options), for the life of
/// the device (an in-process cache; PoCL adds its own on-disk cache under
/// `POCL_CACHE_DIR`).
///
/// Each program is the concatenation of the code table (`CLCodeTable`), `common.cl` and `<file>`. The directory in
/// `NTKIT_KERNEL_DIR`, when set, overrides the embedded copies (development).
final class CLProgramCache: @unchecked Sendable {
  // @unchecked: the dictionaries are only touched with `lock` held.
  private let context: cl_context
  private let device: cl_device_id
  private let lock = CLLock()
  private var programs: [String: cl_program] = [:]
  private var kernels: [String: cl_kernel] = [:]

  init(context: cl_context, device: cl_device_id) {
    self.context = context
    self.device = device
  }

  deinit {
    for kernel in kernels.values { clReleaseKernel(kernel) }
    for program in programs.values { clReleaseProgram(program) }
  }

  /// The kernel `name` of `file` built with `options` (built on first use).
  func kernel(_ name: String, file: String, options: String) throws -> cl_kernel {
    try lock.withLock {
      let key = "\(file)|\(options)|\(name)"
      if let kernel = kernels[key] { return kernel }
      let program = try programLocked(file: file, options: options)
      var status: cl_int = CL_SUCCESS
      guard let kernel = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
        throw NTKitError.openCL(call: "clCreateKernel(\(name))", code: status, name: CLStatus.name(status))
      }
      kernels[key] = kernel
      return kernel
    }
  }

  /// Programs built so far (for tests and `ntk devices`).
  var programCount: Int { lock.withLock { programs.count } }

  private func programLocked(file: String, options: String) throws -> cl_program {
    let key = "\(file)|\(options)"
    if let program = programs[key] { return program }
    let source = try CLCodeTable.prelude + CLProgramCache.source("common.cl") + "\n" + CLProgramCache.source(file)
    var status: cl_int = CL_SUCCESS
    let created: cl_program? = source.withCString { text in
      var pointer: UnsafePointer<CChar>? = text
      var length = strlen(text)
      return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
    }
    guard let program = created, status == CL_SUCCESS else {
      throw NTKitError.openCL(call: "clCreateProgramWithSource(\(file))", code: status, name: CLStatus.name(status))
    }
    var target: cl_device_id? = device
    let built = clBuildProgram(program, 1, &target, options, nil, nil)
    if built != CL_SUCCESS {
      let log = buildLog(program)
      clReleaseProgram(program)
      if built == CL_BUILD_PROGRAM_FAILURE || built == CL_INVALID_BUILD_OPTIONS || !log.isEmpty {
        throw NTKitError.kernelBuild(file: file, log: "options: \(options)\n\(log)")
      }
      try check(built, call: "clBuildProgram(\(file))")
    }
    programs[key] = program
    return program
  }

  private func buildLog(_ program: cl_program) -> String {
    var size = 0
    let param = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
    guard clGetProgramBuildInfo(program, device, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    guard clGetProgramBuildInfo(program, device, param, size, &bytes, nil) == CL_SUCCESS else { return "" }
    return decodeCString(bytes)
  }

  /// The text of kernel file `name`: from `NTKIT_KERNEL_DIR` when set, else embedded.
  static func source(_ name: String) throws -> String {
    if let dir = TuningKnobs.kernelDirectory {
      let path = dir + "/" + name
      guard let text = readTextFile(path) else {
        throw NTKitError.io(path: path, reason: "cannot read kernel source (NTKIT_KERNEL_DIR is set)")
      }
      return text
    }
    guard let text = KernelSource.embedded(name) else {
      throw NTKitError.kernelBuild(file: name, log: "no embedded kernel source named \(name)")
    }
    return text
  }

  private static func readTextFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let got = fread(&chunk, 1, chunk.count, file)
      if got <= 0 { break }
      bytes.append(contentsOf: chunk[0..<got])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
