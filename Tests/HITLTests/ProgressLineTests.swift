import XCTest
@testable import HITL

/// The progress line's pieces on hand-worked values.
final class ProgressLineTests: XCTestCase {
    func testRateKeepsItsDigitsBelowTenAndTurnsIntoTimePerItemBelowOne() {
        XCTAssertEqual(ProgressLine.rate(123.4, unit: "img"), "123 img/s")
        XCTAssertEqual(ProgressLine.rate(9.96, unit: "img"), "10 img/s")
        XCTAssertEqual(ProgressLine.rate(2.46, unit: "batch"), "2.5 batch/s")
        XCTAssertEqual(ProgressLine.rate(1, unit: "batch"), "1.0 batch/s")
        // A ResNet-50 fine-tuning step of 3.2 s: not "0 batch/s".
        XCTAssertEqual(ProgressLine.rate(1 / 3.2, unit: "batch"), "3.2 s/batch")
        XCTAssertEqual(ProgressLine.rate(0, unit: "img"), "- img/s")
        XCTAssertEqual(ProgressLine.rate(.infinity, unit: "img"), "- img/s")
    }

    func testRenderedLine() {
        // 30 of 40 batches left at 0.25 batch/s: 120 s.
        XCTAssertEqual(ProgressLine.render(label: "finetune", done: 10, total: 40, detail: "map loss 4.5", rate: 0.25,
                                           unit: "batch", barWidth: 8),
                       "finetune [##......] 10/40 map loss 4.5 4.0 s/batch ETA 2:00")
        XCTAssertEqual(ProgressLine.render(label: "eval", done: 0, total: 5, detail: "", rate: 0, unit: "img", barWidth: 0),
                       "eval 0/5 - img/s ETA --:--")
    }

    func testDuration() {
        XCTAssertEqual(ProgressLine.duration(3723), "1:02:03")
        XCTAssertEqual(ProgressLine.duration(245), "4:05")
        XCTAssertEqual(ProgressLine.duration(-1), "--:--")
    }
}
