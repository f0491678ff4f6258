import XCTest
@testable import NTKit

/// NTKIT_ISA / NTKIT_THREADS parsing: defaults, capping to the CPU, and one-line errors.
final class CPUConfigurationTests: XCTestCase {
  func testDefaultsAreTheWidestInstructionSetAndTheOnlineCores() throws {
    let config = try CPUConfiguration.parse(isa: nil, threads: "")
    XCTAssertEqual(config.instructionSet, CPUInstructionSet.widestSupported)
    XCTAssertEqual(config.threads, CPUConfiguration.onlineCores)
  }

  func testRequestedInstructionSetIsCappedToTheCPU() throws {
    XCTAssertEqual(try CPUConfiguration.parse(isa: "baseline", threads: nil).instructionSet, .baseline)
    let avx512 = try CPUConfiguration.parse(isa: "AVX512", threads: nil).instructionSet
    XCTAssertEqual(avx512, min(.avx512, CPUInstructionSet.widestSupported))
    XCTAssertEqual(try CPUConfiguration.parse(isa: nil, threads: "3").threads, 3)
  }

  func testInvalidSettingsAreRefusedWithTheVariableName() {
    XCTAssertThrowsError(try CPUConfiguration.parse(isa: "sse9", threads: nil)) { error in
      XCTAssertTrue("\(error)".contains("NTKIT_ISA"), "\(error)")
      XCTAssertTrue("\(error)".contains("sse9"), "\(error)")
    }
    for bad in ["0", "-2", "two", "1e3"] {
      XCTAssertThrowsError(try CPUConfiguration.parse(isa: nil, threads: bad)) { error in
        XCTAssertTrue("\(error)".contains("NTKIT_THREADS"), "\(error)")
      }
    }
  }
}
