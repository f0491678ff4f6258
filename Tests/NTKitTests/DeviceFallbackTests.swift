import XCTest
@testable import NTKit

/// `DeviceSelector.withFallback` and its users: under `auto`, a recoverable
/// failure of an OpenCL device mid-run reruns the work on the CPU with one
/// warning line; an explicit device, a non-recoverable error or a failing
/// CPU rethrow.
final class DeviceFallbackTests: XCTestCase {
  let outOfMemory = NTKitError.openCL(call: "clCreateBuffer", code: -4, name: "CL_MEM_OBJECT_ALLOCATION_FAILURE")

  /// A fresh PoCL device (not the shared one: tests inject failures into it).
  func freshOpenCL() throws -> OpenCLDevice {
    TestDevices.ensurePoCLCache()
    guard let info = DeviceSelector.listAll().first(where: { $0.kind == .opencl }) else {
      throw XCTSkip("no OpenCL platform on this machine")
    }
    let parts = info.identifier.split(separator: ":").compactMap { Int($0) }
    return try OpenCLDevice(platform: parts[0], device: parts[1])
  }

  func testRecoverableErrorReruns() throws {
    let cl = try freshOpenCL()
    var warnings: [String] = []
    var tried: [String] = []
    let result = try DeviceSelector.withFallback(on: cl, warn: { warnings.append($0) }) { device -> String in
      tried.append(device.info.identifier)
      if device === cl { throw outOfMemory }
      return device.info.identifier
    }
    XCTAssertEqual(result, "cpu")
    XCTAssertEqual(tried, [cl.info.identifier, "cpu"])
    XCTAssertEqual(warnings.count, 1)
    XCTAssertTrue(warnings[0].hasPrefix("warning: \(cl.info.identifier)"), warnings[0])
    XCTAssertTrue(warnings[0].contains("CL_MEM_OBJECT_ALLOCATION_FAILURE"), warnings[0])
    XCTAssertFalse(warnings[0].contains("\n"))
  }

  func testNoRerunWhenExplicitOrNotRecoverable() throws {
    let cl = try freshOpenCL()
    var warnings: [String] = []
    // Explicit device: warn is nil.
    XCTAssertThrowsError(try DeviceSelector.withFallback(on: cl, warn: nil) { _ -> Int in throw outOfMemory }) {
      XCTAssertEqual($0 as? NTKitError, outOfMemory)
    }
    // Not recoverable (bad input is bad on every device).
    let bad = NTKitError.invalidArgument("bad")
    XCTAssertThrowsError(try DeviceSelector.withFallback(on: cl, warn: { warnings.append($0) }) { _ -> Int in throw bad }) {
      XCTAssertEqual($0 as? NTKitError, bad)
    }
    XCTAssertEqual(warnings, [])
  }

  func testCPUFailureIsNotRetried() throws {
    var calls = 0
    XCTAssertThrowsError(try DeviceSelector.withFallback(on: CPUDevice.shared, warn: { _ in XCTFail("warned") }) { _ -> Int in
      calls += 1
      throw outOfMemory
    })
    XCTAssertEqual(calls, 1)
  }

  /// End to end: the OpenCL device runs out of memory part-way through a
  /// GramJob; the file written is the CPU's, and no temporary is left.
  func testGramJobFallsBackMidRun() throws {
    let cl = try freshOpenCL()
    let c = try GoldenCase("04_cnn_tiny_digits")
    let model = LoadedModel(network: c.network, parameters: c.parameters, modelPath: "04_cnn_tiny_digits")
    let dir = makeTempDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let options = GramOptions(mode: .trace)
    let cpuReport = try GramJob.run(model: model, inputs1: c.inputs, inputs2: nil, device: CPUDevice.shared,
                                    precision: .f32, options: options, output: dir + "/cpu.npy")
    XCTAssertEqual(cpuReport.device, "cpu")

    cl.allocationsBeforeInjectedFailure = 3  // parameters and a few buffers, then "full"
    var warnings: [String] = []
    let report = try GramJob.run(model: model, inputs1: c.inputs, inputs2: nil, device: cl, precision: .f32,
                                 options: options, output: dir + "/auto.npy", fallback: { warnings.append($0) })
    XCTAssertEqual(report.device, "cpu")
    XCTAssertEqual(warnings.count, 1, "\(warnings)")
    XCTAssertEqual(try NPY.read(dir + "/auto.npy").doubles(), try NPY.read(dir + "/cpu.npy").doubles())
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["auto.npy", "cpu.npy"])

    // The same failure with an explicit device is an error and leaves no file.
    cl.allocationsBeforeInjectedFailure = 3
    XCTAssertThrowsError(try GramJob.run(model: model, inputs1: c.inputs, inputs2: nil, device: cl, precision: .f32,
                                         options: options, output: dir + "/explicit.npy")) {
      XCTAssertTrue(DeviceSelector.isRecoverable($0), "\($0)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/explicit.npy"))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 2)
  }

  /// forward and jacobian take the same `fallback` argument.
  func testForwardAndJacobianFallBack() throws {
    let cl = try freshOpenCL()
    let c = try GoldenCase("02_dense_tanh_ntk")
    var warnings: [String] = []
    cl.allocationsBeforeInjectedFailure = 1
    let y: [Float] = try NetworkEvaluation.forward(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                   device: cl, fallback: { warnings.append($0) })
    cl.allocationsBeforeInjectedFailure = 1
    let j: [Float] = try NetworkEvaluation.jacobian(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                    device: cl, fallback: { warnings.append($0) })
    XCTAssertEqual(warnings.count, 2)
    XCTAssertEqual(y, try NetworkEvaluation.forward(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                    device: CPUDevice.shared))
    XCTAssertEqual(j, try NetworkEvaluation.jacobian(network: c.network, parameters: c.parameters, inputs: c.inputs,
                                                     device: CPUDevice.shared))
  }
}
