import ArgumentParser
import NTKit
import NTKitBench

#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time the trace NTK of the paper's nets and the machine's SGEMM rate, in one run.",
    discussion: """
      Nets: fuel (8-128-128-1), mnist_dense (784-128-128-10), conv_mnist (Table A1). \
      GFLOP/s counts the FLOPs of the algorithm actually run (structured or explicit per layer).
      """)

  @Option(help: "Comma-separated nets: fuel, mnist_dense, conv_mnist (default: all).") var nets: String?
  @Option(help: "Comma-separated sample counts, overriding each net's defaults.") var sizes: String?
  @Flag(help: "Small sizes only (a quick check).") var quick = false
  @Option(name: .customLong("gemm-size"), help: "SGEMM size for the peak measurement.") var gemmSize: Int = 4096
  @Option(help: "Repeats per point (best is reported).") var repeats: Int = 1
  @Option(help: DeviceOption.help) var device: String = "auto"
  @Flag(name: .customLong("fast-math"),
        help: "Build OpenCL kernels with -cl-fast-relaxed-math (off by default; recorded in the output).")
  var fastMath = false
  @Flag(name: .customLong("compare-cpu"), inversion: .prefixedNo,
        help: "Also time the CPU (OpenBLAS) in the same run and print OpenCL/CPU ratios (default: on for a CPU OpenCL device such as PoCL).")
  var compareCPU: Bool?
  @Flag(help: "JSON on stdout.") var json = false
  @Flag(help: "RND benchmark (the peer's settings): 50 of 1000 in process and as a whole `ntk select` process, and one step's split per pool size.")
  var rnd = false
  @Option(name: .customLong("rnd-pools"), help: "Pool sizes for the per-step split (default 10000,100000,1000000).")
  var rndPools: String = "10000,100000,1000000"
  @Option(name: .customLong("rnd-pool-file"), help: "Also time one step on this .npy pool (memory-mapped).")
  var rndPoolFile: [String] = []
  @Option(name: .customLong("make-pool"), help: ArgumentHelp("Write a seeded N(0,1) float32 pool of N rows to --out and exit.", visibility: .hidden))
  var makePool: Int?
  @Option(help: ArgumentHelp("Features of --make-pool.", visibility: .hidden)) var features: Int = 8
  @Option(help: ArgumentHelp("Output of --make-pool.", visibility: .hidden)) var out: String?

  func run() throws {
    if let makePool {
      guard let out else { throw ValidationError("--make-pool needs --out P.npy") }
      try RNDBench.writePool(out, rows: makePool, features: features)
      print("wrote \(out): \(makePool) × \(features) float32")
      return
    }
    let dev = try resolveDevice(device, fastMath: fastMath)
    if rnd { return try runRND(dev) }
    let cl = dev as? OpenCLDevice
    var chosen = BenchmarkNets.all
    if let nets {
      let names = nets.split(separator: ",").map(String.init)
      chosen = try names.map { name in
        guard let c = BenchmarkNets.all.first(where: { $0.name == name }) else {
          throw ValidationError("unknown net \"\(name)\"; expected fuel, mnist_dense or conv_mnist")
        }
        return c
      }
    }
    let sizeOverride = try sizes.map { try $0.split(separator: ",").map { s -> Int in
      guard let v = Int(s), v > 0 else { throw ValidationError("--sizes must be positive integers, found \"\(s)\"") }
      return v
    } }
    // The OpenBLAS baseline on the same machine, in the same run: on by default for a CPU OpenCL device.
    let baseline: (any ComputeDevice)? = (compareCPU ?? (cl != nil && !dev.info.isGPU)) && dev !== CPUDevice.shared
      ? CPUDevice.shared : nil
    let peak = DevicePeak.estimate(dev.info)
    let gemmN = quick ? min(gemmSize, 1024) : gemmSize
    let gemm = try NTKBench.sgemm(device: dev, n: gemmN)
    let cpuGemm = try baseline.map { try NTKBench.sgemm(device: $0, n: gemmN) }
    let config = CPUConfiguration.current
    let isaText = "\(config.instructionSet.rawValue) (CPU kernels; NTKIT_ISA caps it, widest here \(CPUInstructionSet.widestSupported.rawValue)), \(config.threads) threads"
    let fastMathText = cl.map { $0.options.fastRelaxedMath ? "on" : "off" } ?? "n/a (no OpenCL kernels)"
    if !json {
      print("device: \(dev.identifier) (\(dev.info.name)); \(dev.info.detail)")
      print("fast-relaxed-math: \(fastMathText)")
      print("isa: \(isaText)")
      print("peak: " + (peak.map { "\(format($0.gflops, "%.1f")) GFLOP/s float32 (\($0.source))" } ?? "unknown"))
      let kernel = cl != nil ? "our ntk_gemm kernel" : "OpenBLAS"
      print("sgemm \(gemm.n)³ (\(kernel)): \(format(gemm.gflops, "%.1f")) GFLOP/s"
            + (peak.map { ", \(format(100 * gemm.gflops / $0.gflops, "%.1f"))% of peak" } ?? ""))
      if let cpuGemm {
        print("sgemm \(cpuGemm.n)³ on cpu (OpenBLAS, same run): \(format(cpuGemm.gflops, "%.1f")) GFLOP/s; "
              + "\(dev.identifier)/cpu = \(format(gemm.gflops / cpuGemm.gflops, "%.3f"))")
      }
      print("net          N       P       seconds   entries/s   GFLOP/s  % of sgemm  "
            + (peak != nil ? "% of peak  " : "") + (baseline != nil ? "cpu s     cpu GFLOP/s  ratio   " : "")
            + "strategies")
    }
    var rows: [(NTKBench.GramResult, NTKBench.GramResult?)] = []
    for net in chosen {
      // Warm-up (untimed): builds this net's OpenCL kernels, first-touches BLAS buffers.
      for d in [dev] + (baseline.map { [$0] } ?? []) { _ = try NTKBench.gram(net, n: 32, device: d) }
      for n in sizeOverride ?? (quick ? net.quickSizes : net.sizes) {
        let r = try NTKBench.gram(net, n: n, device: dev, repeats: repeats)
        let c = try baseline.map { try NTKBench.gram(net, n: n, device: $0, repeats: repeats) }
        rows.append((r, c))
        if !json {
          var line = pad(r.net, 12) + pad(String(r.n), 8) + pad(String(r.parameters), 8)
            + pad(format(r.seconds, "%.3f"), 10) + pad(format(r.entriesPerSecond, "%.3e"), 12)
            + pad(format(r.gflops, "%.1f"), 9) + pad(format(100 * r.gflops / gemm.gflops, "%.0f") + "%", 12)
          if let peak { line += pad(format(100 * r.gflops / peak.gflops, "%.2f") + "%", 11) }
          if let c {
            line += pad(format(c.seconds, "%.3f"), 10) + pad(format(c.gflops, "%.1f"), 13)
              + pad(format(r.gflops / c.gflops, "%.3f"), 8)
          }
          print(line + r.strategies.map(\.rawValue).joined(separator: ","))
        }
      }
    }
    if json {
      func gramJSON(_ r: NTKBench.GramResult) -> JSONValue {
        .object([("net", .string(r.net)), ("n", .number(Double(r.n))), ("parameters", .number(Double(r.parameters))),
                 ("seconds", .number(r.seconds)), ("entries_per_second", .number(r.entriesPerSecond)),
                 ("gflops", .number(r.gflops)), ("fraction_of_sgemm", .number(r.gflops / gemm.gflops)),
                 ("fraction_of_peak", peak.map { .number(r.gflops / $0.gflops) } ?? .null),
                 ("strategies", .array(r.strategies.map { .string($0.rawValue) }))])
      }
      var fields: [(String, JSONValue)] = [
        ("ntkit_version", .string(NTKitVersion.string)),
        ("device", .string(dev.identifier)), ("device_name", .string(dev.info.name)),
        ("fast_relaxed_math", cl.map { .bool($0.options.fastRelaxedMath) } ?? .null),
        ("isa", .string(config.instructionSet.rawValue)), ("threads", .number(Double(config.threads))),
        ("peak", peak.map { .object([("gflops", .number($0.gflops)), ("source", .string($0.source))]) } ?? .null),
        ("sgemm", .object([("n", .number(Double(gemm.n))), ("gflops", .number(gemm.gflops)),
                           ("kernel", .string(cl != nil ? "ntk_gemm" : "openblas"))])),
        ("gram", .array(rows.map { r, c in
          guard case .object(var f) = gramJSON(r) else { return gramJSON(r) }
          if let c {
            f.append(("cpu_seconds", .number(c.seconds)))
            f.append(("cpu_gflops", .number(c.gflops)))
            f.append(("ratio_to_cpu", .number(r.gflops / c.gflops)))
          }
          return .object(f)
        })),
      ]
      if let cpuGemm {
        fields.append(("cpu_sgemm", .object([("n", .number(Double(cpuGemm.n))), ("gflops", .number(cpuGemm.gflops)),
                                            ("ratio", .number(gemm.gflops / cpuGemm.gflops))])))
      }
      print(JSONValue.object(fields).serialized(pretty: true))
    }
  }
}

extension BenchCommand {
  func runRND(_ dev: any ComputeDevice) throws {
    let pools = try rndPools.split(separator: ",").map { s -> Int in
      guard let v = Int(s), v > 0 else { throw ValidationError("--rnd-pools must be positive integers, found \"\(s)\"") }
      return v
    }
    let peak = try NTKBench.sgemm(device: dev, n: quick ? min(gemmSize, 1024) : gemmSize)
    if !json { print("device: \(dev.identifier) (\(dev.info.name)); sgemm \(peak.n)³: \(format(peak.gflops, "%.1f")) GFLOP/s") }
    // 50 of 1000, whole process: `ntk select` on a float32 .npy pool, as a user runs it.
    let dir = "/tmp/ntk-rnd-bench-\(getpid())"
    mkdir(dir, 0o755)
    defer {
      for f in ["pool.npy", "model.json", "idx.npy"] { unlink("\(dir)/\(f)") }
      rmdir(dir)
    }
    let poolTensor = RNDBench.pool(rows: 1000)
    try NPY.write("\(dir)/pool.npy", tensor: poolTensor)
    try AtomicFile.write("\(dir)/model.json", text: RNDBench.peerModel().json.serialized(pretty: true))
    let args = ["select", "--pool", "\(dir)/pool.npy", "--size", "50", "--model", "\(dir)/model.json",
                "--out", "\(dir)/idx.npy", "--device", dev.identifier]
    var wholeBest = Double.infinity
    for _ in 0..<max(5, repeats) { wholeBest = min(wholeBest, try timeSelf(args)) }
    let inProcess = try RNDBench.select(poolSize: 1000, size: 50, device: dev, repeats: max(5, repeats))
    let generic = try RNDBench.select(poolSize: 1000, size: 50, device: dev, repeats: 2, fastPath: false)
    var steps: [JSONValue] = []
    func row(_ r: RNDBench.StepResult, _ label: String) {
      if json {
        steps.append(.object([("pool", .number(Double(r.poolSize))), ("mapped_file", .bool(label.hasSuffix("*"))),
                              ("training_set_size", .number(Double(r.trainingSetSize))),
                              ("evaluation_seconds", .number(r.evaluationSeconds)), ("training_seconds", .number(r.trainingSeconds)),
                              ("gemm_bound_seconds", .number(r.gemmBoundSeconds))]))
        return
      }
      print(pad(label, 12) + pad(String(r.trainingSetSize), 5) + pad(format(r.evaluationSeconds, "%.5f"), 14)
            + pad(format(r.trainingSeconds, "%.5f"), 14) + pad(format(r.gemmBoundSeconds, "%.5f"), 14)
            + pad(format(r.evaluationSeconds / r.gemmBoundSeconds, "%.2f"), 12)
            + format(1e9 * r.evaluationSeconds / Double(r.poolSize), "%.2f"))
    }
    if !json {
      print("50 of 1000 (8→32→32→32→1, 50 epochs): whole process \(format(wholeBest, "%.4f")) s; in process \(format(inProcess.seconds, "%.4f")) s (evaluation \(format(inProcess.evaluationSeconds, "%.4f")), retraining \(format(inProcess.trainingSeconds, "%.4f"))); generic device path \(format(generic.seconds, "%.4f")) s")
      print("first picks: \(inProcess.firstPicks)")
      print("pool        T    evaluation s  retraining s  GEMM-bound s  eval/bound  eval ns/point")
    }
    for n in pools {
      row(try RNDBench.step(poolSize: n, device: dev, sgemmGflops: peak.gflops), String(n))
    }
    for path in rndPoolFile {
      let r = try RNDBench.step(poolSize: 0, poolPath: path, device: dev, sgemmGflops: peak.gflops)
      row(r, String(r.poolSize) + "*")
    }
    if !rndPoolFile.isEmpty && !json { print("* memory-mapped .npy pool") }
    if !json { print("GEMM-bound: the evaluation's forward FLOPs (2·Σ fan-in·fan-out per pool point) at this run's sgemm rate") }
    if json {
      print(JSONValue.object([
        ("ntkit_version", .string(NTKitVersion.string)), ("device", .string(dev.identifier)),
        ("sgemm", .object([("n", .number(Double(peak.n))), ("gflops", .number(peak.gflops))])),
        ("select_50_of_1000", .object([("whole_process_seconds", .number(wholeBest)), ("in_process_seconds", .number(inProcess.seconds)),
                                       ("evaluation_seconds", .number(inProcess.evaluationSeconds)),
                                       ("training_seconds", .number(inProcess.trainingSeconds)),
                                       ("generic_path_seconds", .number(generic.seconds))])),
        ("steps", .array(steps)),
      ]).serialized(pretty: true))
    }
  }

  /// Wall seconds of this binary run with `args` as a child process (start-up included), output discarded.
  private func timeSelf(_ args: [String]) throws -> Double {
    var buf = [CChar](repeating: 0, count: 4096)
    let len = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard len > 0 else { throw NTKitError.io(path: "/proc/self/exe", reason: "cannot resolve the ntk binary") }
    let exe = String(cString: buf)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let t0 = monotonicSeconds()
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
    guard rc == 0 else { throw NTKitError.io(path: exe, reason: "posix_spawn failed (\(rc))") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let seconds = monotonicSeconds() - t0
    guard status == 0 else { throw NTKitError.numerical("`ntk \(args.joined(separator: " "))` failed with status \(status)") }
    return seconds
  }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

