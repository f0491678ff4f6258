import XCTest
@testable import NTKit
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertFalse(NTKitVersion.string.isEmpty) } }
