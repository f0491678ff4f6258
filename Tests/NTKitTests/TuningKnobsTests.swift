import NTKit
import XCTest

/// The environment's tuning knobs are parsed in one place; invalid values name the variable.
final class TuningKnobsTests: XCTestCase {
  func knobs(_ env: [String: String]) throws -> TuningKnobs { try TuningKnobs.parse { env[$0] } }

  func testDefaultsWithoutVariables() throws {
    XCTAssertEqual(try knobs([:]), TuningKnobs())
    XCTAssertTrue(TuningKnobs().mpiCollectiveWrite)
    XCTAssertFalse(TuningKnobs().openCLGemmTiledOnCPU)
  }

  func testValidSettings() throws {
    let k = try knobs(["NTKIT_GEMM_KERNEL": "tiled", "NTKIT_GEMM_TILES": "64,64,16,8,4", "NTKIT_GEMM_BLOCK": "8, 16",
                       "NTKIT_GEMM_BLOCK_LOCAL": "4,8", "NTKIT_MPI_WRITE": "rows"])
    XCTAssertTrue(k.openCLGemmTiledOnCPU)
    XCTAssertEqual(k.openCLGemmTiles, [64, 64, 16, 8, 4])
    XCTAssertEqual(k.openCLGemmBlock, [8, 16])
    XCTAssertEqual(k.openCLGemmBlockLocal, [4, 8])
    XCTAssertFalse(k.mpiCollectiveWrite)
  }

  func testInvalidSettingsNameTheVariableAndTheExpectation() {
    let cases: [(String, String, String)] = [
      ("NTKIT_GEMM_KERNEL", "fast", "tiled or block"),
      ("NTKIT_GEMM_TILES", "64,64,16,7,4", "tm % wptm"),
      ("NTKIT_GEMM_TILES", "64,64", "5 positive integers"),
      ("NTKIT_GEMM_BLOCK", "8,3", "rbn one of 2, 4, 8, 16"),
      ("NTKIT_GEMM_BLOCK_LOCAL", "4,x", "2 positive integers"),
      ("NTKIT_MPI_WRITE", "sometimes", "rows or collective"),
    ]
    for (name, value, expected) in cases {
      XCTAssertThrowsError(try knobs([name: value]), "\(name)=\(value)") { error in
        let text = "\(error)"
        XCTAssertTrue(text.contains(name) && text.contains(expected), text)
      }
    }
  }
}
