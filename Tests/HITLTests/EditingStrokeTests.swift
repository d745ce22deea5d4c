import XCTest
@testable import HITL

/// Brush strokes against coverage fractions worked out by hand (see StrokeCoverage.swift for the
/// 4×4 sub-sample rule) and against an independent, much finer grid.
final class EditingStrokeTests: XCTestCase {
    func testQuarterDiscCoverageCountedByHand() {
        // 4×4 image, 2×2 map: each cell is 2×2 pixels = 8×8 sub-samples at offsets (k+0.5)/4.
        // Disc at the image centre (2,2), radius 1. In cell (0,0) the distances to the centre along
        // each axis are 1/8, 3/8, 5/8, 7/8 (and larger); in eighths: pairs (a,b) from {1,3,5,7}
        // with a²+b² ≤ 64: a=1 → 4, a=3 → 4, a=5 → 3 (b=1,3,5), a=7 → 2 (b=1,3); 13 of 64.
        let map = AttentionMap(height: 2, width: 2, fill: 0)
        let stroke = BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(2, 2)])
        let out = applyStroke(stroke, to: map, imageWidth: 4, imageHeight: 4)
        for v in out.values { XCTAssertEqual(v, 13.0 / 64.0, accuracy: 1e-7) }
        // Same coverage moves a 0.5 cell a fraction 13/64 of the way to 1.
        let half = applyStroke(stroke, to: AttentionMap(height: 2, width: 2, fill: 0.5), imageWidth: 4, imageHeight: 4)
        for v in half.values { XCTAssertEqual(v, 0.5 + 13.0 / 64.0 * 0.5, accuracy: 1e-7) }
    }

    /// Strength s scales how far a covered cell moves: a full cover at s = 1/3 takes 0 to 1/3, a
    /// second dab to 1/3 + 2/3·1/3 = 5/9; a partial cover f moves s·f of the way.
    func testStrengthScalesTheMove() {
        let full = BrushStroke(tool: .paint, radius: 100, points: [BrushPoint(2, 2)], strength: 1.0 / 3)
        let once = applyStroke(full, to: AttentionMap(height: 2, width: 2, fill: 0), imageWidth: 4, imageHeight: 4)
        for v in once.values { XCTAssertEqual(v, 1.0 / 3, accuracy: 1e-6) }
        let twice = applyStroke(full, to: once, imageWidth: 4, imageHeight: 4)
        for v in twice.values { XCTAssertEqual(v, 5.0 / 9, accuracy: 1e-6) }
        let erase = BrushStroke(tool: .erase, radius: 1, points: [BrushPoint(2, 2)], strength: 0.5)
        let part = applyStroke(erase, to: AttentionMap(height: 2, width: 2, fill: 0.8), imageWidth: 4, imageHeight: 4)
        for v in part.values { XCTAssertEqual(v, 0.8 - 0.5 * 13.0 / 64.0 * 0.8, accuracy: 1e-6) }
    }

    func testFractionalCellWidthsAssignSubsamplesByPosition() {
        // 3×1 image, 2×1 map: cells are 1.5 pixels wide. Sub-sample x positions 0.125…1.375 fall in
        // cell 0 and 1.625…2.875 in cell 1. A disc at (0, 0.5) of radius 1.5 reaches every cell-0
        // sub-sample (farthest: 1.375² + 0.375² = 2.03 ≤ 2.25) and no cell-1 one (1.625² = 2.64).
        let f = StrokeCoverage.fractions(of: BrushStroke(tool: .paint, radius: 1.5, points: [BrushPoint(0, 0.5)]),
                                         mapWidth: 2, mapHeight: 1, imageWidth: 3, imageHeight: 1)
        XCTAssertEqual(f, [1, 0])
    }

    func testEraseMovesTowardZero() {
        let map = AttentionMap(height: 2, width: 2, values: [0.8, 0.4, 1, 0])
        let all = applyStroke(BrushStroke(tool: .erase, radius: 100, points: [BrushPoint(2, 2)]),
                              to: map, imageWidth: 4, imageHeight: 4)
        XCTAssertEqual(all.values, [0, 0, 0, 0])
        let part = applyStroke(BrushStroke(tool: .erase, radius: 1, points: [BrushPoint(2, 2)]),
                               to: map, imageWidth: 4, imageHeight: 4)
        let f: Float = 13.0 / 64.0
        for (v, w) in zip(part.values, map.values) { XCTAssertEqual(v, w - f * w, accuracy: 1e-6) }
    }

    func testDragBetweenPointsLeavesNoGaps() {
        // Two far-apart centres on a 32×32 image with a 16×16 map. The capsule between them covers
        // every column of map row 4 (y ∈ [8,10)) between the ends equally: the band y ∈ [8, 9].
        let stroke = BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(2, 8), BrushPoint(30, 8)])
        let f = StrokeCoverage.fractions(of: stroke, mapWidth: 16, mapHeight: 16, imageWidth: 32, imageHeight: 32)!
        // Rows 8..<9 of sub-samples: y positions 8.125…8.875 (4 of the cell's 8 rows); all columns.
        for c in 2...13 { XCTAssertEqual(f[4 * 16 + c], 0.5, accuracy: 1e-12, "column \(c)") }
        for c in 2...13 { XCTAssertEqual(f[3 * 16 + c], 0.5, accuracy: 1e-12, "column \(c)") }
        XCTAssertEqual(f[5 * 16 + 8], 0)
        // The two end discs alone would leave the middle untouched.
        let ends = StrokeCoverage.fractions(of: BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(2, 8)]),
                                            mapWidth: 16, mapHeight: 16, imageWidth: 32, imageHeight: 32)!
        XCTAssertEqual(ends[4 * 16 + 8], 0)
    }

    func testCoverageAgreesWithIndependentFineGrid() {
        // Fractional cells (7×5 image, 3×2 map), a bent three-point stroke. The reference counts a
        // 64×64-per-pixel grid against the capsule union; 4×4 supersampling must agree closely.
        let stroke = BrushStroke(tool: .paint, radius: 1.3, points: [BrushPoint(1.2, 1.1), BrushPoint(4.7, 2.2), BrushPoint(5.5, 4.4)])
        let f = StrokeCoverage.fractions(of: stroke, mapWidth: 3, mapHeight: 2, imageWidth: 7, imageHeight: 5)!
        let reference = fineCoverage(stroke, mapW: 3, mapH: 2, imageW: 7, imageH: 5, perPixel: 64)
        XCTAssertTrue(reference.contains { $0 > 0.2 } && reference.contains { $0 < 0.2 }, "stroke covers cells unevenly")
        for i in 0..<6 { XCTAssertEqual(f[i], reference[i], accuracy: 0.03, "cell \(i)") }
    }

    func testBadInputNeverCrashesAndChangesNothing() {
        let map = AttentionMap(height: 2, width: 2, values: [0.1, 0.2, 0.3, 0.4])
        let ok = BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(2, 2)])
        let malformed = AttentionMap(height: 2, width: 3, values: [0.1])
        XCTAssertEqual(applyStroke(ok, to: malformed, imageWidth: 4, imageHeight: 4), malformed)
        XCTAssertEqual(applyStroke(ok, to: map, imageWidth: 0, imageHeight: 4), map)
        XCTAssertEqual(applyStroke(ok, to: map, imageWidth: -3, imageHeight: -1), map)
        XCTAssertEqual(applyStroke(ok, to: map, imageWidth: 1 << 30, imageHeight: 4), map)
        for radius in [-1.0, 0, .nan, .infinity] {
            XCTAssertEqual(applyStroke(BrushStroke(tool: .paint, radius: radius, points: [BrushPoint(2, 2)]),
                                       to: map, imageWidth: 4, imageHeight: 4), map, "radius \(radius)")
        }
        XCTAssertEqual(applyStroke(BrushStroke(tool: .paint, radius: 1, points: []), to: map, imageWidth: 4, imageHeight: 4), map)
        XCTAssertEqual(applyStroke(BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(.nan, 1), BrushPoint(-50, 1e300)]),
                                   to: map, imageWidth: 4, imageHeight: 4), map)
        // Out-of-range and NaN map values come back clamped.
        let wild = AttentionMap(height: 1, width: 2, values: [.nan, 7])
        XCTAssertEqual(applyStroke(BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(-9, -9)]),
                                   to: wild, imageWidth: 2, imageHeight: 1).values, [0, 1])
    }

    /// Independent reference: fraction of a fine grid of points in each cell within `radius` of
    /// the polyline, with the cell boundaries taken from the real-valued cell size.
    private func fineCoverage(_ stroke: BrushStroke, mapW: Int, mapH: Int, imageW: Int, imageH: Int, perPixel: Int) -> [Double] {
        var inside = [Int](repeating: 0, count: mapW * mapH), total = inside
        let cellW = Double(imageW) / Double(mapW), cellH = Double(imageH) / Double(mapH)
        let p = stroke.points
        for j in 0..<(imageH * perPixel) {
            let y = (Double(j) + 0.5) / Double(perPixel)
            for i in 0..<(imageW * perPixel) {
                let x = (Double(i) + 0.5) / Double(perPixel)
                let cell = min(mapH - 1, Int(y / cellH)) * mapW + min(mapW - 1, Int(x / cellW))
                total[cell] += 1
                var best = Double.infinity
                for k in 1..<p.count {
                    let ax = p[k - 1].x, ay = p[k - 1].y, bx = p[k].x, by = p[k].y
                    let t = max(0, min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))))
                    best = min(best, ((x - ax - t * (bx - ax)) * (x - ax - t * (bx - ax)) + (y - ay - t * (by - ay)) * (y - ay - t * (by - ay))).squareRoot())
                }
                if best <= stroke.radius { inside[cell] += 1 }
            }
        }
        return zip(inside, total).map { Double($0) / Double($1) }
    }
}
