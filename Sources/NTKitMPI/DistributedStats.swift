import CNTKitMPI
import CNTKitBLAS
import NTKit

/// `ntk-mpi stats`: the collective variables of an N × N kernel `.npy`
/// (`<f4` or `<f8`, row-major) read with MPI-IO.
///
/// Exact: the kernel goes straight from the file into ScaLAPACK's 2-D
/// block-cyclic layout (`MPI_Type_create_darray`, square blocks `nb`, the
/// `ProcessGrid` of all ranks); S = (Θ + Θᵀ)/2 is formed with `pdtran` and all
/// eigenvalues come from `pdsyevd`. Each rank holds about 3·8·N²/P bytes
/// (Θ, S and the eigenvector matrix pdsyevd insists on) plus workspace.
/// Lanczos: rows are split evenly over the ranks (contiguous reads); each
/// product Θ·x is computed per rank on its rows (widened to float64 in
/// blocks, `dgemv`) and gathered (`MPI_Allgatherv`, 8N bytes per product);
/// the Lanczos recurrence itself runs replicated on every rank.
public enum DistributedStats {
  public enum Method: Sendable { case exact, lanczos(k: Int) }

  public static func run(comm: Communicator, kernel path: String, method requested: Method?, topK: Int = 16) throws -> CollectiveVariables {
    let header = try comm.agree { () throws -> NPYFileHeader in
      let h = try NPY.header(of: path)
      guard h.shape.count == 2, h.shape[0] == h.shape[1], h.shape[0] > 0 else {
        throw NTKitError.shapeMismatch(context: "\(path): kernel", expected: "a square [N, N] matrix", found: "shape \(h.shape)")
      }
      guard h.dtype == .float32 || h.dtype == .float64 else {
        throw NTKitError.format(path: path, reason: "kernel dtype \(h.dtype.rawValue) is not supported by ntk-mpi stats; expected <f4 or <f8")
      }
      return h
    }
    let n = header.shape[0]
    let method: Method
    if let requested { method = requested } else {
      switch CollectiveVariables.automaticMethod(n: n) {
      case .exact: method = .exact
      case .lanczos(let k): method = .lanczos(k: k)
      }
    }
    let file = try MPIFile(comm, path: path, write: false)
    defer { try? file.close() }
    switch method {
    case .exact: return try exact(comm: comm, file: file, header: header, n: n)
    case .lanczos(let k): return try lanczos(comm: comm, file: file, header: header, n: n, k: k)
    }
  }

  /// The first NaN/Inf (lowest row-major index over all ranks) as every
  /// rank's error, in `ntk stats`'s words, reported by the rank that holds it.
  static func checkFinite(comm: Communicator, path: String, n: Int, firstBad: (index: Int, value: Double)?) throws {
    var flat: [Int64] = [Int64(firstBad?.index ?? Int.max)]
    try comm.check(ntkmpi_allreduce_i64(&flat, 1, 1), "MPI_Allreduce")
    guard flat[0] != Int64(Int.max) else { return }
    try comm.agree {
      if let bad = firstBad, Int64(bad.index) == flat[0] {
        throw NTKitError.nonFinite(path: path, detail: "first at row \(bad.index / n), column \(bad.index % n) (0-based): \(bad.value)")
      }
    }
  }

  static func exact(comm: Communicator, file: MPIFile, header: NPYFileHeader, n: Int) throws -> CollectiveVariables {
    let shape = ProcessGrid.shape(ranks: comm.size)
    let nb = max(1, min(64, n / (2 * max(shape.rows, shape.columns))))
    var context: Int32 = 0, myRow: Int32 = 0, myColumn: Int32 = 0
    try comm.agree {
      if ntkmpi_grid_init(Int32(shape.rows), Int32(shape.columns), &context, &myRow, &myColumn) != 0 {
        throw NTKitError.invalidArgument("BLACS could not form a \(shape.rows) × \(shape.columns) process grid")
      }
    }
    defer { ntkmpi_grid_exit(context) }
    let grid = ProcessGrid(rows: shape.rows, columns: shape.columns, myRow: Int(myRow), myColumn: Int(myColumn),
                           blockSize: nb, context: context)
    let lr = grid.localRows(n), lc = grid.localColumns(n)
    var local = [Double](repeating: 0, count: max(lr * lc, 1))
    try comm.agree {
      if header.dtype == .float64 {
        try local.withUnsafeMutableBytes { try file.readBlockCyclic(disp: header.dataOffset, elementSize: 8, n: n, grid: grid, into: $0.baseAddress, count: lr * lc) }
      } else {
        var f = [Float](repeating: 0, count: max(lr * lc, 1))
        try f.withUnsafeMutableBytes { try file.readBlockCyclic(disp: header.dataOffset, elementSize: 4, n: n, grid: grid, into: $0.baseAddress, count: lr * lc) }
        for i in 0..<(lr * lc) { local[i] = Double(f[i]) }
      }
    }
    // Local (li, lj) is B(i, j) = Θ[j][i] with i, j the global block-cyclic indices.
    func globalIndex(_ l: Int, _ p: Int, _ np: Int) -> Int { (l / nb * np + p) * nb + l % nb }
    var trace = [0.0]
    var firstBad: (index: Int, value: Double)?
    for lj in 0..<lc {
      let j = globalIndex(lj, grid.myColumn, grid.columns)
      for li in 0..<lr {
        let i = globalIndex(li, grid.myRow, grid.rows)
        let v = local[lj * lr + li]
        if i == j { trace[0] += v }
        if !v.isFinite {
          let flat = j * n + i
          if firstBad == nil || flat < firstBad!.index { firstBad = (flat, v) }
        }
      }
    }
    try checkFinite(comm: comm, path: file.path, n: n, firstBad: firstBad)
    try comm.sum(&trace)
    var w = [Double](repeating: 0, count: n)
    try comm.agree {
      let info = ntkmpi_symmetric_eigenvalues(context, Int32(n), Int32(nb), Int32(lr), Int32(lc), &local, &w)
      if info != 0 { throw NTKitError.numerical("pdsyevd failed (code \(info)) on the \(n)×\(n) kernel \(file.path)") }
    }
    return try CollectiveVariables.fromSpectrum(n: n, trace: trace[0], eigenvalues: w)
  }

  static func lanczos(comm: Communicator, file: MPIFile, header: NPYFileHeader, n: Int, k: Int) throws -> CollectiveVariables {
    try OpenBLAS.require()
    let mine = evenShare(n, parts: comm.size, part: comm.rank)
    let elem = header.dtype == .float64 ? 8 : 4
    var rows = [UInt8](repeating: 0, count: max(mine.count * n * elem, 1))
    try comm.agree {
      try rows.withUnsafeMutableBytes {
        try file.readAll(at: header.dataOffset + mine.lowerBound * n * elem,
                         into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(mine.count * n * elem)]))
      }
    }
    func value(_ r: Int, _ c: Int) -> Double {
      rows.withUnsafeBytes { elem == 8 ? $0.load(fromByteOffset: (r * n + c) * 8, as: Double.self)
                                       : Double($0.load(fromByteOffset: (r * n + c) * 4, as: Float.self)) }
    }
    var trace = [0.0]
    var firstBad: (index: Int, value: Double)?
    rows.withUnsafeBytes { raw in
      for r in 0..<mine.count {
        for c in 0..<n {
          let v = elem == 8 ? raw.load(fromByteOffset: (r * n + c) * 8, as: Double.self)
                            : Double(raw.load(fromByteOffset: (r * n + c) * 4, as: Float.self))
          if !v.isFinite && firstBad == nil { firstBad = ((mine.lowerBound + r) * n + c, v) }
        }
        if mine.lowerBound + r < n { trace[0] += value(r, mine.lowerBound + r) }
      }
    }
    try checkFinite(comm: comm, path: file.path, n: n, firstBad: firstBad)
    try comm.sum(&trace)
    let counts = (0..<comm.size).map { evenShare(n, parts: comm.size, part: $0).count }
    let block = 16
    var widened = [Double](repeating: 0, count: block * n)
    var local = [Double](repeating: 0, count: max(mine.count, 1))
    let result = try comm.agree {
      try Lanczos.topEigenvalues(n: n, k: k) { x, y in
        rows.withUnsafeBytes { raw in
          var start = 0
          while start < mine.count {
            let count = min(block, mine.count - start)
            for i in 0..<(count * n) {
              widened[i] = elem == 8 ? raw.load(fromByteOffset: (start * n + i) * 8, as: Double.self)
                                     : Double(raw.load(fromByteOffset: (start * n + i) * 4, as: Float.self))
            }
            ntk_cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(count), blasint(n), 1, widened, blasint(n),
                        x.baseAddress, 1, 0, &local[start], 1)
            start += count
          }
        }
        try local.withUnsafeBufferPointer { try comm.allGather(UnsafeBufferPointer(rebasing: $0[0..<mine.count]), counts: counts, into: y) }
      }
    }
    return try CollectiveVariables.fromTopEigenvalues(n: n, trace: trace[0], top: result.eigenvalues, k: k)
  }
}
