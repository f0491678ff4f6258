import Foundation
import XCTest

/// `ntk demo` and `ntk bench` flags: a tiny demo runs and writes its outputs;
/// malformed values are usage errors (2), a missing data folder a failure (1).
final class DemoBenchCLITests: XCTestCase {
  func testTinyDemoWritesSummaryAndFigures() throws {
    let dir = NTKBinary.tempDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let root = NTKBinary.packageRoot
    let r = try NTKBinary.run(["demo", "--sizes", "5", "--runs", "2", "--data-dir", root + "/Data",
                               "--models-dir", root + "/Models", "--out-dir", dir])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("NTK of the whole pool (272 points"), r.stdout)
    XCTAssertTrue(r.stdout.contains("rnd       5"), r.stdout)
    XCTAssertTrue(r.stdout.contains("random    5"), r.stdout)
    for f in ["runs.csv", "summary.csv", "summary.json", "figure_test_loss.svg", "figure_ntk.svg"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
    }
  }

  func testBadFlags() throws {
    let dir = NTKBinary.tempDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let sizes = try NTKBinary.run(["demo", "--sizes", "0", "--out-dir", dir])
    XCTAssertEqual(sizes.status, 2, sizes.stderr)
    XCTAssertTrue(sizes.stderr.contains("--sizes"), sizes.stderr)
    let missing = try NTKBinary.run(["demo", "--data-dir", dir + "/nope", "--out-dir", dir])
    XCTAssertEqual(missing.status, 1, missing.stderr)
    XCTAssertTrue(missing.stderr.contains(dir + "/nope"), missing.stderr)
    let net = try NTKBinary.run(["bench", "--nets", "resnet", "--quick"])
    XCTAssertEqual(net.status, 2, net.stderr)
    XCTAssertTrue(net.stderr.contains("resnet"), net.stderr)
    let n = try NTKBinary.run(["bench", "--nets", "fuel", "--sizes", "0"])
    XCTAssertEqual(n.status, 2, n.stderr)
  }
}
