/// The layout and trace convention a kernel is written in (`ntk gram --convention`).
///
/// - `ntkit` (default): trace mode Θ[i, j] **summed** over the M outputs, `[N1, N2]`;
///   full mode Θ[i, a, j, b] as `[N1, M, N2, M]` (the Jacobian product J Jᵀ reshaped).
/// - `nt` (neural-tangents' `empirical_ntk_fn`): trace mode (`trace_axes=(-1,)`)
///   **averages** over the outputs, so Θ_nt = Θ / M, `[N1, N2]`; full mode
///   (`trace_axes=()`) is laid out `[N1, N2, M, M]`, Θ_nt[i, j, a, b] = Θ[i, a, j, b].
public enum KernelConvention: String, Sendable, CaseIterable, NamedChoice {
  case ntkit, nt

  public static let choiceName = (one: "convention", many: "conventions")

  /// Parses `ntkit` or `nt`, listing the valid names otherwise.
  public init(parsing text: String) throws { self = try .named(text) }

  /// The shape of the kernel of `n1` × `n2` samples and `m` outputs.
  public func shape(mode: NTKMode, n1: Int, m: Int, n2: Int) -> [Int] {
    switch (mode, self) {
    case (.trace, _): return [n1, n2]
    case (.full, .ntkit): return [n1, m, n2, m]
    case (.full, .nt): return [n1, n2, m, m]
    }
  }

  /// Rewrites `kernel`, computed in the `ntkit` convention (row-major, shape
  /// `[n1, n2]` or `[n1, m, n2, m]`), in place into this convention. The full
  /// transpose moves one sample's slab (`m · n2 · m` values) at a time.
  public func convert<T: BinaryFloatingPoint>(_ kernel: UnsafeMutableBufferPointer<T>, mode: NTKMode,
                                              n1: Int, m: Int, n2: Int) {
    guard self == .nt else { return }
    switch mode {
    case .trace:
      let scale = 1 / T(m)
      for i in kernel.indices { kernel[i] *= scale }
    case .full:
      guard m > 1 else { return }  // [n1, 1, n2, 1] and [n1, n2, 1, 1] hold the same values in the same order
      let slab = m * n2 * m
      var copy = [T](repeating: 0, count: slab)
      for i in 0..<n1 {
        let base = i * slab
        for k in 0..<slab { copy[k] = kernel[base + k] }
        // source [a, j, b] → destination [j, a, b]
        for a in 0..<m {
          for j in 0..<n2 {
            let src = (a * n2 + j) * m, dst = base + (j * m + a) * m
            for b in 0..<m { kernel[dst + b] = copy[src + b] }
          }
        }
      }
    }
  }
}
