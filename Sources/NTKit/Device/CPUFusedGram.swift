import CNTKitCPU
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One dense layer's operands for the fused structured-NTK kernel (trace
/// mode, float32): layer inputs A1 (rows1 × ka), A2 (rows2 × ka) and output
/// cotangents G1 (rows1 × kg), G2 (rows2 × kg), row-major, reduction contiguous.
struct FusedStructuredLayer {
  var a1: UnsafePointer<Float>, a2: UnsafePointer<Float>
  var g1: UnsafePointer<Float>, g2: UnsafePointer<Float>
  var ka: Int, kg: Int
  var scale: Float, c: Float
}

extension CPUDevice {
  /// Writes the whole trace-NTK tile of the structured layers in one pass:
  ///
  ///     out[i·ldo + j] = Σ_l (scale_l·⟨A1_l[i], A2_l[j]⟩ + c_l)·⟨G1_l[i], G2_l[j]⟩
  ///
  /// (overwriting; rows1 × rows2 entries). Runs the C kernel of
  /// `ntkit_fused_gram.c` (AVX-512, AVX2 or portable per `NTKIT_ISA`), its
  /// rows split over the workers. Every entry is a fixed sequence of fused
  /// multiply-adds, so the result does not depend on the instruction set or
  /// the worker count. `packed`: the tile's columns, and optionally its rows,
  /// pre-packed by `packFused` (then no per-call packing; rows not packed
  /// are read in place). `diagonal`: the rows and columns are the same samples
  /// (a diagonal tile of a symmetric Gram); only the upper triangle is
  /// computed and the lower one mirrored (the same bits: each entry's
  /// products commute exactly). `mirror`: where the transpose of the tile
  /// goes (row stride `ldo`), written by each worker after its rows.
  func fusedStructuredGram(_ layers: [FusedStructuredLayer], rows1: Int, rows2: Int,
                           out: UnsafeMutablePointer<Float>, ldo: Int, diagonal: Bool = false,
                           mirror: UnsafeMutablePointer<Float>? = nil,
                           packed: FusedPacked? = nil) throws {
    guard rows1 > 0, rows2 > 0 else { return }
    precondition(!diagonal || rows1 == rows2, "a diagonal tile is square")
    let c = CPUDevice.cLayers(layers)
    try c.withUnsafeBufferPointer { lp in
      // Ctrl-C (SIGINT/SIGTERM) stops a long tile early; other cancellation is polled between tiles.
      try CPUDevice.runRowShares(rows1, diagonal: diagonal, failure: NTKitError.memoryBudget(
        needed: CPUDevice.fusedScratchBytes(layers, rows: rows1), budget: 0,
        hint: "the fused NTK kernel could not allocate its scratch; free memory or use fewer samples")) { r0, n in
        // This worker's rows: shift the first-set operands.
        var mine = Array(lp)
        for l in mine.indices {
          mine[l].a1 = mine[l].a1 + r0 * mine[l].ka
          mine[l].g1 = mine[l].g1 + r0 * mine[l].kg
        }
        let status: Int32
        if let packed {
          // Row panels of pre-packed rows start at r0 (a multiple of every micro-tile height).
          let f = mine.reduce(0) { $0 + $1.ka + $1.kg }
          status = ntk_fused_gram_packed_f32(mine, mine.count, n, rows2, packed.rows.map { $0 + r0 * f }, packed.columns,
                                             out + r0 * ldo, ldo, diagonal ? r0 : -1, interruptPoll)
        } else {
          status = ntk_fused_gram_f32(mine, mine.count, n, rows2, out + r0 * ldo, ldo, diagonal ? r0 : -1,
                                      interruptPoll)
        }
        // The transpose, while this worker's rows are still in its caches.
        if let mirror, status == 0 { ntk_transpose_f32(out + r0 * ldo, ldo, mirror + r0, ldo, n, rows2) }
        return status
      }
    }
    if diagonal { CPUDevice.mirrorWithinTile(out, n: rows1, ldo: ldo) }
  }

  /// Adds an explicit layer's tile, `out[i·ldo + j] += ⟨X1[i], X2[j]⟩`
  /// (rows1 × rows2; X1, X2 row-major with row strides ld1, ld2, k values
  /// used per row), with the fixed-order kernel of `ntkit_fused_gram.c`
  /// (`ntk_explicit_gram_f32`: chunks of 256 values, each a chain of fused
  /// multiply-adds): the same bits on every instruction set and worker count.
  /// The workers split the columns (each packs only its own column panels;
  /// the rows are read in place). `diagonal`: the rows and columns are the
  /// same samples; only entries on or above the diagonal are required (the
  /// caller mirrors the tile).
  func explicitGram(_ x1: UnsafePointer<Float>, ld1: Int, _ x2: UnsafePointer<Float>, ld2: Int, rows1: Int, rows2: Int,
                    k: Int, out: UnsafeMutablePointer<Float>, ldo: Int, diagonal: Bool) throws {
    guard rows1 > 0, rows2 > 0, k > 0 else { return }
    try CPUDevice.runShares(CPUDevice.columnSplit(rows2, diagonal: diagonal), failure: NTKitError.memoryBudget(
      needed: ntk_explicit_gram_scratch_f32() * 4, budget: 0,
      hint: "the explicit-layer Gram kernel could not allocate its scratch; free memory")) { c0, n in
      ntk_explicit_gram_f32(x1, ld1, x2 + c0 * ld2, ld2, rows1, n, k, out + c0, ldo, diagonal ? 1 : 0, -c0,
                            interruptPoll)
    }
  }

  /// Runs `share(r0, n)` for each worker's rows of a tile (`rowSplit`) at
  /// once; a share returns its C kernel's status: 1 (a pending SIGINT/SIGTERM)
  /// throws `interrupted`, any other non-zero `failure`.
  static func runRowShares(_ rows: Int, diagonal: Bool, failure: @autoclosure () -> NTKitError,
                           _ share: (Int, Int) -> Int32) throws {
    try runShares(rowSplit(rows, diagonal: diagonal), failure: failure(), share)
  }

  /// Runs `share(start, n)` for each worker's range of `bounds` at once (see `runRowShares`).
  static func runShares(_ bounds: [Int], failure: @autoclosure () -> NTKitError,
                        _ share: (Int, Int) -> Int32) throws {
    let workers = bounds.count - 1
    // One status per worker (each writes only its own).
    let status = UnsafeMutableBufferPointer<Int32>.allocate(capacity: workers)
    status.initialize(repeating: 0)
    defer { status.deallocate() }
    func run(_ w: Int) {
      let r0 = bounds[w], n = bounds[w + 1] - r0
      if n > 0 { status[w] = share(r0, n) }
    }
    if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers) { run($0) } }
    if status.contains(where: { $0 == 1 }) { throw NTKitError.interrupted }
    if status.contains(where: { $0 != 0 }) { throw failure() }
  }

  /// Row bounds of a tile's workers: chunks in multiples of 48 (whole
  /// micro-tiles of every kernel: 4, 6, 8 rows), balanced by cost (a diagonal
  /// tile's row i costs rows − i).
  static func rowSplit(_ rows: Int, diagonal: Bool) -> [Int] {
    let workers = min(CPUThreads.count, max(1, (rows + 47) / 48))
    var bounds = [0]
    for w in 1..<workers {
      let f = Double(w) / Double(workers)
      let cut = diagonal ? Double(rows) * (1 - (1 - f).squareRoot()) : Double(rows) * f
      bounds.append(min(rows, max(bounds.last!, Int((cut / 48).rounded()) * 48)))
    }
    bounds.append(rows)
    return bounds
  }

  /// Column bounds of a tile's workers: chunks in multiples of 32 (whole
  /// column micro-panels of every kernel: 8, 16, 32 columns), balanced by
  /// cost (a diagonal tile's column j costs j + 1).
  static func columnSplit(_ columns: Int, diagonal: Bool) -> [Int] {
    let workers = min(CPUThreads.count, max(1, (columns + 31) / 32))
    var bounds = [0]
    for w in 1..<workers {
      let f = Double(w) / Double(workers)
      let cut = diagonal ? Double(columns) * f.squareRoot() : Double(columns) * f
      bounds.append(min(columns, max(bounds.last!, Int((cut / 32).rounded()) * 32)))
    }
    bounds.append(columns)
    return bounds
  }

  /// out[i, j] = out[j, i] for j < i < n (in 32 × 32 blocks): the lower
  /// triangle of a square tile (row stride `ldo`) from its upper one.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  static func mirrorWithinTile<T>(_ out: UnsafeMutablePointer<T>, n: Int, ldo: Int) {
    var i0 = 0
    while i0 < n {
      let i1 = min(n, i0 + 32)
      var j0 = 0
      while j0 <= i0 {
        let j1 = min(n, j0 + 32)
        for i in i0..<i1 { for j in j0..<min(j1, i) { out[i * ldo + j] = out[j * ldo + i] } }
        j0 = j1
      }
      i0 = i1
    }
  }

  /// Scratch bytes one worker of `fusedStructuredGram` allocates for `rows` rows.
  static func fusedScratchBytes(_ layers: [FusedStructuredLayer], rows: Int) -> Int {
    let c = CPUDevice.cLayers(layers)
    return c.withUnsafeBufferPointer { ntk_fused_gram_scratch_f32($0.baseAddress, $0.count, rows) } * 4
  }

  /// Upper bound of the scratch bytes per worker of `fusedStructuredGram`
  /// for `featuresPerSample` values (A and G of every layer) per sample: a
  /// partial row micro-panel and ≤ 192 KiB of packed columns (at least one
  /// micro-panel), for memory budgets.
  static func fusedScratchBytes(featuresPerSample f: Int) -> Int {
    8 * f * 4 + max(192 << 10, 32 * f * 4) + 8192
  }
}

extension CPUDevice {
  /// Pre-packed operands of `fusedStructuredGram`: column panels, and row panels or nil (rows read in place).
  typealias FusedPacked = (rows: UnsafePointer<Float>?, columns: UnsafePointer<Float>)

  /// Whether the fused kernel reads its rows in place rather than from
  /// pre-packed panels: for long reductions (≥ 1024 values per sample), where
  /// it runs as fast and a packed copy of the rows (MNIST's dense net at
  /// N = 4096: 42 MB) costs more to fault in and fill than it saves.
  static func fusedRowsInPlace(_ layers: [FusedStructuredLayer]) -> Bool {
    layers.reduce(0) { $0 + $1.ka + $1.kg } >= 1024
  }

  /// Packs samples [s0, s0 + n) of the first (`second` false: a1/g1) or second
  /// set for `fusedStructuredGram(packed:)` into `dst`, which holds
  /// `fusedPackedCount(layers, n:, second:)` floats (64-byte aligned).
  func packFused(_ layers: [FusedStructuredLayer], second: Bool, from s0: Int, count n: Int,
                 into dst: UnsafeMutablePointer<Float>) {
    let c = CPUDevice.cLayers(layers)
    ntk_fused_pack_f32(c, c.count, second ? 1 : 0, s0, n, dst)
  }

  /// Floats `packFused` writes for n samples (the instruction set in force).
  static func fusedPackedCount(_ layers: [FusedStructuredLayer], n: Int, second: Bool) -> Int {
    let c = cLayers(layers)
    return ntk_fused_packed_floats(c, c.count, n, second ? 1 : 0)
  }

  static func cLayers(_ layers: [FusedStructuredLayer]) -> [ntk_fused_layer_f32] {
    layers.map {
      ntk_fused_layer_f32(a1: $0.a1, a2: $0.a2, g1: $0.g1, g2: $0.g2, ka: $0.ka, kg: $0.kg, scale: $0.scale, c: $0.c)
    }
  }
}

/// Polled by the fused kernel: a pending SIGINT/SIGTERM (thread-safe: a C flag).
private let interruptPoll: @convention(c) () -> Int32 = { Interrupt.isRequested ? 1 : 0 }
