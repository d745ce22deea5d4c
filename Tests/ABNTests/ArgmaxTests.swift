import XCTest
@testable import ABN

/// The package's one argmax: first maximum on ties, NaN never wins, 0 when nothing can.
final class ArgmaxTests: XCTestCase {
    func testFirstMaximumAndNaN() {
        XCTAssertEqual(argmax([0.1, 0.7, 0.2]), 1)
        XCTAssertEqual(argmax([0.4, 0.1, 0.4, 0.4]), 0, "ties go to the first")
        XCTAssertEqual(argmax([0.1, 0.3, 0.3]), 1)
        XCTAssertEqual(argmax([-3, -1, -2]), 1, "logits may be negative")
        XCTAssertEqual(argmax([.nan, 0.2, 0.5]), 2, "a NaN in front does not stick")
        XCTAssertEqual(argmax([0.2, .nan, 0.1]), 0)
        XCTAssertEqual(argmax([.nan, .nan]), 0)
        XCTAssertEqual(argmax([]), 0)
    }

    func testLossCountsCorrectWithTheSameRule() {
        // Rows: max at 2 (label 2: right), tie 0/1 → 0 (label 1: wrong), max at 0 (label 0: right).
        let logits: [Float] = [0, 1, 3, 2, 2, -1, 5, 0, 0]
        XCTAssertEqual(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [2, 1, 0], classes: 3).correct, 2)
    }
}
