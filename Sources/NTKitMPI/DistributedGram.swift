import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// `ntk-mpi gram`: the empirical NTK Θ(X₁, X₂) computed by all ranks and
/// written to one `.npy` with MPI-IO.
///
/// Layout: the output is the row-major 2-D array of (N₁·m) × (N₂·m) values
/// (m = 1 in trace mode, M in full mode, i.e. `[N₁, M, N₂, M]`), after the
/// header that rank 0 writes. Tiles of `GramTileSchedule` (T × T samples,
/// upper triangle for X₂ = X₁) are spread over the ranks by cost; each rank
/// computes its tiles one at a time with `NTKGram` on the CPU device (one
/// thread a rank, features recomputed per tile) and writes each tile, and the
/// transpose of an off-diagonal one, at its offsets in collective rounds
/// (`MPI_File_write_all` on a subarray view). A rank holds at most one tile
/// and its transpose (2·T²·m² values) besides the engine's temporaries, all
/// within `memoryBudget`; no rank ever holds the whole kernel.
public enum DistributedGram {
  public struct Report: Sendable {
    public var seconds: Double
    public var tileSize: Int
    public var tiles: Int
    public var myTiles: Int
    public var flops: Double
    /// Estimated FLOPs per rank (the balance of the schedule).
    public var loads: [Double]
    public var plan: GramPlan
    /// Bytes this rank held for tiles (tile + transpose).
    public var tileBytes: Int
    /// This rank's seconds computing its tiles, and in the collective writes (waits included).
    public var computeSeconds: Double = 0
    public var writeSeconds: Double = 0
  }

  public static func run(comm: Communicator, model: LoadedModel, inputs1: Tensor, inputs2: Tensor?,
                         mode: NTKMode, precision: Precision, memoryBudget: Int, tileSize: Int?,
                         device: any ComputeDevice, output path: String,
                         progress: ((Int, Int) -> Void)? = nil) throws -> Report {
    let start = Communicator.now
    let network = model.network
    let m = network.outputSize, mult = mode == .trace ? 1 : m
    let n1 = inputs1.rows, n2 = inputs2?.rows ?? n1
    let symmetric = inputs2 == nil
    let elem = precision == .f32 ? 4 : 8
    let shape = mode == .trace ? [n1, n2] : [n1, m, n2, m]
    let plan = GramPlan(network: network, mode: mode)
    var tile = 0
    try comm.agree {
      guard n1 > 0, n2 > 0 else { throw NTKitError.invalidArgument("the NTK needs at least one input sample") }
      for x in [inputs1] + (inputs2.map { [$0] } ?? []) where x.rowLength != network.inputSize {
        throw NTKitError.shapeMismatch(context: "inputs", expected: "\(network.inputSize) values per sample (input_shape \(network.spec.inputShape))",
                                       found: "\(x.rowLength) (shape \(x.shape))")
      }
      let (rowsM, o1) = n1.multipliedReportingOverflow(by: mult)
      let (colsM, o2) = n2.multipliedReportingOverflow(by: mult)
      guard !o1, !o2, rowsM <= Int(Int32.max), colsM <= Int(Int32.max) else {
        throw NTKitError.invalidArgument("the output \(shape) has more than 2³¹ rows or columns, which MPI-IO subarrays cannot address")
      }
      if precision == .f64 && !device.supports(.f64) {
        throw NTKitError.invalidArgument("device \(device.identifier) has no float64 support; use --device cpu with --precision f64")
      }
      tile = tileSize ?? GramTileSchedule.defaultTileSize(n1: n1, n2: n2, symmetric: symmetric, ranks: comm.size,
                                                          bytesPerPair: mult * mult * elem, budget: memoryBudget)
      let bytes = 2 * tile * tile * mult * mult * elem
      guard bytes <= memoryBudget / 2 else {
        throw NTKitError.memoryBudget(needed: 2 * bytes, budget: memoryBudget,
                                      hint: "a tile of \(tile) samples and its transpose need \(formatBytes(bytes)); lower --block-size or raise --memory-budget (per rank)")
      }
    }
    let schedule = GramTileSchedule(n1: n1, n2: n2, symmetric: symmetric, tileSize: tile, ranks: comm.size,
                                    flopsPerPair: plan.layers.reduce(0) { $0 + $1.flopsPerPair },
                                    flopsPerSample: plan.flopsPerSample)
    let mine = schedule.tiles(of: comm.rank)
    let rounds = schedule.rounds
    let tileValues = tile * tile * mult * mult
    let tileBytes = 2 * tileValues * elem
    var options = GramOptions(mode: mode)
    options.memoryBudget = memoryBudget - tileBytes
    options.isCancelled = { Communicator.interrupted }

    let failingRank = FaultInjection.failingRank
    let out = try CollectiveOutput(comm, path: path)
    var computeSeconds = 0.0, writeSeconds = 0.0
    // Tiles go out with MPI_File_write_all on subarray views; NTKIT_MPI_WRITE=rows writes them
    // row by row with independent writes instead (each row contiguous; for file systems where
    // collective buffering costs more than it saves).
    let collective = TuningKnobs.current.mpiCollectiveWrite
    do {
      let header = NPY.headerBytes(dtype: precision == .f32 ? .float32 : .float64, shape: shape)
      try comm.agree { if comm.isRoot { try header.withUnsafeBytes { try out.file.write(at: 0, $0) } } }
      let rows = n1 * mult, columns = n2 * mult
      func writeRounds<T: DeviceScalar>(_: T.Type) throws {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(tileValues, 1))
        let mirror = UnsafeMutableBufferPointer<T>.allocate(capacity: max(tileValues, 1))
        defer { buffer.deallocate(); mirror.deallocate() }
        for round in 0..<rounds {
          let t = round < mine.count ? mine[round] : nil
          let r = (t?.rows.count ?? 0) * mult, c = (t?.columns.count ?? 0) * mult
          let t0 = Communicator.now
          try comm.agree {
            if round == 0, failingRank == comm.rank {
              throw NTKitError.io(path: path, reason: "injected failure on rank \(comm.rank) (NTKIT_MPI_TEST_FAIL_RANK)")
            }
            guard let t else { return }
            let a = rowsOf(inputs1, t.rows)
            let b = t.isDiagonal ? nil : rowsOf(inputs2 ?? inputs1, t.columns)
            _ = try NTKGram.compute(network: network, parameters: model.parameters, inputs1: a, inputs2: b,
                                    device: device, options: options,
                                    output: UnsafeMutableBufferPointer(rebasing: buffer[0..<(r * c)]))
            if t.isMirrored {
              GramTileSchedule.transpose(UnsafeBufferPointer(buffer), rows: r, columns: c, into: mirror)
            }
          }
          let t1 = Communicator.now
          computeSeconds += t1 - t0
          defer { writeSeconds += Communicator.now - t1 }
          try comm.agree {
            func put(_ r0: Int, _ c0: Int, _ nr: Int, _ nc: Int, _ data: UnsafeRawPointer?) throws {
              if collective {
                try out.file.writeBlock(disp: header.count, elementSize: elem, rows: rows, columns: columns,
                                        at: r0, c0, blockRows: nr, blockColumns: nc, data)
              } else {
                try out.file.writeBlockRows(disp: header.count, elementSize: elem, rows: rows, columns: columns,
                                            at: r0, c0, blockRows: nr, blockColumns: nc, data)
              }
            }
            let i0 = (t?.rows.lowerBound ?? 0) * mult, j0 = (t?.columns.lowerBound ?? 0) * mult
            try put(i0, j0, r, c, buffer.baseAddress)
            let mirrored = t?.isMirrored == true
            try put(j0, i0, mirrored ? c : 0, mirrored ? r : 0, mirror.baseAddress)
          }
          progress?(round + 1, rounds)
        }
      }
      if precision == .f32 { try writeRounds(Float.self) } else { try writeRounds(Double.self) }
      try out.commit()
    } catch {
      out.discard()
      throw error
    }
    return Report(seconds: Communicator.now - start, tileSize: tile, tiles: schedule.tiles.count, myTiles: mine.count,
                  flops: plan.flops(n1: n1, n2: n2, symmetric: symmetric), loads: schedule.loads, plan: plan,
                  tileBytes: tileBytes, computeSeconds: computeSeconds, writeSeconds: writeSeconds)
  }

  /// Rows `range` of `x` as a tensor of the same trailing shape.
  static func rowsOf(_ x: Tensor, _ range: Range<Int>) -> Tensor {
    x.slice(rows: range)  // keeps float64 inputs (`data64`) for --precision f64
  }
}
