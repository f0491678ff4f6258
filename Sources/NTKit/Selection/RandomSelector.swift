/// Uniform selection without replacement, seeded (stream "random selection"):
/// a partial Fisher–Yates shuffle whose swaps are kept sparse, so memory is
/// O(picks) at any pool size.
final class RandomSelector: StepSelector {
  let n: Int
  var rng: SeededRandom
  /// Sparse permutation: position → value where it differs from the identity.
  var swaps: [Int: Int] = [:]
  var taken = 0
  var modelHash: UInt64 { 0 }

  init(_ request: SelectionRequest) {
    n = request.pool.rows
    rng = SeededRandom(seed: request.seed, stream: "random selection")
  }

  private func next() -> Int {
    let j = taken + Int(rng.next() % UInt64(n - taken))
    let vj = swaps[j] ?? j, vt = swaps[taken] ?? taken
    swaps[j] = vt
    swaps[taken] = vj
    taken += 1
    return vj
  }

  func restore(_ picks: [Int], predictor: [Float]?) throws {
    // Replaying the same seeded draws reproduces the state.
    for p in picks {
      let v = next()
      guard v == p else { throw NTKitError.invalidArgument("checkpoint picks do not follow this seed's random order") }
    }
  }

  func step(number: Int, count: Int, retrain: Bool) throws
    -> (indices: [Int], distances: [Double], evaluation: Double, training: Double, stop: String?) {
    let t0 = monotonicSeconds()
    let picks = (0..<count).map { _ in next() }
    return (picks, [Double](repeating: 0, count: count), monotonicSeconds() - t0, 0, nil)
  }

  func predictorState() throws -> [Float]? { nil }
}
