import CNTKitMPI
import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// A file opened by every rank with MPI-IO. Offsets are bytes from the start
/// of the file; 2-D arrays are row-major after a header of `disp` bytes.
public final class MPIFile {
  let comm: Communicator
  public let path: String
  private var handle: UnsafeMutableRawPointer?

  /// Collective open; `write` creates the file (it must not exist or is overwritten in place).
  public init(_ comm: Communicator, path: String, write: Bool) throws {
    self.comm = comm
    self.path = path
    var h: UnsafeMutableRawPointer?
    let rc = ntkmpi_file_open(path, write ? 1 : 0, &h)
    // Every rank learns whether any rank could not open the file.
    try comm.settle(rc == 0 ? nil : "\(path): cannot open\(write ? " for writing" : ""): \(Communicator.text(rc))")
    handle = h
  }

  deinit { if handle != nil { _ = ntkmpi_file_close(&handle) } }

  private func io(_ rc: Int32, _ what: String) throws {
    if rc != 0 { throw NTKitError.io(path: path, reason: "\(what) failed: \(Communicator.text(rc))") }
  }

  /// Independent write.
  public func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count > 0 else { return }
    try io(ntkmpi_file_write_at(handle, Int64(offset), bytes.baseAddress, Int64(bytes.count)), "MPI_File_write_at")
  }

  /// Collective: every rank writes its block (rows × columns of the array at `disp`), maybe empty.
  public func writeBlock(disp: Int, elementSize: Int, rows: Int, columns: Int,
                         at r0: Int, _ c0: Int, blockRows: Int, blockColumns: Int, _ data: UnsafeRawPointer?) throws {
    try io(ntkmpi_file_write_block_all(handle, Int64(disp), Int32(elementSize), Int64(rows), Int64(columns),
                                       Int64(r0), Int64(c0), Int64(blockRows), Int64(blockColumns), data),
           "MPI_File_write_all")
  }

  /// Independent: this rank's block, one contiguous write per row.
  public func writeBlockRows(disp: Int, elementSize: Int, rows: Int, columns: Int,
                             at r0: Int, _ c0: Int, blockRows: Int, blockColumns: Int, _ data: UnsafeRawPointer?) throws {
    try io(ntkmpi_file_write_block(handle, Int64(disp), Int32(elementSize), Int64(rows), Int64(columns),
                                   Int64(r0), Int64(c0), Int64(blockRows), Int64(blockColumns), data),
           "MPI_File_write_at")
  }

  /// Collective contiguous read (each rank its own range, maybe empty).
  public func readAll(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
    try io(ntkmpi_file_read_at_all(handle, Int64(offset), buffer.baseAddress, Int64(buffer.count)), "MPI_File_read_at_all")
  }

  /// Collective: this rank's block-cyclic part of the n × n matrix at `disp`.
  public func readBlockCyclic(disp: Int, elementSize: Int, n: Int, grid: ProcessGrid, into local: UnsafeMutableRawPointer?, count: Int) throws {
    try io(ntkmpi_file_read_block_cyclic(handle, Int64(disp), Int32(elementSize), Int32(n), Int32(grid.blockSize),
                                         Int32(grid.rows), Int32(grid.columns), Int32(grid.myRow), Int32(grid.myColumn),
                                         local, Int64(count)), "MPI_File_read_all (block-cyclic)")
  }

  /// Collective close.
  public func close() throws {
    guard handle != nil else { return }
    try io(ntkmpi_file_close(&handle), "MPI_File_close")
  }
}

/// One output file written by all ranks, all-or-nothing: the ranks write a
/// temporary file beside `path` (named by rank 0), which rank 0 renames to
/// `path` only when every rank succeeded; on any failure it is deleted and an
/// existing `path` is left untouched.
public final class CollectiveOutput {
  let comm: Communicator
  public let path: String
  public let temporaryPath: String
  public let file: MPIFile
  private var finished = false

  public init(_ comm: Communicator, path: String) throws {
    self.comm = comm
    self.path = path
    try comm.agree {
      var isDirectory = stat()
      if stat(path, &isDirectory) == 0 && (isDirectory.st_mode & S_IFMT) == S_IFDIR {
        throw NTKitError.io(path: path, reason: "is a directory, cannot write a file there")
      }
    }
    temporaryPath = try comm.broadcast(comm.isRoot ? "\(path).tmp-mpi-\(getpid())" : "", root: 0)
    if comm.isRoot { unlink(temporaryPath) }
    file = try MPIFile(comm, path: temporaryPath, write: true)
  }

  /// Collective: closes the file and renames it (rank 0); throws on every rank if that fails.
  public func commit() throws {
    finished = true
    do {
      try comm.agree { try file.close() }
      try comm.agree {
        if comm.isRoot && rename(temporaryPath, path) != 0 {
          let reason = String(cString: strerror(errno))
          unlink(temporaryPath)
          throw NTKitError.io(path: path, reason: "cannot rename the finished file into place: \(reason)")
        }
      }
    } catch {
      if comm.isRoot { unlink(temporaryPath) }
      throw error
    }
  }

  /// After a collective failure: close and delete the temporary file (every rank calls it).
  public func discard() {
    guard !finished else { return }
    finished = true
    try? file.close()
    if comm.isRoot { unlink(temporaryPath) }
  }
}

/// A ScaLAPACK process grid over all ranks: rows × columns = size, as square
/// as the divisors of the size allow, square blocks of `blockSize`.
public struct ProcessGrid: Sendable {
  public var rows: Int
  public var columns: Int
  public var myRow: Int
  public var myColumn: Int
  public var blockSize: Int
  public var context: Int32

  /// The rows × columns shape for `size` ranks: rows the largest divisor ≤ √size.
  public static func shape(ranks: Int) -> (rows: Int, columns: Int) {
    var r = Int(Double(ranks).squareRoot())
    while r > 1 && ranks % r != 0 { r -= 1 }
    return (max(r, 1), ranks / max(r, 1))
  }

  /// Local rows / columns of an n × n matrix on this process.
  public func localRows(_ n: Int) -> Int { Int(ntkmpi_numroc(Int32(n), Int32(blockSize), Int32(myRow), Int32(rows))) }
  public func localColumns(_ n: Int) -> Int { Int(ntkmpi_numroc(Int32(n), Int32(blockSize), Int32(myColumn), Int32(columns))) }
}
