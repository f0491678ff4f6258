import Foundation
import XCTest

/// Runs the built `ntk` binary and captures its exit status and output.
///
/// The binary is looked up beside the test bundle (the test target depends on
/// the `ntk` executable, so `swift build --build-tests` builds both into one
/// folder). A missing binary fails the test: the CLI suite never skips itself.
enum NTKBinary {
  static var packageRoot: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  }
  /// The folder that holds the test bundle, and so the `ntk` built with it.
  static var productsDirectory: URL {
    // Linux: the bundle is the products folder itself; Darwin: a .xctest inside it.
    let bundle = Bundle(for: BundleLocator.self).bundleURL
    return bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
  }
  static var path: String { productsDirectory.appendingPathComponent("ntk").path }
  static var fixtures: String { packageRoot + "/Tests/NTKitTests/Fixtures" }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(_ arguments: [String], environment: [String: String] = [:], file: StaticString = #filePath,
                  line: UInt = #line) throws -> Result {
    try requireBinary(file: file, line: line)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    if env["POCL_CACHE_DIR"] == nil { env["POCL_CACHE_DIR"] = NSTemporaryDirectory() + "ntkit-pocl-cache" }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self))
  }

  struct NTKBinaryMissing: Error { var path: String }

  /// Fails the calling test (never skips it) when the binary was not built.
  @discardableResult
  static func requireBinary(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: path) else {
      XCTFail("\(path) is missing: the ntk executable must be built beside the tests (swift build --build-tests)",
              file: file, line: line)
      throw NTKBinaryMissing(path: path)
    }
    return path
  }

  static func tempDirectory() -> String {
    let dir = NSTemporaryDirectory() + "ntk-cli-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}

/// Anchors `Bundle(for:)` to the test bundle.
private final class BundleLocator {}
