import ArgumentParser
import NTKit
import NTKitMPI

/// `ntk-mpi gram`: `ntk gram`'s flags; tiles spread over the ranks, one
/// `.npy` written collectively (`DistributedGram`).
struct MPIGramCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gram",
    abstract: "Empirical NTK across MPI ranks: upper-triangle tiles balanced by cost, written with MPI-IO.",
    discussion: "--block-size is the tile size in samples; --memory-budget holds per rank.")

  @OptionGroup var flags: GramCommand

  func run() throws {
    let f = flags
    guard f.convention == .ntkit else { throw ValidationError("ntk-mpi gram writes the ntkit convention only; convert with ntk gram --convention nt") }
    var input = f.input
    if !world.isRoot { input.scaling.saveScaler = nil }  // one rank writes the scaler
    let device = try mpiDevice(f.compute.device)
    let (loaded, x1, x2) = try world.agree { () throws -> (LoadedModel, Tensor, Tensor?) in
      let loaded = try f.model.load()
      let (x1, x2) = try input.load(loaded, second: f.inputs2)
      return (loaded, x1, x2)
    }
    let mode = f.mode
    let bar = rootProgress("ntk-mpi gram", total: 1, unit: " rounds")
    let report = try DistributedGram.run(
      comm: world, model: loaded, inputs1: x1, inputs2: x2, mode: mode, precision: f.compute.precision,
      memoryBudget: f.compute.budget, tileSize: f.blockSize, device: device, output: f.out,
      progress: { done, total in bar?.update(done, total: total) })
    bar?.finish()
    guard world.isRoot else { return }
    if f.compute.verbose {
      for line in report.plan.description { stderrLine(line) }
      let loads = report.loads
      stderrLine("tiles: \(report.tiles) of \(report.tileSize) samples over \(world.size) ranks (rank 0: \(report.myTiles)); "
        + "balance max/mean \(format((loads.max() ?? 0) / max(loads.reduce(0, +) / Double(loads.count), 1), "%.3f")); "
        + "tile buffers \(formatBytes(report.tileBytes)) per rank")
      stderrLine("rank 0: compute \(format(report.computeSeconds, "%.3f")) s, collective writes \(format(report.writeSeconds, "%.3f")) s")
    }
    let gflops = report.flops / report.seconds / 1e9
    let n2 = x2?.rows ?? x1.rows, m = loaded.network.outputSize
    let deviceName = "cpu×\(world.size) ranks"
    if f.json {
      print(JSONValue.object([
        ("out", .string(f.out)), ("mode", .string(f.mode.rawValue)), ("n1", .number(Double(x1.rows))), ("n2", .number(Double(n2))),
        ("outputs", .number(Double(m))), ("device", .string(deviceName)), ("ranks", .number(Double(world.size))),
        ("precision", .string(f.compute.precision.rawValue)), ("seconds", .number(report.seconds)), ("gflops", .number(gflops)),
        ("strategies", .array(report.plan.layers.map { .string($0.strategy.rawValue) })),
      ]).serialized())
    } else {
      print("wrote \(f.out): \(f.mode.rawValue) NTK \(mode == .trace ? "[\(x1.rows), \(n2)]" : "[\(x1.rows), \(m), \(n2), \(m)]") in \(format(report.seconds, "%.3f")) s (\(format(gflops, "%.1f")) GFLOP/s on \(deviceName))")
    }
  }
}
