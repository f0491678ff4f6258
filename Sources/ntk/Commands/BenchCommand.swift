import ArgumentParser
import NTKit

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time the trace NTK of the paper's nets and the machine's SGEMM rate, in one run.",
    discussion: """
      Nets: fuel (8-128-128-1), mnist_dense (784-128-128-10), conv_mnist (Table A1).
      GFLOP/s counts the FLOPs of the algorithm actually run (structured or explicit per layer).
      """)

  @Option(help: "Comma-separated nets: fuel, mnist_dense, conv_mnist (default: all).") var nets: String?
  @Option(help: "Comma-separated sample counts, overriding each net's defaults.") var sizes: String?
  @Flag(help: "Small sizes only (a quick check).") var quick = false
  @Option(name: .customLong("gemm-size"), help: "SGEMM size for the peak measurement.") var gemmSize: Int = 4096
  @Option(help: "Repeats per point (best is reported).") var repeats: Int = 1
  @Option(help: "Compute device.") var device: String = "auto"
  @Flag(name: .customLong("fast-math"),
        help: "Build OpenCL kernels with -cl-fast-relaxed-math (off by default; recorded in the output).")
  var fastMath = false
  @Flag(name: .customLong("compare-cpu"), inversion: .prefixedNo,
        help: "Also time the CPU (OpenBLAS) in the same run and print OpenCL/CPU ratios (default: on for a CPU OpenCL device such as PoCL).")
  var compareCPU: Bool?
  @Flag(help: "JSON on stdout.") var json = false

  func run() throws {
    let dev = try resolveDevice(device, fastMath: fastMath)
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
    let fastMathText = cl.map { $0.options.fastRelaxedMath ? "on" : "off" } ?? "n/a (no OpenCL kernels)"
    if !json {
      print("device: \(dev.info.identifier) (\(dev.info.name)); \(dev.info.detail)")
      print("fast-relaxed-math: \(fastMathText)")
      print("peak: " + (peak.map { "\(format($0.gflops, "%.1f")) GFLOP/s float32 (\($0.source))" } ?? "unknown"))
      let kernel = cl != nil ? "our ntk_gemm kernel" : "OpenBLAS"
      print("sgemm \(gemm.n)³ (\(kernel)): \(format(gemm.gflops, "%.1f")) GFLOP/s"
            + (peak.map { ", \(format(100 * gemm.gflops / $0.gflops, "%.1f"))% of peak" } ?? ""))
      if let cpuGemm {
        print("sgemm \(cpuGemm.n)³ on cpu (OpenBLAS, same run): \(format(cpuGemm.gflops, "%.1f")) GFLOP/s; "
              + "\(dev.info.identifier)/cpu = \(format(gemm.gflops / cpuGemm.gflops, "%.3f"))")
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
                 ("strategies", .array(r.strategies.map { .string($0.rawValue) }))])
      }
      var fields: [(String, JSONValue)] = [
        ("device", .string(dev.info.identifier)), ("device_name", .string(dev.info.name)),
        ("fast_relaxed_math", cl.map { .bool($0.options.fastRelaxedMath) } ?? .null),
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

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

