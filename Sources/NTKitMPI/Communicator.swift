import CNTKitMPI
import NTKit

#if canImport(Glibc)
import Glibc
#endif

/// An error that one rank hit and every rank now knows about: the message of
/// the lowest failing rank, agreed collectively (`Communicator.agree`).
public struct CollectiveFailure: Error, CustomStringConvertible {
  public var message: String
  /// The failure was an interruption (Ctrl-C / SIGTERM on some rank).
  public var interrupted: Bool
  public var description: String { message }
}

/// MPI_COMM_WORLD as `ntk-mpi` uses it: rank, size, the few collectives the
/// distributed commands need, and error agreement so that a failure on any
/// rank stops every rank at the same point (no rank left waiting).
public final class Communicator: @unchecked Sendable {
  public let rank: Int
  public let size: Int
  public var isRoot: Bool { rank == 0 }

  /// Initialises MPI (once per process).
  public init() throws {
    let rc = ntkmpi_init()
    guard rc == 0 else { throw NTKitError.invalidArgument("MPI_Init failed: \(Communicator.text(rc))") }
    rank = Int(ntkmpi_rank())
    size = Int(ntkmpi_size())
  }

  public func finalize() { ntkmpi_finalize() }

  static func text(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    ntkmpi_error_text(code, &buffer, 512)
    return String(cString: buffer)
  }

  /// Throws for a failed MPI call (`what` names the operation).
  func check(_ rc: Int32, _ what: String) throws {
    if rc != 0 { throw NTKitError.io(path: what, reason: Communicator.text(rc)) }
  }

  // MARK: Error agreement

  /// Runs `body` on this rank, then agrees with every rank: if any rank threw
  /// (or was interrupted), every rank throws the same `CollectiveFailure`
  /// carrying the message of the lowest failing rank. Collective.
  public func agree<T>(_ body: () throws -> T) throws -> T {
    var result: T?
    var message: String?
    var interrupted = false
    do {
      result = try body()
      if ntkmpi_interrupted() != 0 { interrupted = true; message = "interrupted" }
    } catch let error as CollectiveFailure {
      message = error.message
      interrupted = error.interrupted
    } catch let error as NTKitError {
      interrupted = error == .interrupted
      message = interrupted ? "interrupted" : "\(error)"
    } catch {
      message = "\(error)"
    }
    try settle(message, interrupted: interrupted)
    return result!
  }

  /// The collective half of `agree`: no-op when nobody failed.
  public func settle(_ message: String?, interrupted: Bool = false) throws {
    var flags: [Int64] = [message == nil ? Int64(size) : Int64(rank), interrupted ? 1 : 0]
    try check(ntkmpi_allreduce_i64(&flags[0], 1, 1), "MPI_Allreduce")
    try check(ntkmpi_allreduce_i64(&flags[1], 1, 2), "MPI_Allreduce")
    let failed = Int(flags[0])
    guard failed < size else { return }
    var bytes = Array((message ?? "").utf8.prefix(4000))
    var length = Int64(bytes.count)
    try check(ntkmpi_bcast(&length, 8, Int32(failed)), "MPI_Bcast")
    if rank != failed { bytes = [UInt8](repeating: 0, count: Int(length)) }
    if length > 0 { try check(bytes.withUnsafeMutableBytes { ntkmpi_bcast($0.baseAddress!, length, Int32(failed)) }, "MPI_Bcast") }
    let text = String(decoding: bytes, as: UTF8.self)
    throw CollectiveFailure(message: text,
                            interrupted: flags[1] != 0)
  }

  // MARK: Collectives

  public func sum(_ values: inout [Double]) throws {
    try check(ntkmpi_allreduce_f64(&values, Int64(values.count), 0), "MPI_Allreduce")
  }

  public func sum(_ value: Int) throws -> Int {
    var v = Int64(value)
    try check(ntkmpi_allreduce_i64(&v, 1, 0), "MPI_Allreduce")
    return Int(v)
  }

  /// The largest value over all ranks, ties to the lowest index; nil when no rank has a candidate.
  public func argmax(value: Double, index: Int?) throws -> (index: Int, value: Double)? {
    var best = 0.0
    var bestIndex: Int64 = -1
    try check(ntkmpi_argmax(value, Int64(index ?? -1), &best, &bestIndex), "MPI_Allreduce (argmax)")
    return bestIndex < 0 ? nil : (Int(bestIndex), best)
  }

  /// Broadcasts raw bytes from `root` (same count on every rank).
  public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
    guard buffer.count > 0 else { return }
    try check(ntkmpi_bcast(buffer.baseAddress!, Int64(buffer.count), Int32(root)), "MPI_Bcast")
  }

  public func broadcast(_ values: inout [Float], root: Int) throws {
    try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
  }

  public func broadcast(_ text: String, root: Int) throws -> String {
    var bytes = Array(text.utf8)
    var length = Int64(bytes.count)
    try withUnsafeMutableBytes(of: &length) { try broadcast($0, root: root) }
    if rank != root { bytes = [UInt8](repeating: 0, count: Int(length)) }
    try bytes.withUnsafeMutableBytes { try broadcast($0, root: root) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Every rank's `mine` concatenated in rank order (`counts[r]` values from rank r).
  public func allGather(_ mine: UnsafeBufferPointer<Double>, counts: [Int], into out: UnsafeMutableBufferPointer<Double>) throws {
    var displs = [Int64](repeating: 0, count: size)
    for r in 1..<max(size, 1) where r < size { displs[r] = displs[r - 1] + Int64(counts[r - 1]) }
    let c = counts.map { Int64($0) }
    try check(ntkmpi_allgatherv_f64(mine.baseAddress, Int64(mine.count), out.baseAddress, c, displs), "MPI_Allgatherv")
  }

  public func barrier() throws { try check(ntkmpi_barrier(), "MPI_Barrier") }

  /// Seconds since an arbitrary origin (MPI_Wtime).
  public static var now: Double { ntkmpi_wtime() }

  /// SIGINT/SIGTERM set a flag polled by `interrupted` (a second SIGINT exits at once).
  public static func installInterruptHandler() { ntkmpi_install_interrupt() }
  public static var interrupted: Bool { ntkmpi_interrupted() != 0 }
}

/// An even split of `count` items over `parts`: part p gets
/// [p·count/parts, (p+1)·count/parts) — contiguous, in order, possibly empty.
public func evenShare(_ count: Int, parts: Int, part: Int) -> Range<Int> {
  (count * part / parts)..<(count * (part + 1) / parts)
}

extension Communicator: SelectionCollectives {
  /// True on every rank when `local` is true on some rank (one allreduce).
  public func any(_ local: Bool) throws -> Bool {
    var v: Int64 = local ? 1 : 0
    try check(ntkmpi_allreduce_i64(&v, 1, 2), "MPI_Allreduce")
    return v != 0
  }
}
