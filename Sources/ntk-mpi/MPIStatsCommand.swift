import ArgumentParser
import NTKit
import NTKitMPI

/// `ntk-mpi stats --kernel K.npy`: `ntk stats`'s flags and output; the kernel
/// is read with MPI-IO into ScaLAPACK's block-cyclic layout (`pdsyevd`) or
/// split by rows for a distributed Lanczos (`DistributedStats`).
struct MPIStatsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "NTK collective variables across MPI ranks: ScaLAPACK pdsyevd (all eigenvalues) or distributed Lanczos.",
    discussion: "Takes --kernel (compute it first with ntk-mpi gram); --method auto picks as ntk stats does.")

  @OptionGroup var flags: StatsCommand

  func run() throws {
    let f = flags
    guard let kernel = f.kernel else {
      throw ValidationError("ntk-mpi stats takes --kernel K.npy; compute the kernel first with ntk-mpi gram")
    }
    _ = try mpiDevice(f.compute.device)
    let method: DistributedStats.Method?
    switch f.method.explicitMethod(topK: f.topK) {
    case .exact?: method = .exact
    case .lanczos(let k)?: method = .lanczos(k: k)
    case nil: method = nil
    }
    let cv = try DistributedStats.run(comm: world, kernel: kernel, method: method)
    if let spectrum = f.spectrum, let values = cv.eigenvalues {
      try world.agree { if world.isRoot { try NPY.write(spectrum, shape: [values.count], doubles: values) } }
    }
    guard world.isRoot else { return }
    let deviceName = "cpu×\(world.size) ranks"
    if f.json {
      let fields: [(key: String, value: JSONValue)] = [
        ("n", .number(Double(cv.n))), ("trace", .number(cv.trace)),
        ("entropy", cv.entropy.map { .number($0) } ?? .null), ("lambda_max", .number(cv.lambdaMax)),
        ("device", .string(deviceName)), ("ranks", .number(Double(world.size))),
      ]
      print(JSONValue.object(fields + spectrumFields(cv, exactRoutine: "pdsyevd")).serialized())
    } else {
      for line in cv.summaryLines { print(line.hasPrefix("method = exact") ? "method = exact (pdsyevd)" : line) }
      print("device = \(deviceName)")
      if let spectrum = f.spectrum { print("wrote \(spectrum): \(cv.eigenvalues?.count ?? 0) eigenvalues") }
    }
  }
}
