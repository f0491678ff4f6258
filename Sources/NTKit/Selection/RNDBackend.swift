/// Where RND's step loop (`RNDSelector`) runs: the predictor G, the cached
/// target outputs F(pool rows), the distances and the training set ⟨T, F(T)⟩.
///
/// A backend holds the pool rows `rows` (the whole pool, or one rank's shard
/// of it in `ntk-mpi`); the algorithm — which point to pick, when to stop, how
/// to retrain — is written once in `RNDSelector`. Two backends:
/// `DeviceRNDBackend` (any `ComputeDevice`, OpenCL included; every distance)
/// and `FusedRNDBackend` (the CPU with the fixed-order CFastMLP kernels; dense
/// relu/leaky-relu/identity MLPs, mse, l1 or l2).
protocol RNDBackend: AnyObject {
  /// The pool rows this backend scores (global indices).
  var rows: Range<Int> { get }
  /// Pool features d and network outputs M.
  var d: Int { get }
  var m: Int { get }
  /// Scores every row of `rows` with the current predictor: D(F(p), G(p)) is
  /// kept for `best`. May throw on a non-finite distance of an unchosen row.
  func score(step: Int) throws
  /// The largest kept distance among the unchosen rows (ties: lowest index,
  /// NaN as −∞); nil when every row is chosen.
  func best() throws -> (index: Int, value: Double)?
  /// Pool row i (d floats) followed by F(row i) (M floats); i in `rows`.
  func trainingPair(_ i: Int) throws -> [Float]
  /// Appends `pair` (as `trainingPair` gives it) to the training set and marks
  /// i chosen when it is one of `rows`.
  func append(_ i: Int, pair: [Float]) throws
  /// G's parameters.
  func predictor() throws -> [Float]
  func setPredictor(_ values: [Float]) throws
  /// Zeroes Adam's moments and restarts its bias correction.
  func resetMoments() throws
  /// `epochs` full-batch Adam steps of mse on the first n training pairs.
  func fitFullBatch(n: Int, epochs: Int, hyper: AdamHyper) throws
  /// One epoch of mini-batches of `batch` training pairs, in `order`.
  func fitEpoch(order: [Int], batch: Int, hyper: AdamHyper) throws
  /// Waits for queued work (a no-op on the host).
  func synchronize() throws
}
