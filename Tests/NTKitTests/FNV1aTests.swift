@testable import NTKit
import XCTest

/// The project's one FNV-1a and one SplitMix64 give the published values.
final class FNV1aTests: XCTestCase {
  func testPublishedVectors() {
    var empty = FNV1a()
    empty.add(bytesOf: "")
    XCTAssertEqual(empty.value, 0xCBF2_9CE4_8422_2325)
    var a = FNV1a()
    a.add(bytesOf: "a")
    XCTAssertEqual(a.value, 0xAF63_DC4C_8601_EC8C)
    var foobar = FNV1a()
    foobar.add(bytesOf: "foobar")
    XCTAssertEqual(foobar.value, 0x8594_4171_F739_67E8)
  }

  func testWordIsItsEightBytesLeastSignificantFirst() {
    var w = FNV1a(), b = FNV1a()
    w.add(word: 0x0102_0304_0506_0708)
    for byte: UInt8 in [8, 7, 6, 5, 4, 3, 2, 1] { b.add(byte: byte) }
    XCTAssertEqual(w, b)
  }

  func testSplitMix64ReferenceSequence() {
    // First outputs for seed 1234567 (Vigna's splitmix64.c).
    var s = SplitMix64(seed: 1_234_567)
    XCTAssertEqual(s.next(), 6_457_827_717_110_365_317)
    XCTAssertEqual(s.next(), 3_203_168_211_198_807_973)
  }
}
