import XCTest
import HITL
@testable import ReviewUI

/// The `c` key: the backend's class activation map instead of the attention map, read-only.
final class ClassMapViewTests: XCTestCase {
    func testCShowsTheClassMapReadOnlyAndBack() {
        let backend = Fixture.backend(mapValue: 0.25)
        backend.classMapName = "gradcam"
        var d = ReviewDriver(backend: backend, annotator: "t")
        XCTAssertEqual(actions(for: .key(.character("c")), in: d.state, size: TerminalSize(columns: 100, rows: 30)), [.toggleClassMap])
        XCTAssertTrue(backend.classMapCalls.isEmpty, "computed only when asked for")

        d.send(.toggleClassMap)
        XCTAssertTrue(d.state.showClassMap)
        XCTAssertEqual(backend.classMapCalls, [7])
        XCTAssertEqual(d.state.displayedMap, AttentionMap(height: 2, width: 2, fill: 0.7))
        XCTAssertTrue(statusLines(d.state)[2].contains("view blend gradcam"), statusLines(d.state)[2])
        let grid = render(d.state, size: TerminalSize(columns: 100, rows: 30))
        XCTAssertTrue(grid.lines[0].contains("[blend, gradcam (read-only)]"), grid.lines[0])

        // Read-only: brush, drag, undo and reset change nothing and say why.
        for action in [ReviewAction.applyBrush, .beginStroke(.paint, BrushPoint(x: 1, y: 1)), .undo, .redo, .reset] {
            d.send(action)
            XCTAssertEqual(d.state.message, "gradcam is read-only: c shows the attention map again", "\(action)")
        }
        XCTAssertTrue(backend.commits.isEmpty)
        XCTAssertNil(d.state.stroke)

        // Another sample while shown: its own map; coming back needs no new computation.
        d.send(.nextSample)
        XCTAssertEqual(backend.classMapCalls, [7, 8])
        XCTAssertEqual(d.state.displayedMap, AttentionMap(height: 2, width: 2, fill: 0.8))
        d.send(.previousSample)
        XCTAssertEqual(backend.classMapCalls, [7, 8])

        // c again: the attention map, editable.
        d.send(.toggleClassMap)
        XCTAssertFalse(d.state.showClassMap)
        XCTAssertEqual(d.state.displayedMap, AttentionMap(height: 2, width: 2, fill: 0.25))
        d.send(.applyBrush)
        XCTAssertEqual(backend.commits.count, 1)
    }

    func testWithoutAClassMapTheKeySaysSo() {
        var d = ReviewDriver(backend: Fixture.backend(), annotator: "t")
        d.send(.toggleClassMap)
        XCTAssertFalse(d.state.showClassMap)
        XCTAssertEqual(d.state.message, "no class activation map (the backend offers none)")
    }

    func testAFailedClassMapIsAMessage() {
        let backend = Fixture.backend()
        backend.classMapName = "gradcam"
        backend.images[7] = Fixture.image(width: 4, height: 4)
        var d = ReviewDriver(backend: backend, annotator: "t")
        backend.classMapName = nil  // the backend now fails
        d.send(.toggleClassMap)
        XCTAssertTrue(d.state.showClassMap)
        XCTAssertNil(d.state.displayedMap, "nothing drawn over the image")
        XCTAssertEqual(d.state.message, "class map failed: no class map")
    }
}
