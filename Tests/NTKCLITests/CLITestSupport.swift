import Foundation
import XCTest

/// Runs the built `ntk` binary (`.build/debug/ntk`, built by `make test`
/// before the tests) and captures its exit status and output.
enum NTKBinary {
  static var packageRoot: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  }
  static var path: String { packageRoot + "/.build/debug/ntk" }
  static var fixtures: String { packageRoot + "/Tests/NTKitTests/Fixtures" }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(_ arguments: [String], environment: [String: String] = [:], file: StaticString = #filePath,
                  line: UInt = #line) throws -> Result {
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw XCTSkip("\(path) is not built; run `swift build --product ntk` first (make test does)")
    }
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

  static func tempDirectory() -> String {
    let dir = NSTemporaryDirectory() + "ntk-cli-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}
