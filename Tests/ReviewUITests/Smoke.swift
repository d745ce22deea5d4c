import XCTest
@testable import ReviewUI
final class ReviewUITestsSmoke: XCTestCase { func testModuleLoads() { XCTAssertTrue(true) } }
