import Foundation
import XCTest
import NTKit

/// `--device` behaviour of the built `ntk` binary (`NTKBinary`): fallback when no OpenCL platform exists, the
/// explicit-device error, `ntk devices`, the golden result on PoCL, exit
/// codes. The "no platform" machine is simulated by pointing
/// `OCL_ICD_VENDORS` at an empty folder (the loader then reports
/// CL_PLATFORM_NOT_FOUND_KHR, platform.md).
final class DeviceCLITests: XCTestCase {
  /// The package root, three levels above this file (Tests/NTKCLITests/…).
  static let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  static let golden = packageRoot + "/Tests/NTKitTests/Fixtures/golden/04_cnn_tiny_digits"
  /// Same norm-wise tolerance as the library's golden suite (NTKitTests/TestSupport.swift).
  static let goldenTolerance = 2e-5

  var scratch = ""

  override func setUpWithError() throws {
    scratch = NSTemporaryDirectory() + "ntk-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

  func binary() throws -> String {
    try NTKBinary.requireBinary()
  }

  /// Bytes read on another thread; read only after that thread finished.
  final class DataBox: @unchecked Sendable { var data = Data() }

  struct Result { var status: Int32; var stdout: String; var stderr: String }

  /// Runs `ntk args` with the test's environment plus `env` (POCL_CACHE_DIR
  /// set to a writable folder unless given).
  func ntk(_ args: [String], env: [String: String] = [:]) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try binary())
    process.arguments = args
    var environment = ProcessInfo.processInfo.environment
    if environment["POCL_CACHE_DIR"] == nil { environment["POCL_CACHE_DIR"] = NSTemporaryDirectory() + "ntkit-pocl-cache" }
    for (k, v) in env { environment[k] = v }
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
    let errData = DataBox()
    let errReader = Thread { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errReader.isFinished { usleep(1000) }
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData.data, as: UTF8.self))
  }

  /// An environment whose OpenCL loader finds no platform.
  func noOpenCL() throws -> [String: String] {
    let empty = scratch + "/no-vendors"
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    return ["OCL_ICD_VENDORS": empty]
  }

  func gramArgs(device: String, out: String) -> [String] {
    ["gram", "--model", Self.golden + "/model.json", "--weights", Self.golden + "/weights.safetensors",
     "--inputs", Self.golden + "/inputs.npy", "--device", device, "--out", out]
  }

  func hasOpenCLPlatform() -> Bool {
    if ProcessInfo.processInfo.environment["POCL_CACHE_DIR"] == nil {
      setenv("POCL_CACHE_DIR", NSTemporaryDirectory() + "ntkit-pocl-cache", 1)
    }
    return DeviceSelector.listAll().contains { $0.kind == .opencl }
  }

  func values(_ path: String) throws -> [Double] { try NPY.read(path).doubles() }

  // MARK: No OpenCL platform

  func testAutoFallsBackToCPUWithoutPlatform() throws {
    let env = try noOpenCL()
    let auto = try ntk(gramArgs(device: "auto", out: scratch + "/auto.npy"), env: env)
    XCTAssertEqual(auto.status, 0, auto.stderr)
    XCTAssertTrue(auto.stderr.contains("warning: no OpenCL platform"), auto.stderr)
    XCTAssertTrue(auto.stdout.contains("on cpu"), auto.stdout)
    let cpu = try ntk(gramArgs(device: "cpu", out: scratch + "/cpu.npy"), env: env)
    XCTAssertEqual(cpu.status, 0, cpu.stderr)
    XCTAssertEqual(try values(scratch + "/auto.npy"), try values(scratch + "/cpu.npy"))
  }

  func testExplicitOpenCLFailsWithoutPlatform() throws {
    let out = scratch + "/opencl.npy"
    let r = try ntk(gramArgs(device: "opencl", out: out), env: try noOpenCL())
    XCTAssertEqual(r.status, 1, r.stderr)
    let lines = r.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "one-line error expected:\n\(r.stderr)")
    XCTAssertTrue(r.stderr.hasPrefix("ntk: error: "), r.stderr)
    XCTAssertTrue(r.stderr.contains("OpenCL platform"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output file may be left")
    let left = try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0 != "no-vendors" }
    XCTAssertEqual(left, [], "no temporary file may be left")
  }

  func testDevicesWithoutPlatformListsOnlyCPU() throws {
    let r = try ntk(["devices", "--json"], env: try noOpenCL())
    XCTAssertEqual(r.status, 0, r.stderr)
    let list = try JSONValue.parse(Array(r.stdout.utf8))
    XCTAssertEqual(list.arrayValue?.count, 1, r.stdout)
    XCTAssertEqual(list.arrayValue?.first?["id"]?.stringValue, "cpu")
    XCTAssertEqual(list.arrayValue?.first?["auto"]?.boolValue, true)
  }

  // MARK: With the machine's OpenCL (PoCL in CI)

  func testDevicesListsCPUAndOpenCL() throws {
    let r = try ntk(["devices", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let list = try JSONValue.parse(Array(r.stdout.utf8)).arrayValue ?? []
    let cpu = list.first { $0["id"]?.stringValue == "cpu" }
    XCTAssertNotNil(cpu, r.stdout)
    guard hasOpenCLPlatform() else { throw XCTSkip("no OpenCL platform on this machine") }
    let opencl = list.filter { $0["kind"]?.stringValue == "opencl" }
    XCTAssertFalse(opencl.isEmpty, r.stdout)
    if opencl.allSatisfy({ $0["gpu"]?.boolValue == false }) {
      // auto never picks a CPU OpenCL device such as PoCL.
      XCTAssertEqual(cpu?["auto"]?.boolValue, true, r.stdout)
      XCTAssertTrue(opencl.allSatisfy { $0["auto"]?.boolValue == false }, r.stdout)
    }
    let text = try ntk(["devices"])
    XCTAssertTrue(text.stdout.contains("* cpu"), text.stdout)
    XCTAssertTrue(text.stdout.contains("opencl:"), text.stdout)
  }

  func testOpenCLGramMatchesGolden() throws {
    guard hasOpenCLPlatform() else { throw XCTSkip("no OpenCL platform on this machine") }
    let out = scratch + "/opencl.npy"
    let r = try ntk(gramArgs(device: "opencl", out: out))
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("on opencl:"), r.stdout)
    let actual = try values(out), expected = try values(Self.golden + "/ntk_trace.npy")
    XCTAssertEqual(actual.count, expected.count)
    let scale = expected.map(abs).max() ?? 1
    let err = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
    XCTAssertLessThanOrEqual(err, Self.goldenTolerance * scale, "max|Δ| = \(err), max|ref| = \(scale)")
  }

  // MARK: Usage

  func testBogusDeviceIsUsageError() throws {
    let out = scratch + "/bogus.npy"
    let r = try ntk(gramArgs(device: "bogus", out: out))
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertTrue(r.stderr.contains("bogus"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
  }
}
