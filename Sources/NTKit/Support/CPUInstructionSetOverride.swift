import CNTKitCPU

extension CPUConfiguration {
  /// Runs `body` with the CPU kernels restricted to `isa` (capped to what
  /// the CPU has), then restores the process setting. For tests and
  /// benchmarks in one process; not thread-safe against concurrent kernels.
  public static func withInstructionSet<R>(_ isa: CPUInstructionSet, _ body: () throws -> R) rethrows -> R {
    let saved = current.instructionSet  // initialises the process setting first
    ntk_isa_set(isa.level)
    defer { ntk_isa_set(saved.level) }
    return try body()
  }

  /// The instruction set the CPU kernels use at this moment (`withInstructionSet` included).
  public static var activeInstructionSet: CPUInstructionSet {
    _ = current
    return CPUInstructionSet(level: ntk_isa_get())
  }
}
