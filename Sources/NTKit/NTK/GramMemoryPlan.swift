/// How an NTK Gram computation spends its memory budget: the block size
/// (samples per feature block and output tile), resident or streamed
/// features, the propagation batch and the tile buffer. Pure arithmetic on
/// sizes — no device calls — so every budget edge case is unit-tested.
///
/// Budget terms (bytes): propagation buffers (`propagatorBytesPerSample` ×
/// batch × propagators) + the device's tile scratch + features (all samples when resident,
/// two blocks when streamed) + one tile buffer when the output is not host
/// memory. The output itself is not counted.
public struct GramMemoryPlan: Sendable, Equatable {
  /// What the plan is made from.
  public struct Request: Sendable, Equatable {
    /// Samples of X₁ and X₂ (n2 = n1 when X₂ is X₁).
    public var n1: Int, n2: Int
    /// X₂ is X₁: resident features are computed once.
    public var sameSet: Bool
    public var budget: Int
    /// Feature bytes per sample (all layers: A and G, or Φ).
    public var featureBytesPerSample: Int
    /// Propagation buffer bytes per sample (`Propagator.bytesPerSample`).
    public var propagatorBytesPerSample: Int
    /// The device's host scratch for tile accumulation (`ntkTileScratchBytes`).
    public var scratchBytes: Int
    /// Bytes per sample pair of a tile buffer (multiplicity² × scalar size);
    /// 0 when tiles are written straight into host-addressable output.
    public var tileBytesPerPair: Int
    /// The block the device prefers when features are resident (`preferredGramTile`).
    public var preferredBlock: Int
    /// A forced block size (`GramOptions.blockSize`).
    public var forcedBlock: Int?
    /// Recompute features per block even when they would fit.
    public var forceStreaming: Bool
    /// The device's propagation batch (`preferredPropagationBatch`), at most 256.
    public var preferredPropagationBatch: Int
    /// Propagators running at once (one per core on a device that takes
    /// concurrent calls), each with buffers for a whole batch.
    public var propagators: Int

    public init(n1: Int, n2: Int, sameSet: Bool, budget: Int, featureBytesPerSample: Int,
                propagatorBytesPerSample: Int, scratchBytes: Int, tileBytesPerPair: Int,
                preferredBlock: Int = 1024, forcedBlock: Int? = nil, forceStreaming: Bool = false,
                preferredPropagationBatch: Int = 256, propagators: Int = 1) {
      self.n1 = n1; self.n2 = n2; self.sameSet = sameSet; self.budget = budget
      self.featureBytesPerSample = featureBytesPerSample
      self.propagatorBytesPerSample = propagatorBytesPerSample
      self.scratchBytes = scratchBytes; self.tileBytesPerPair = tileBytesPerPair
      self.preferredBlock = preferredBlock; self.forcedBlock = forcedBlock; self.forceStreaming = forceStreaming
      self.preferredPropagationBatch = preferredPropagationBatch
      self.propagators = max(1, propagators)
    }
  }

  /// Samples per feature block and output tile side.
  public let blockSize: Int
  /// All features computed once and kept (else recomputed per block).
  public let residentFeatures: Bool
  /// Samples per forward/backward batch: up to 256, within an eighth of the budget.
  public let propagationBatch: Int
  /// Propagators running at once, each with a batch's buffers.
  public let propagators: Int
  /// Sample slots of one feature store (all samples when resident, one block when streamed).
  public let storeCapacity: Int
  /// Values of the tile buffer (0 when tiles go straight into host output).
  public let tileBufferPairs: Int
  /// Temporaries the plan needs, bytes (at most the budget).
  public let neededBytes: Int

  /// The plan, or `NTKitError.memoryBudget` naming the budget and the least
  /// it would take (blocks of a few samples) when even that does not fit.
  public init(_ r: Request) throws {
    precondition(r.n1 > 0 && r.n2 > 0, "GramMemoryPlan: sample counts must be positive")
    // Propagation blocks: up to 256 samples (or the device's preference),
    // within an eighth of the budget (a conv net carries M cotangents per
    // sample through every layer).
    propagationBatch = max(1, min(max(r.n1, r.n2), 256, r.preferredPropagationBatch,
                                  r.budget / 8 / max(r.propagatorBytesPerSample * r.propagators, 1)))
    propagators = r.propagators
    let fixed = r.propagatorBytesPerSample * propagationBatch * r.propagators + r.scratchBytes
    let allSamples = r.sameSet ? r.n1 : r.n1 + r.n2
    func tileBytes(_ b: Int) -> Int { b * b * r.tileBytesPerPair }
    let residentBytes = fixed + allSamples * r.featureBytesPerSample
    var block: Int
    var resident: Bool
    if let forced = r.forcedBlock {
      block = max(1, forced)
      resident = !r.forceStreaming && residentBytes + tileBytes(block) <= r.budget
    } else if !r.forceStreaming && residentBytes + tileBytes(1024) <= r.budget {
      resident = true
      block = r.preferredBlock
    } else {
      resident = false
      // two feature blocks + one tile within the budget
      var b = 4096
      while b > 8 && fixed + 2 * b * r.featureBytesPerSample + tileBytes(b) > r.budget { b = b * 3 / 4 }
      block = b
    }
    let needed = fixed + (resident ? allSamples : 2 * block) * r.featureBytesPerSample + tileBytes(block)
    guard needed <= r.budget else {
      throw NTKitError.memoryBudget(needed: needed, budget: r.budget,
                                    hint: "raise --memory-budget or use fewer samples")
    }
    blockSize = block
    residentFeatures = resident
    storeCapacity = resident ? allSamples : block
    tileBufferPairs = r.tileBytesPerPair == 0 ? 0 : block * block
    neededBytes = needed
  }
}
