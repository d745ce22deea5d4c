import XCTest
@testable import HITL

/// Attention metrics on a 4×4 map worked by hand.
final class MetricsTests: XCTestCase {
    // ΣM = 0.1 + 0.2 + 0.1 + 0.9 + 0.6 + 0.7 + 0.3 + 0.1 = 3.0
    let map: [Float] = [
        0.0, 0.1, 0.2, 0.0,
        0.1, 0.9, 0.6, 0.0,
        0.0, 0.7, 0.3, 0.0,
        0.0, 0.0, 0.1, 0.0,
    ]
    let mask: [Float] = [
        0, 0, 0, 0,
        0, 1, 1, 0,
        0, 1, 0.5, 0,
        0, 0, 0, 0,
    ]

    func testMassInMask() {
        // (0.9 + 0.6 + 0.7 + 0.3·0.5) / 3.0 = 2.35 / 3
        XCTAssertEqual(AttentionMetrics.massInMask(map: map, mask: mask), 2.35 / 3, accuracy: 1e-6)
        XCTAssertEqual(AttentionMetrics.massInMask(map: [Float](repeating: 0, count: 16), mask: mask), 0, "no attention: no mass")
    }

    func testPointingGame() {
        XCTAssertTrue(AttentionMetrics.pointingGame(map: map, mask: mask), "argmax 0.9 at (1,1) is in the mask")
        var shifted = mask
        shifted[5] = 0.4
        XCTAssertFalse(AttentionMetrics.pointingGame(map: map, mask: shifted), "mask 0.4 < 0.5 at the argmax")
        // Ties: 0.8 at (1,2) and (2,1): the first in row-major order, (1,2), decides.
        var tied = map
        tied[5] = 0; tied[6] = 0.8; tied[9] = 0.8
        var onlySecond = [Float](repeating: 0, count: 16); onlySecond[9] = 1
        var onlyFirst = [Float](repeating: 0, count: 16); onlyFirst[6] = 1
        XCTAssertFalse(AttentionMetrics.pointingGame(map: tied, mask: onlySecond))
        XCTAssertTrue(AttentionMetrics.pointingGame(map: tied, mask: onlyFirst))
    }

    func testIoU() {
        // M ≥ 0.5 = {(1,1), (1,2), (2,1)}; mask ≥ 0.5 = those and (2,2): 3 / 4.
        XCTAssertEqual(AttentionMetrics.iou(map: map, mask: mask), 0.75, accuracy: 1e-12)
        let zeros = [Float](repeating: 0, count: 16)
        XCTAssertEqual(AttentionMetrics.iou(map: zeros, mask: zeros), 1, "two empty sets agree")
        XCTAssertEqual(AttentionMetrics.iou(map: zeros, mask: mask), 0)
    }

    func testDecoyMass() {
        // Decoy: the top row. (0 + 0.1 + 0.2 + 0) / 3.0
        let decoy: [Float] = [1, 1, 1, 1] + [Float](repeating: 0, count: 12)
        XCTAssertEqual(AttentionMetrics.decoyMass(map: map, decoy: decoy), 0.1, accuracy: 1e-6)
    }

    func testMaskAtImageResolutionThroughTheMapGrid() {
        // An 8×8 mask whose white 2×2 block lands exactly on map cell (1,1): mass = 0.9/3, pointing hit, IoU 1/3.
        var big = [Float](repeating: 0, count: 64)
        for y in 2...3 { for x in 2...3 { big[y * 8 + x] = 1 } }
        let small = MapResampling.areaAverage(big, height: 8, width: 8, toHeight: 4, toWidth: 4)
        XCTAssertEqual(AttentionMetrics.massInMask(map: map, mask: small), 0.3, accuracy: 1e-6)
        XCTAssertTrue(AttentionMetrics.pointingGame(map: map, mask: small))
        XCTAssertEqual(AttentionMetrics.iou(map: map, mask: small), 1.0 / 3, accuracy: 1e-12)
    }
}
