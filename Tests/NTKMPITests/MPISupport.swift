import Foundation
import NTKit
import XCTest

final class MPIBundleLocator {}

/// Runs `mpirun -q -n P ntk-mpi …` and `ntk …` (both built beside the test
/// bundle; a missing one fails the test, never skips it) and compares their files.
/// OpenMPI refuses root unless told: CI runs as root, so the two
/// OMPI_ALLOW_RUN_AS_ROOT variables are set here.
enum MPIHarness {
  static var packageRoot: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  }
  /// The folder of the test bundle, where `swift build --build-tests` puts ntk and ntk-mpi (dependencies of this target).
  static var productsDirectory: URL {
    let bundle = Bundle(for: MPIBundleLocator.self).bundleURL
    return bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
  }
  static var ntk: String { productsDirectory.appendingPathComponent("ntk").path }
  static var ntkMPI: String { productsDirectory.appendingPathComponent("ntk-mpi").path }
  static let mpirun = "/usr/bin/mpirun"

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func environment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    for (k, v) in extra { env[k] = v }
    return env
  }

  static func start(_ executable: String, _ arguments: [String], env: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
    for path in [executable, ntk, ntkMPI] where !FileManager.default.isExecutableFile(atPath: path) {
      XCTFail("\(path) is missing: swift build --build-tests builds ntk and ntk-mpi; make test also installs OpenMPI (scripts/install-deps.sh)")
      throw CocoaError(.fileNoSuchFile)
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.environment = environment(env)
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    return (p, out, err)
  }

  static func finish(_ started: (Process, Pipe, Pipe)) -> Result {
    let (p, out, err) = started
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  /// `mpirun -q -n ranks ntk-mpi arguments…` (oversubscribed: this machine has 2 cores).
  static func mpi(_ ranks: Int, _ arguments: [String], env: [String: String] = [:]) throws -> Result {
    finish(try start(mpirun, ["-q", "-n", "\(ranks)", "--oversubscribe", ntkMPI] + arguments, env: env))
  }

  /// The single-process reference.
  static func single(_ arguments: [String], env: [String: String] = [:]) throws -> Result {
    finish(try start(ntk, arguments, env: env))
  }

  static func tempDirectory() -> String {
    let dir = NSTemporaryDirectory() + "ntk-mpi-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  /// Deterministic inputs: x[i, j] = sin(0.37·i + 1.3·j) + 0.1·cos(i·j).
  static func writeInputs(_ path: String, shape: [Int]) throws {
    let n = shape[0], w = shape.dropFirst().reduce(1, *)
    var x = [Float](repeating: 0, count: n * w)
    for i in 0..<n { for j in 0..<w { x[i * w + j] = Float(sin(0.37 * Double(i) + 1.3 * Double(j)) + 0.1 * cos(Double(i * j))) } }
    try NPY.write(path, shape: shape, floats: x)
  }

  static func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

  static func values(_ path: String) throws -> [Double] {
    let a = try NPY.read(path)
    return a.dtype == .int64 ? try a.int64s().map(Double.init) : a.doubles()
  }

  /// max |a − b| / max |b|.
  static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count, !b.isEmpty else { return .infinity }
    let scale = max(b.map(abs).max()!, 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
  }

  static func json(_ text: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
  }

  /// Files in `dir` whose names start with `prefix`.
  static func files(_ dir: String, prefix: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(prefix) }
  }
}
