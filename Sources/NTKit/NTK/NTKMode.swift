/// Which empirical NTK to compute (`formats.md`, "NTK conventions").
public enum NTKMode: String, Sendable, CaseIterable {
  /// Θ[i, j] = Σ_a Σ_p ∂f_a(x_i)/∂θ_p ∂f_a(x_j)/∂θ_p: N × N, **summed** over the
  /// M outputs (neural-tangents averages, so its result is this divided by M).
  case trace
  /// Θ[i, a, j, b] = Σ_p ∂f_a(x_i)/∂θ_p ∂f_b(x_j)/∂θ_p, written [N, M, N, M].
  case full
}

/// How one parameter layer's contribution to Θ is computed.
public enum LayerStrategy: String, Sendable {
  /// Factored form of a dense layer, never forming its Jacobian:
  /// (w²·A₁A₂ᵀ + b²) ⊙ Σ_a G₁ₐG₂ₐᵀ, O(fan_in + M·fan_out) per pair of samples.
  case structured
  /// Explicit per-sample Jacobian blocks [n, M, P_l] contracted by GEMM,
  /// O(M·P_l) per pair: the only choice for convolutions, and cheaper for tiny layers.
  case explicit
}
