#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenCL

/// Build-time choices of an OpenCL device.
public struct OpenCLOptions: Sendable, Equatable {
  /// Pass `-cl-fast-relaxed-math` (off by default: strict IEEE maths, so
  /// results match the CPU within float rounding).
  public var fastRelaxedMath: Bool
  public init(fastRelaxedMath: Bool = false) { self.fastRelaxedMath = fastRelaxedMath }
}

/// Device memory owned by a `DeviceBuffer` of an OpenCL device; released with it.
final class CLMemory: @unchecked Sendable {
  let mem: cl_mem
  let bytes: Int
  init(mem: cl_mem, bytes: Int) { self.mem = mem; self.bytes = bytes }
  deinit { clReleaseMemObject(mem) }
}

/// One kernel argument (the kernels take buffers as `(global T *, ulong offset)` pairs).
enum CLArg {
  case mem(cl_mem)
  case ulong(UInt64)
  case int(Int32)
  case float(Float)
  case double(Double)

  /// A `REAL` argument: float or double after the scalar type.
  static func real<T: DeviceScalar>(_ value: T) -> CLArg {
    T.precision == .f64 ? .double(value.double) : .float(value.float)
  }
  static func int(_ value: Int) -> CLArg { .int(Int32(clamping: value)) }
  static func offset(_ value: Int) -> CLArg { .ulong(UInt64(value)) }
}

/// A `ComputeDevice` on one OpenCL device: one context, one in-order command
/// queue, our own kernels (Kernels/cl) compiled at run time per scalar type.
///
/// Data stays on the device between calls; `read`/`write` are blocking, every
/// other call only enqueues. Buffer views are passed to kernels as element
/// offsets, so sub-buffers are never made. Double precision needs
/// `cl_khr_fp64`; without it every Double call throws.
public final class OpenCLDevice: ComputeDevice, @unchecked Sendable {
  // @unchecked: the OpenCL handles are thread-safe except kernel arguments,
  // which are set and enqueued with `launchLock` held.

  public let info: DeviceInfo
  public let options: OpenCLOptions
  let deviceID: cl_device_id
  let context: cl_context
  let queue: cl_command_queue
  let programs: CLProgramCache
  let maxWorkGroupSize: Int
  let gemmTuning: CLGemmTuning
  private let launchLock = CLLock()
  /// Tests force one GEMM kernel (nil: chosen by shape).
  var forcedGemmVariant: GemmVariant?
  /// Tests: after this many more buffer allocations, every allocation fails
  /// with CL_MEM_OBJECT_ALLOCATION_FAILURE, as a full device would (nil:
  /// never). Set before use, from one thread.
  var allocationsBeforeInjectedFailure: Int?
  /// `NTKIT_GEMM_KERNEL=tiled` makes a CPU OpenCL device use the local-memory kernel.
  let preferTiledOnCPU = TuningKnobs.current.openCLGemmTiledOnCPU

  enum GemmVariant: CaseIterable { case tiled, block, small }

  /// Opens device `device` of platform `platform` (as `ntk devices` numbers them).
  public convenience init(platform: Int, device: Int, options: OpenCLOptions = OpenCLOptions()) throws {
    let entries = try CLPlatformList.entries()
    guard let entry = entries.first(where: { $0.platformIndex == platform && $0.deviceIndex == device }) else {
      let known = entries.map(\.info.identifier).joined(separator: ", ")
      throw NTKitError.invalidArgument(
        "no OpenCL device opencl:\(platform):\(device) (available: \(known.isEmpty ? "none" : known))")
    }
    try self.init(entry: entry, options: options)
  }

  init(entry: CLDeviceEntry, options: OpenCLOptions) throws {
    var status: cl_int = CL_SUCCESS
    var device: cl_device_id? = entry.device
    guard let context = clCreateContext(nil, 1, &device, nil, nil, &status), status == CL_SUCCESS else {
      throw NTKitError.openCL(call: "clCreateContext", code: status, name: CLStatus.name(status))
    }
    guard let queue = clCreateCommandQueue(context, entry.device, 0, &status), status == CL_SUCCESS else {
      clReleaseContext(context)
      throw NTKitError.openCL(call: "clCreateCommandQueue", code: status, name: CLStatus.name(status))
    }
    let maxGroup: Int = CLPlatformList.deviceValue(entry.device, cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE), 64)
    let tuning = CLGemmTuning.forDevice(entry.info, maxWorkGroupSize: maxGroup)
    var info = entry.info
    // A CPU device runs the barrier-free vector kernels (gemmVariant, useBlockAccumulate) unless told otherwise.
    let cpuBlock = !entry.info.isGPU && !TuningKnobs.current.openCLGemmTiledOnCPU
    info.detail += cpuBlock
      ? "; gemm block \(OpenCLDevice.gemmBlock.0)×\(OpenCLDevice.gemmBlock.1) per work-item (vector), accumulate block 4×4"
      : "; \(tuning)"
    self.info = info
    self.options = options
    self.deviceID = entry.device
    self.context = context
    self.queue = queue
    self.maxWorkGroupSize = maxGroup
    self.gemmTuning = tuning
    self.programs = CLProgramCache(context: context, device: entry.device)
  }

  deinit {
    clFinish(queue)
    clReleaseCommandQueue(queue)
    clReleaseContext(context)
  }

  public func supports(_ precision: Precision) -> Bool {
    precision == .f32 || info.supportsF64
  }

  /// Buffers live in device memory, reached only through `read`/`write`.
  public var capabilities: DeviceCapabilities {
    DeviceCapabilities(hostAddressableMemory: false, fusedHostKernels: false)
  }

  /// The accumulation kernels work in the tile itself: no host scratch.
  public func ntkTileScratchBytes(featuresPerSample: Int, multiplicity: Int, scalarBytes: Int) -> Int { 0 }

  public func preferredGramTile(samples: Int, fused: Bool) -> Int { 1024 }

  /// Builds every kernel file for `T` now (so a build failure surfaces at
  /// device selection rather than mid-computation).
  public func prepare<T: DeviceScalar>(_ type: T.Type) throws {
    let files: [(String, String)] = [
      ("gemm.cl", "ntk_gemm"), ("ntk_accumulate.cl", "ntk_accumulate"), ("activation.cl", "ntk_act_forward"),
      ("conv.cl", "ntk_im2col"), ("avgpool.cl", "ntk_avgpool_forward"), ("elementwise.cl", "ntk_fill"),
      ("pool_distance.cl", "ntk_row_distances"),
    ]
    for (file, name) in files { _ = try kernel(name, file: file, T.self) }
  }

  // MARK: Kernels and launches

  /// Build options for scalar type `T` plus `extra`.
  func buildOptions<T: DeviceScalar>(_ type: T.Type, extra: String = "") throws -> String {
    if T.precision == .f64 && !info.supportsF64 {
      throw NTKitError.invalidArgument(
        "\(info.identifier) (\(info.name)) has no double precision (cl_khr_fp64); use --precision f32 or another device")
    }
    var parts = [T.precision == .f64 ? "-DREAL=double -DREAL_IS_DOUBLE=1" : "-DREAL=float"]
    if info.supportsF64 { parts.append("-DHAVE_FP64=1") }
    if options.fastRelaxedMath { parts.append("-cl-fast-relaxed-math") }
    if !extra.isEmpty { parts.append(extra) }
    return parts.joined(separator: " ")
  }

  func kernel<T: DeviceScalar>(_ name: String, file: String, _ type: T.Type, extra: String = "") throws -> cl_kernel {
    try programs.kernel(name, file: file, options: buildOptions(T.self, extra: extra))
  }

  /// Sets `args` and enqueues `kernel` over `global` (each a multiple of `local`).
  func launch(_ kernel: cl_kernel, name: String, _ args: [CLArg], global: [Int], local: [Int]?) throws {
    try launchLock.withLock {
      for (index, arg) in args.enumerated() {
        let i = cl_uint(index)
        let status: cl_int
        switch arg {
        case .mem(let m):
          var value: cl_mem? = m
          status = clSetKernelArg(kernel, i, MemoryLayout<cl_mem?>.size, &value)
        case .ulong(let v):
          var value = cl_ulong(v)
          status = clSetKernelArg(kernel, i, MemoryLayout<cl_ulong>.size, &value)
        case .int(let v):
          var value = cl_int(v)
          status = clSetKernelArg(kernel, i, MemoryLayout<cl_int>.size, &value)
        case .float(let v):
          var value = v
          status = clSetKernelArg(kernel, i, MemoryLayout<Float>.size, &value)
        case .double(let v):
          var value = v
          status = clSetKernelArg(kernel, i, MemoryLayout<Double>.size, &value)
        }
        try check(status, call: "clSetKernelArg(\(name), \(index))")
      }
      let status: cl_int
      if let local {
        status = clEnqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, global, local, 0, nil, nil)
      } else {
        status = clEnqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, global, nil, 0, nil, nil)
      }
      try check(status, call: "clEnqueueNDRangeKernel(\(name))")
    }
  }

  /// Launches a 1-D element-wise kernel over `count` work-items (rounded up).
  func launch1D<T: DeviceScalar>(_ name: String, file: String, _ type: T.Type, _ args: [CLArg], count: Int) throws {
    guard count > 0 else { return }
    let k = try kernel(name, file: file, T.self)
    let local = min(64, maxWorkGroupSize)
    try launch(k, name: name, args, global: [roundUp(count, local)], local: [local])
  }

  /// The cl_mem behind `view`.
  func mem<T>(_ view: BufferView<T>) throws -> cl_mem {
    guard let memory = view.buffer.handle as? CLMemory else {
      throw NTKitError.invalidArgument("a buffer of another device was passed to \(info.identifier)")
    }
    return memory.mem
  }

  func rawBuffer(bytes: Int) throws -> CLMemory {
    if let left = allocationsBeforeInjectedFailure {
      guard left > 0 else {
        throw NTKitError.openCL(call: "clCreateBuffer(\(formatBytes(bytes))) [injected]", code: -4,
                                name: CLStatus.name(-4))
      }
      allocationsBeforeInjectedFailure = left - 1
    }
    var status: cl_int = CL_SUCCESS
    guard let m = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), max(bytes, 1), nil, &status),
          status == CL_SUCCESS
    else {
      throw NTKitError.openCL(call: "clCreateBuffer(\(formatBytes(bytes)))", code: status, name: CLStatus.name(status))
    }
    return CLMemory(mem: m, bytes: max(bytes, 1))
  }

  // MARK: Memory

  public func makeBuffer<T: DeviceScalar>(_ type: T.Type, count: Int) throws -> DeviceBuffer<T> {
    _ = try buildOptions(T.self)  // refuses Double without fp64
    let bytes = max(count, 1) * MemoryLayout<T>.stride
    let memory = try rawBuffer(bytes: bytes)
    var zero: UInt8 = 0
    try check(clEnqueueFillBuffer(queue, memory.mem, &zero, 1, 0, bytes, 0, nil, nil),
              call: "clEnqueueFillBuffer(\(formatBytes(bytes)))")
    return DeviceBuffer(count: count, handle: memory, hostPointer: nil)
  }

  public func write<T: DeviceScalar>(_ source: UnsafeBufferPointer<T>, to destination: BufferView<T>) throws {
    guard let base = source.baseAddress, source.count > 0 else { return }
    precondition(destination.offset + source.count <= max(destination.buffer.count, 1), "write past the end of a buffer")
    let size = MemoryLayout<T>.stride
    try check(clEnqueueWriteBuffer(queue, mem(destination), cl_bool(CL_TRUE), destination.offset * size,
                                   source.count * size, base, 0, nil, nil),
              call: "clEnqueueWriteBuffer")
  }

  public func read<T: DeviceScalar>(_ source: BufferView<T>, into destination: UnsafeMutableBufferPointer<T>) throws {
    guard let base = destination.baseAddress, destination.count > 0 else { return }
    precondition(source.offset + destination.count <= max(source.buffer.count, 1), "read past the end of a buffer")
    let size = MemoryLayout<T>.stride
    try check(clEnqueueReadBuffer(queue, mem(source), cl_bool(CL_TRUE), source.offset * size,
                                  destination.count * size, base, 0, nil, nil),
              call: "clEnqueueReadBuffer")
  }

  public func fill<T: DeviceScalar>(_ destination: BufferView<T>, count: Int, value: T) throws {
    try launch1D("ntk_fill", file: "elementwise.cl", T.self,
                 [.mem(mem(destination)), .offset(destination.offset), .offset(count), .real(value)], count: count)
  }

  public func copy<T: DeviceScalar>(_ source: BufferView<T>, to destination: BufferView<T>, count: Int) throws {
    try launch1D("ntk_copy", file: "elementwise.cl", T.self,
                 [.mem(mem(source)), .offset(source.offset), .mem(mem(destination)), .offset(destination.offset),
                  .offset(count)], count: count)
  }

  public func synchronize() throws {
    try check(clFinish(queue), call: "clFinish")
  }

  // MARK: Linear algebra

  public func gemm<T: DeviceScalar>(_ op: GemmOp<T>) throws {
    try enqueueGemm(op, batch: 1, strideA: 0, strideB: 0, strideC: 0)
  }

  /// The whole batch in one launch (the batch is dimension 2 of the NDRange).
  public func gemmBatched<T: DeviceScalar>(_ batch: BatchedGemmOp<T>) throws {
    try enqueueGemm(batch.op, batch: batch.count, strideA: batch.strideA, strideB: batch.strideB,
                    strideC: batch.strideC)
  }

  func enqueueGemm<T: DeviceScalar>(_ op: GemmOp<T>, batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
    guard op.m > 0, op.n > 0, batch > 0 else { return }
    let limit = Int(Int32.max)
    guard op.m < limit, op.n < limit, op.k < limit, op.lda < limit, op.ldb < limit, op.ldc < limit else {
      throw NTKitError.invalidArgument("GEMM dimensions beyond 2³¹ are not supported on OpenCL")
    }
    let variant = forcedGemmVariant ?? gemmVariant(m: op.m, n: op.n, k: op.k)
    let args: [CLArg] = [
      .int(op.m), .int(op.n), .int(op.k), .real(op.alpha),
      .mem(try mem(op.a)), .offset(op.a.offset), .int(op.lda), .offset(strideA), .int(op.transA ? 1 : 0),
      .mem(try mem(op.b)), .offset(op.b.offset), .int(op.ldb), .offset(strideB), .int(op.transB ? 1 : 0),
      .real(op.beta), .mem(try mem(op.c)), .offset(op.c.offset), .int(op.ldc), .offset(strideC),
    ]
    switch variant {
    case .tiled:
      let t = gemmTuning
      let k = try kernel("ntk_gemm", file: "gemm.cl", T.self, extra: t.buildOptions)
      let (lx, ly) = t.localSize
      let global = [(op.n + t.tn - 1) / t.tn * lx, (op.m + t.tm - 1) / t.tm * ly, batch]
      try launch(k, name: "ntk_gemm", args, global: global, local: [lx, ly, 1])
    case .block:
      let (rbm, rbn) = OpenCLDevice.gemmBlock
      let k = try kernel("ntk_gemm_block", file: "gemm.cl", T.self,
                         extra: gemmTuning.buildOptions + " -DRBM=\(rbm) -DRBN=\(rbn)")
      let l = min(8, Int(Double(maxWorkGroupSize).squareRoot()))
      let (lx, ly) = OpenCLDevice.blockLocalFromEnvironment ?? (l, l)
      try launch(k, name: "ntk_gemm_block", args,
                 global: [roundUp((op.n + rbn - 1) / rbn, lx), roundUp((op.m + rbm - 1) / rbm, ly), batch],
                 local: [lx, ly, 1])
    case .small:
      let k = try kernel("ntk_gemm_small", file: "gemm.cl", T.self, extra: gemmTuning.buildOptions)
      let l = min(8, Int(Double(maxWorkGroupSize).squareRoot()))
      try launch(k, name: "ntk_gemm_small", args, global: [roundUp(op.n, l), roundUp(op.m, l), batch],
                 local: [l, l, 1])
    }
  }

  /// Rows × columns of C per work-item in `ntk_gemm_block` (RBM, RBN).
  static var gemmBlock: (Int, Int) { blockFromEnvironment ?? (8, 16) }
  /// `NTKIT_GEMM_BLOCK="rbm,rbn"` (tuning runs; rbn a vector width 2, 4, 8 or 16).
  /// `NTKIT_GEMM_BLOCK_LOCAL="lx,ly"`: work-group of ntk_gemm_block (tuning runs).
  static let blockLocalFromEnvironment: (Int, Int)? = TuningKnobs.current.openCLGemmBlockLocal.map { ($0[0], $0[1]) }
  static let blockFromEnvironment: (Int, Int)? = TuningKnobs.current.openCLGemmBlock.map { ($0[0], $0[1]) }

  /// Tiny or skinny products run one work-item per element. Larger ones use
  /// the local-memory tiled kernel on GPUs, and the barrier-free register
  /// block kernel on CPU devices (PoCL: about 2× the tiled kernel at n = 1024).
  func gemmVariant(m: Int, n: Int, k: Int) -> GemmVariant {
    if m < 8 || n < 8 || m * n * max(k, 1) < 32 * 32 * 32 { return .small }
    return info.isGPU || preferTiledOnCPU ? .tiled : .block
  }

  /// Work-group edge of ntk_accumulate (TS): 16 where 256 work-items fit.
  var accumulateTile: Int { maxWorkGroupSize >= 256 ? 16 : 8 }

  public func ntkAccumulate<T: DeviceScalar>(_ op: NTKAccumulateOp<T>) throws {
    let rows = op.rows1 * op.multiplicity, cols = op.rows2 * op.multiplicity
    guard rows > 0, cols > 0 else { return }
    let args: [CLArg] = [
      .int(op.rows1), .int(op.rows2), .int(op.multiplicity), .int(op.ka), .int(op.kg), .real(op.scaleA), .real(op.c),
      .mem(try mem(op.a1)), .offset(op.a1.offset), .mem(try mem(op.a2)), .offset(op.a2.offset),
      .mem(try mem(op.g1)), .offset(op.g1.offset), .mem(try mem(op.g2)), .offset(op.g2.offset),
      .mem(try mem(op.out)), .offset(op.out.offset), .int(op.ldo),
    ]
    if useBlockAccumulate {
      // CPU devices: the barrier-free vector kernel (PoCL runs local-memory tiles poorly).
      let rb = 4
      let k = try kernel("ntk_accumulate_block", file: "ntk_accumulate.cl", T.self, extra: "-DARB=\(rb)")
      let l = min(8, Int(Double(maxWorkGroupSize).squareRoot()))
      try launch(k, name: "ntk_accumulate_block", args,
                 global: [roundUp((cols + rb - 1) / rb, l), roundUp((rows + rb - 1) / rb, l)], local: [l, l])
      return
    }
    let ts = accumulateTile
    let k = try kernel("ntk_accumulate", file: "ntk_accumulate.cl", T.self, extra: "-DTS=\(ts)")
    try launch(k, name: "ntk_accumulate", args, global: [roundUp(cols, ts), roundUp(rows, ts)], local: [ts, ts])
  }

  /// Tests force one accumulate kernel (nil: the block kernel on CPU devices, tiles on GPUs).
  var forcedBlockAccumulate: Bool?
  var useBlockAccumulate: Bool { forcedBlockAccumulate ?? !(info.isGPU || preferTiledOnCPU) }

  public func addRowVector<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, vector: BufferView<T>, scale: T) throws {
    try launch1D("ntk_add_row_vector", file: "elementwise.cl", T.self,
                 [.mem(mem(x)), .offset(x.offset), .int(rows), .int(cols), .mem(mem(vector)), .offset(vector.offset),
                  .real(scale)], count: rows * cols)
  }

  public func columnSums<T: DeviceScalar>(_ x: BufferView<T>, rows: Int, cols: Int, scale: T, into out: BufferView<T>) throws {
    try launch1D("ntk_column_sums", file: "elementwise.cl", T.self,
                 [.mem(mem(x)), .offset(x.offset), .int(rows), .int(cols), .real(scale), .mem(mem(out)),
                  .offset(out.offset)], count: cols)
  }

  // MARK: Layers

  public func activationForward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, y: BufferView<T>, count: Int) throws {
    try launch1D("ntk_act_forward", file: "activation.cl", T.self,
                 [.int(act.code), .real(T(act.slope)), .mem(mem(z)), .offset(z.offset), .mem(mem(y)), .offset(y.offset),
                  .offset(count)], count: count)
  }

  public func activationBackward<T: DeviceScalar>(_ act: Activation, z: BufferView<T>, cotangent g: BufferView<T>,
                                                  n: Int, m: Int, width: Int) throws {
    if case .identity = act { return }
    try launch1D("ntk_act_backward", file: "activation.cl", T.self,
                 [.int(act.code), .real(T(act.slope)), .mem(mem(z)), .offset(z.offset), .mem(mem(g)), .offset(g.offset),
                  .int(n), .int(m), .int(width)], count: n * m * width)
  }

  func convArgs(_ g: ConvGeometry, n: Int) -> [CLArg] {
    [.int(n), .int(g.inH), .int(g.inW), .int(g.inC), .int(g.kh), .int(g.kw), .int(g.sh), .int(g.sw),
     .int(g.padTop), .int(g.padLeft), .int(g.outH), .int(g.outW)]
  }

  public func im2col<T: DeviceScalar>(_ g: ConvGeometry, input: BufferView<T>, cols: BufferView<T>, n: Int) throws {
    try launch1D("ntk_im2col", file: "conv.cl", T.self,
                 [.mem(mem(input)), .offset(input.offset), .mem(mem(cols)), .offset(cols.offset)] + convArgs(g, n: n),
                 count: n * g.positions * g.patch)
  }

  public func col2im<T: DeviceScalar>(_ g: ConvGeometry, cols: BufferView<T>, input: BufferView<T>, n: Int) throws {
    try launch1D("ntk_col2im", file: "conv.cl", T.self,
                 [.mem(mem(cols)), .offset(cols.offset), .mem(mem(input)), .offset(input.offset)] + convArgs(g, n: n),
                 count: n * g.inputSize)
  }

  public func interleaveCotangents<T: DeviceScalar>(_ op: CotangentInterleaveOp<T>) throws {
    let shape: [CLArg] = [.int(op.n), .int(op.m), .int(op.positions), .int(op.channels)]
    try launch1D("ntk_interleave_cotangents", file: "conv.cl", T.self,
                 [.mem(mem(op.source)), .offset(op.source.offset), .mem(mem(op.destination)),
                  .offset(op.destination.offset)] + shape, count: op.n * op.m * op.positions * op.channels)
    if let sums = op.sums {
      try launch1D("ntk_cotangent_sums", file: "conv.cl", T.self,
                   [.mem(mem(op.source)), .offset(op.source.offset), .mem(mem(sums)), .offset(sums.offset),
                    .offset(op.ldSums), .real(op.scale)] + shape, count: op.n * op.m * op.channels)
    }
  }

  func poolArgs(_ p: PoolGeometry, n: Int) -> [CLArg] {
    [.int(n), .int(p.inH), .int(p.inW), .int(p.channels), .int(p.wh), .int(p.ww), .int(p.sh), .int(p.sw),
     .int(p.outH), .int(p.outW)]
  }

  public func avgPoolForward<T: DeviceScalar>(_ p: PoolGeometry, input: BufferView<T>, output: BufferView<T>, n: Int) throws {
    try launch1D("ntk_avgpool_forward", file: "avgpool.cl", T.self,
                 [.mem(mem(input)), .offset(input.offset), .mem(mem(output)), .offset(output.offset)] + poolArgs(p, n: n),
                 count: n * p.outputSize)
  }

  public func avgPoolBackward<T: DeviceScalar>(_ p: PoolGeometry, output: BufferView<T>, input: BufferView<T>, n: Int) throws {
    try launch1D("ntk_avgpool_backward", file: "avgpool.cl", T.self,
                 [.mem(mem(output)), .offset(output.offset), .mem(mem(input)), .offset(input.offset)] + poolArgs(p, n: n),
                 count: n * p.inputSize)
  }

  public func identityCotangent<T: DeviceScalar>(_ out: BufferView<T>, n: Int, m: Int) throws {
    try launch1D("ntk_identity_cotangent", file: "elementwise.cl", T.self,
                 [.mem(mem(out)), .offset(out.offset), .int(n), .int(m)], count: n * m * m)
  }

  // MARK: Selection and training

  public func rowDistances<T: DeviceScalar>(_ metric: DistanceMetric, a: BufferView<T>, b: BufferView<T>,
                                            out: BufferView<T>, n: Int, d: Int) throws {
    let code = metric.code
    let p: Float = {
      switch metric {
      case .mse, .l2: return 2
      case .l1: return 1
      case .lp(let p): return Float(p)
      case .cosine, .angular: return 0
      }
    }()
    try launch1D("ntk_row_distances", file: "pool_distance.cl", T.self,
                 [.int(code), .float(p), .mem(mem(a)), .offset(a.offset), .mem(mem(b)), .offset(b.offset),
                  .mem(mem(out)), .offset(out.offset), .int(n), .int(d)], count: n)
  }

  /// Work-group size of the arg-max reduction: a power of two ≤ 256.
  var argmaxGroup: Int {
    var g = 256
    while g > maxWorkGroupSize { g /= 2 }
    return g
  }

  public func argmax<T: DeviceScalar>(_ values: BufferView<T>, excluded: BufferView<T>?, count: Int) throws -> (index: Int, value: Double)? {
    guard count > 0 else { return nil }
    let wg = argmaxGroup
    let groups = max(1, min(64, (count + wg - 1) / wg))
    let size = MemoryLayout<T>.stride
    let partIndex = try rawBuffer(bytes: groups * 4), partValue = try rawBuffer(bytes: groups * size)
    let outIndex = try rawBuffer(bytes: 4), outValue = try rawBuffer(bytes: size)
    let extra = "-DARGMAX_WG=\(wg)"
    let stage1 = try kernel("ntk_argmax_partial", file: "pool_distance.cl", T.self, extra: extra)
    let mask = try excluded.map { try mem($0) } ?? mem(values)
    try launch(stage1, name: "ntk_argmax_partial",
               [.mem(try mem(values)), .offset(values.offset), .mem(mask), .offset(excluded?.offset ?? 0),
                .int(excluded == nil ? 0 : 1), .int(count), .mem(partIndex.mem), .mem(partValue.mem)],
               global: [groups * wg], local: [wg])
    let stage2 = try kernel("ntk_argmax_final", file: "pool_distance.cl", T.self, extra: extra)
    try launch(stage2, name: "ntk_argmax_final",
               [.mem(partIndex.mem), .mem(partValue.mem), .int(groups), .mem(outIndex.mem), .mem(outValue.mem)],
               global: [wg], local: [wg])
    var index: Int32 = -1
    var value: T = 0
    try check(clEnqueueReadBuffer(queue, outIndex.mem, cl_bool(CL_TRUE), 0, 4, &index, 0, nil, nil),
              call: "clEnqueueReadBuffer(argmax index)")
    guard index >= 0 else { return nil }
    try withUnsafeMutableBytes(of: &value) { bytes in
      try check(clEnqueueReadBuffer(queue, outValue.mem, cl_bool(CL_TRUE), 0, size, bytes.baseAddress, 0, nil, nil),
                call: "clEnqueueReadBuffer(argmax value)")
    }
    return (Int(index), value.double)
  }

  public func adamStep<T: DeviceScalar>(_ h: AdamHyper, step: Int, parameters: BufferView<T>, gradients: BufferView<T>,
                                        m: BufferView<T>, v: BufferView<T>, count: Int) throws {
    // The same scalars as CPUDevice.adamStep, rounded the same way.
    let c1 = 1 - libm_pow(h.beta1, Double(step)), c2 = 1 - libm_pow(h.beta2, Double(step))
    let args: [CLArg] = [
      .mem(try mem(parameters)), .offset(parameters.offset), .mem(try mem(gradients)), .offset(gradients.offset),
      .mem(try mem(m)), .offset(m.offset), .mem(try mem(v)), .offset(v.offset), .offset(count),
      .real(T(Float(h.beta1))), .real(T(Float(h.beta2))), .real(T(Float(h.learningRate / c1))),
      .real(T(Float(1 / c2))), .real(T(Float(h.epsilon))), .real(T(Float(h.weightDecay))),
    ]
    try launch1D("ntk_adam_step", file: "elementwise.cl", T.self, args, count: count)
  }

  public func axpy<T: DeviceScalar>(_ alpha: T, _ y: BufferView<T>, _ x: BufferView<T>, count: Int) throws {
    try launch1D("ntk_axpy", file: "elementwise.cl", T.self,
                 [.real(alpha), .mem(mem(y)), .offset(y.offset), .mem(mem(x)), .offset(x.offset), .offset(count)],
                 count: count)
  }
}

/// `value` rounded up to a multiple of `multiple`.
@inline(__always) func roundUp(_ value: Int, _ multiple: Int) -> Int {
  (value + multiple - 1) / multiple * multiple
}
