import XCTest
@testable import NTKit
@testable import NTKitExperiments

final class StatisticsTests: XCTestCase {
  func testMeanSdAndStandardError() {
    XCTAssertEqual(Statistics.mean([1, 2, 3, 4]), 2.5)
    XCTAssertEqual(Statistics.sampleStandardDeviation([1, 2, 3, 4]), 1.2909944, accuracy: 1e-7)
    XCTAssertEqual(Statistics.standardError([1, 2, 3, 4]), 0.6454972, accuracy: 1e-7)
    XCTAssertEqual(Statistics.standardError([3.5]), 0)
    XCTAssertTrue(Statistics.mean([]).isNaN)
  }

  func testPearson() throws {
    let x: [Double] = [1, 2, 3, 4, 5]
    XCTAssertEqual(try XCTUnwrap(Statistics.pearson(x, x.map { 3 * $0 + 1 })), 1, accuracy: 1e-12)
    XCTAssertEqual(try XCTUnwrap(Statistics.pearson(x, x.map { -2 * $0 })), -1, accuracy: 1e-12)
    // Hand-computed: sxy = 6, sxx = 10, syy = 6 → r = 6 / √60.
    XCTAssertEqual(try XCTUnwrap(Statistics.pearson(x, [2, 4, 5, 4, 5])), 0.7745967, accuracy: 1e-7)
    XCTAssertNil(Statistics.pearson(x, [2, 2, 2, 2, 2]))
    XCTAssertNil(Statistics.pearson([1, 2], [1, 2, 3]))
  }

  func testRanksAndSpearmanWithTies() throws {
    XCTAssertEqual(Statistics.ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    // Ranks of y = [1, 2.5, 4.5, 2.5, 4.5]; sxy = 7, sxx = 10, syy = 9 → r = 7 / √90.
    let r = try XCTUnwrap(Statistics.spearman([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]))
    XCTAssertEqual(r, 0.7378648, accuracy: 1e-7)
    XCTAssertEqual(try XCTUnwrap(Statistics.spearman([1, 2, 3, 4], [1, 8, 27, 64])), 1, accuracy: 1e-12)
    XCTAssertNil(Statistics.spearman([1, 2, 3], [7, 7, 7]))
  }

  func testCorrelationMatrix() throws {
    let m = Statistics.correlationMatrix([[1, 2, 3], [3, 2, 1], [5, 5, 5]])
    XCTAssertEqual(m.count, 3)
    XCTAssertEqual(m[0][0], 1)
    XCTAssertEqual(try XCTUnwrap(m[0][1]), -1, accuracy: 1e-12)
    XCTAssertEqual(try XCTUnwrap(m[1][0]), -1, accuracy: 1e-12)
    XCTAssertNil(m[0][2])
    XCTAssertNil(m[2][2])
  }
}
