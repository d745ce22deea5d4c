import XCTest
import Dispatch
import HITL
@testable import ReviewUI

/// Measures a full redraw at 120×40 (render to cells + the diff the backend does before flushing).
/// Reports the time; wall-clock is not asserted (the machine is shared).
final class RenderBenchmarkTests: XCTestCase {
    func testReportRedrawTime120x40() {
        for (side, mapSide) in [(32, 16), (224, 14)] {
            let map = AttentionMap(height: mapSide, width: mapSide, values: (0..<(mapSide * mapSide)).map { Float($0 % 7) / 6 })
            let samples = (0..<200).map { Fixture.sample(index: $0, map: map) }
            let backend = MemoryBackend(classNames: Fixture.classes, samples: samples,
                                        images: [0: Fixture.image(width: side, height: side)])
            var state = ReviewDriver(backend: backend, annotator: "bench").state
            let size = TerminalSize(columns: 120, rows: 40)
            var previous = render(state, size: size)
            let runs = 20
            var best = Double.infinity, total = 0.0
            var changed = 0
            for i in 0..<runs {
                state.cursor = BrushPoint(Double(side) * Double(i % 5 + 1) / 7, Double(side) / 2)
                let start = DispatchTime.now().uptimeNanoseconds
                let grid = render(state, size: size)
                changed = zip(grid.cells, previous.cells).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                previous = grid
                best = min(best, ms)
                total += ms
            }
            print("redraw 120x40, \(side)x\(side) image, \(mapSide)x\(mapSide) map: best \(String(format: "%.2f", best)) ms, mean \(String(format: "%.2f", total / Double(runs))) ms (render + diff, \(changed) cells changed)")
            XCTAssertEqual(previous.columns, 120)
        }
    }
}
