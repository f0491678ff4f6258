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
  @Flag(help: "JSON on stdout.") var json = false

  func run() throws {
    let dev = try resolveDevice(device)
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
    let peak = try NTKBench.sgemm(device: dev, n: quick ? min(gemmSize, 1024) : gemmSize)
    var rows: [NTKBench.GramResult] = []
    if !json {
      print("device: \(dev.info.identifier) (\(dev.info.name)); \(dev.info.detail)")
      print("sgemm \(peak.n)³: \(format(peak.gflops, "%.1f")) GFLOP/s")
      print("net          N       P       seconds   entries/s   GFLOP/s  % of sgemm  strategies")
    }
    for net in chosen {
      for n in sizeOverride ?? (quick ? net.quickSizes : net.sizes) {
        let r = try NTKBench.gram(net, n: n, device: dev, repeats: repeats)
        rows.append(r)
        if !json {
          print(pad(r.net, 12) + pad(String(r.n), 8) + pad(String(r.parameters), 8)
                + pad(format(r.seconds, "%.3f"), 10) + pad(format(r.entriesPerSecond, "%.3e"), 12)
                + pad(format(r.gflops, "%.1f"), 9) + pad(format(100 * r.gflops / peak.gflops, "%.0f") + "%", 12)
                + r.strategies.map(\.rawValue).joined(separator: ","))
        }
      }
    }
    if json {
      print(JSONValue.object([
        ("device", .string(dev.info.identifier)), ("device_name", .string(dev.info.name)),
        ("sgemm", .object([("n", .number(Double(peak.n))), ("gflops", .number(peak.gflops))])),
        ("gram", .array(rows.map { r in
          .object([("net", .string(r.net)), ("n", .number(Double(r.n))), ("parameters", .number(Double(r.parameters))),
                   ("seconds", .number(r.seconds)), ("entries_per_second", .number(r.entriesPerSecond)),
                   ("gflops", .number(r.gflops)), ("fraction_of_sgemm", .number(r.gflops / peak.gflops)),
                   ("strategies", .array(r.strategies.map { .string($0.rawValue) }))])
        })),
      ]).serialized(pretty: true))
    }
  }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "demo", abstract: "Demo (placeholder).")
  func run() throws { print("not yet") }
}
