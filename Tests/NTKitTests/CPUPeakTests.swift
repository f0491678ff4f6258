import XCTest
import NTKit
@testable import NTKitBench

/// `ntk bench`'s CPU peak: cores × FMA units × lanes × 2 × clock, per instruction set.
final class CPUPeakTests: XCTestCase {
  func facts(vendor: String, family: Int) -> CPUPeak.Facts {
    CPUPeak.Facts(cores: 2, clockMHz: 3000, vendor: vendor, family: family, model: "test", nominalMHz: 2500, measuredMHz: 3000)
  }

  func testEstimatePerInstructionSet() {
    let intel = facts(vendor: "GenuineIntel", family: 6), zen4 = facts(vendor: "AuthenticAMD", family: 25)
    XCTAssertEqual(CPUPeak.estimate(intel, isa: .avx512).gflops, 2 * 2 * 16 * 2 * 3.0, accuracy: 1e-9)
    XCTAssertEqual(CPUPeak.estimate(intel, isa: .avx2).gflops, 2 * 2 * 8 * 2 * 3.0, accuracy: 1e-9)
    // Zen 4 runs 512-bit operations as two 256-bit halves: the AVX2 peak.
    XCTAssertEqual(CPUPeak.estimate(zen4, isa: .avx512).gflops, 2 * 2 * 8 * 2 * 3.0, accuracy: 1e-9)
    XCTAssertEqual(CPUPeak.estimate(zen4, isa: .baseline).gflops, 2 * 1 * 4 * 2 * 3.0, accuracy: 1e-9)
    let source = CPUPeak.estimate(zen4, isa: .avx2).source
    XCTAssertTrue(source.contains("2 cores") && source.contains("3000 MHz"), source)
  }

  func testThisMachineHasAnEstimateWithAPlausibleClock() throws {
    #if arch(x86_64)
    let f = try XCTUnwrap(CPUPeak.facts(), "/proc/cpuinfo gives a clock")
    XCTAssertGreaterThan(f.clockMHz, 500)
    XCTAssertLessThan(f.measuredMHz, 10_000)
    XCTAssertNotNil(DevicePeak.estimate(CPUDevice.shared.info), "the CPU device has a peak")
    #endif
  }
}
