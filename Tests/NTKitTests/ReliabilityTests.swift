import Foundation
import XCTest
@testable import NTKit
@testable import NTKitIO
import NTKitBench
#if canImport(Glibc)
import Glibc
#endif

/// The output-commit layer, guarded mappings and strict parsers of issue 16,
/// in process: staged outputs, sweeping dead temporaries, file identity,
/// a pool truncated under its mapping, safetensors as strict as the
/// reference, scalers matched by column name, sizes checked before allocation.
final class ReliabilityTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "ntkit-rel-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    OutputTransaction.abort()
    try? FileManager.default.removeItem(atPath: dir)
  }

  func file(_ name: String) -> String { dir + "/" + name }
  func exists(_ p: String) -> Bool { var s = stat(); return lstat(p, &s) == 0 }
  func listing() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

  // MARK: - Output transaction

  func testTransactionCommitsAllOrNothing() throws {
    OutputTransaction.begin()
    try AtomicFile.write(file("a.txt"), text: "a")
    try NPY.write(file("b.npy"), shape: [2], floats: [1, 2])
    XCTAssertFalse(exists(file("a.txt")) || exists(file("b.npy")), "nothing visible before the commit")
    XCTAssertEqual(listing().filter { $0.hasPrefix(".ntk-") }.count, 2)
    try OutputTransaction.commit()
    XCTAssertEqual(listing(), ["a.txt", "b.npy"])

    OutputTransaction.begin()
    try AtomicFile.write(file("a.txt"), text: "new")
    try AtomicFile.write(file("c.txt"), text: "c")
    OutputTransaction.abort()
    XCTAssertEqual(listing(), ["a.txt", "b.npy"])
    XCTAssertEqual(try String(contentsOfFile: file("a.txt"), encoding: .utf8), "a")
  }

  func testTwoOutputsOfOneCommandCannotShareAFile() throws {
    OutputTransaction.begin()
    try AtomicFile.write(file("x"), text: "1")
    XCTAssertThrowsError(try AtomicFile.write(dir + "/./x", text: "2")) { e in
      XCTAssertTrue("\(e)".contains("same file"), "\(e)")
    }
    // A checkpoint, written now, may be rewritten.
    try AtomicFile.writeNow(file("ck"), text: "1")
    try AtomicFile.writeNow(file("ck"), text: "2")
    XCTAssertEqual(try String(contentsOfFile: file("ck"), encoding: .utf8), "2")
    OutputTransaction.abort()
    XCTAssertEqual(listing(), ["ck"])
  }

  func testNonFiniteArraysAreNeverWritten() {
    XCTAssertThrowsError(try NPY.write(file("n.npy"), shape: [2], floats: [1, .nan])) { e in
      XCTAssertTrue("\(e)".contains("--precision f64"), "\(e)")
    }
    XCTAssertThrowsError(try NPY.withMappedOutput(file("m.npy"), shape: [2]) { $0[0] = 1; $0[1] = .infinity })
    XCTAssertThrowsError(try Safetensors.write(file("w.st"), tensors: [NamedTensor(name: "a", shape: [1], values: [.nan])]))
    XCTAssertEqual(listing(), [])
  }

  // MARK: - Temporaries

  func testTemporaryNamesAndSweep() throws {
    XCTAssertEqual(TemporaryFile.ownerPID(".ntk-123-0123456789abcdef.tmp"), 123)
    XCTAssertNil(TemporaryFile.ownerPID(".ntk-123-0123.tmp"))
    XCTAssertNil(TemporaryFile.ownerPID("k.npy.tmp-123"))
    let (fd, tmp) = try TemporaryFile.create(for: file(String(repeating: "z", count: 255)), readWrite: false)
    close(fd)
    XCTAssertLessThan(tmp.split(separator: "/").last!.utf8.count, 64)
    // A dead process's temporary is swept; ours and a live one's (pid 1) stay; a symlink is never touched.
    let dead = ".ntk-999999-00000000000000aa.tmp", live = ".ntk-1-00000000000000bb.tmp", link = ".ntk-999998-00000000000000cc.tmp"
    FileManager.default.createFile(atPath: file(dead), contents: Data([1]))
    FileManager.default.createFile(atPath: file(live), contents: Data([1]))
    XCTAssertEqual(symlink(file("victim"), file(link)), 0)
    XCTAssertEqual(TemporaryFile.sweep(dir), [dead])
    XCTAssertTrue(exists(tmp) && exists(file(live)) && exists(file(link)))
    unlink(tmp)
  }

  func testFileIdentity() throws {
    FileManager.default.createFile(atPath: file("in"), contents: Data([1]))
    XCTAssertEqual(link(file("in"), file("hard")), 0)
    XCTAssertEqual(symlink(file("in"), file("soft")), 0)
    let input = [FileIdentity.Role("--inputs", file("in"))]
    XCTAssertNotNil(FileIdentity.firstConflict(inputs: input, outputs: [.init("--out", file("hard"))]))
    XCTAssertNotNil(FileIdentity.firstConflict(inputs: input, outputs: [.init("--out", file("soft"))]))
    XCTAssertNotNil(FileIdentity.firstConflict(inputs: [], outputs: [.init("--out", file("new")), .init("--report", dir + "/../" + URL(fileURLWithPath: dir).lastPathComponent + "/new")]))
    XCTAssertNil(FileIdentity.firstConflict(inputs: input, outputs: [.init("--out", file("new"))]))
    XCTAssertNil(FileIdentity.firstConflict(inputs: [.init("--weights", file("in"))], outputs: [.init("--out", file("in"))],
                                            allowed: [("--weights", "--out")]))
  }

  // MARK: - Guarded mapping

  func testTruncatedMappingIsAnErrorNotABusError() throws {
    let p = file("pool.npy")
    try NPY.write(p, shape: [4096, 4], floats: (0..<(4096 * 4)).map { Float($0) })
    let m = try MappedNPY(path: p)
    var row = [Float](repeating: 0, count: 4)
    try m.copyRows(4000..<4001, into: &row)
    XCTAssertEqual(row[0], 16000)
    XCTAssertEqual(truncate(p, 128), 0)
    // The fstat check names the file...
    XCTAssertThrowsError(try m.copyRows(4000..<4001, into: &row)) { XCTAssertTrue("\($0)".contains("pool.npy"), "\($0)") }
    // ...and the SIGBUS guard catches a read past the new end of the file.
    XCTAssertThrowsError(try row.withUnsafeMutableBytes { try m.guardedCopy(offset: 60_000, count: 16, into: $0.baseAddress!) }) {
      XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
    }
  }

  // MARK: - Safetensors as strict as the reference

  func safetensors(_ header: String, data: Int) -> [UInt8] {
    var h = Array(header.utf8)
    while h.count % 8 != 0 { h.append(0x20) }
    return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: data)
  }

  func testSafetensorsRejectsTrailingBytesGapsAndFloatOffsets() throws {
    let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    try Data(safetensors(good, data: 12)).write(to: URL(fileURLWithPath: file("ok.st")))
    XCTAssertEqual(try Safetensors.read(file("ok.st")).count, 2)
    let bad: [(String, Int, String)] = [
      (good, 16, "unexpected bytes"),
      (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, 16, "gaps"),
      (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8]}}"#, 8, "integers"),
      (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, 8, "integers"),
      (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}}"#, 8, "integers"),
    ]
    for (i, (header, data, message)) in bad.enumerated() {
      let p = file("bad\(i).st")
      try Data(safetensors(header, data: data)).write(to: URL(fileURLWithPath: p))
      XCTAssertThrowsError(try Safetensors.read(p), "case \(i)") { XCTAssertTrue("\($0)".contains(message), "case \(i): \($0)") }
    }
  }

  // MARK: - Scalers, kernels, sizes

  func testScalerMatchesColumnsByName() throws {
    let s = Standardizer(columns: ["a", "b", "c"], mean: [1, 2, 3], std: [10, 20, 30])
    let m = try s.matching(columns: ["c", "a"], path: "s.json")
    XCTAssertEqual(m.mean, [3, 1]); XCTAssertEqual(m.std, [30, 10])
    XCTAssertThrowsError(try s.matching(columns: ["a", "z"], path: "s.json")) { XCTAssertTrue("\($0)".contains("'z'"), "\($0)") }
    XCTAssertEqual(try s.matching(columns: [], path: "s.json"), s)
  }

  func testStatsRefusesIntegerKernels() throws {
    try NPY.write(file("u.npy"), shape: [2, 2], uint8s: [1, 0, 0, 1])
    XCTAssertThrowsError(try KernelFile.read(file("u.npy"))) { XCTAssertTrue("\($0)".contains("|u1"), "\($0)") }
    try NPY.write(file("f.npy"), shape: [2, 2], floats: [1, 0, 0, 1])
    XCTAssertEqual(try KernelFile.read(file("f.npy")).n, 2)
  }

  func testHugeSpecsAreRefusedBeforeAllocation() throws {
    let dense = ModelSpec(inputShape: [7], layers: [.dense(units: 1_000_000_000_000, bias: true, wStd: 1, bStd: 1)])
    XCTAssertThrowsError(try Network(spec: dense, source: "big.json")) { e in
      XCTAssertTrue("\(e)".contains("layer 0") && "\(e)".contains("needs"), "\(e)")
    }
    let overflow = ModelSpec(inputShape: [Int.max / 2, 4, 1], layers: [.flatten, .dense(units: 1, bias: true, wStd: 1, bStd: 1)])
    XCTAssertThrowsError(try Network(spec: overflow, source: "big.json")) { XCTAssertTrue("\($0)".contains("overflow"), "\($0)") }
    XCTAssertThrowsError(try NTKBench.sgemm(device: CPUDevice.shared, n: 1_000_000)) { XCTAssertTrue("\($0)".contains("--gemm-size"), "\($0)") }
  }

  func testSpecHandlingIsLinearInLayerCount() throws {
    let layers: [LayerSpec] = [.dense(units: 4, bias: true, wStd: 1, bStd: 1)]
      + Array(repeating: .activation(.relu), count: 200_001) + [.dense(units: 1, bias: true, wStd: 1, bStd: 1)]
    let t0 = monotonicSeconds()
    let network = try Network(spec: ModelSpec(inputShape: [7], layers: layers))
    _ = GramPlan(network: network, mode: .trace)
    XCTAssertEqual(network.widths.count, 200_003)
    XCTAssertLessThan(monotonicSeconds() - t0, 30)
  }
}
