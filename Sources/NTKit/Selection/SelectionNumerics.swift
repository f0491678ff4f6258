/// The check every selection distance passes before it is used: a NaN or
/// Inf distance (a diverged predictor, an overflowing `lp` norm) stops the
/// run with one line instead of picking points by index order.
enum SelectionNumerics {
  static func nonFinite(distance: Double, point: Int, step: Int) -> NTKitError {
    .numerical("the RND distance of pool point \(point) is \(distance) at step \(step) (the predictor diverged or the distance overflowed); nothing written: try a smaller --lr, or the mse or l2 distance")
  }

  /// Throws for the first non-finite distance of a step's picks.
  static func check(_ distances: [Double], indices: [Int], step: Int) throws {
    if let k = distances.firstIndex(where: { !$0.isFinite }) {
      throw nonFinite(distance: distances[k], point: k < indices.count ? indices[k] : -1, step: step)
    }
  }
}
