import XCTest
@testable import HITL

final class EditingHistoryTests: XCTestCase {
    private let original = AttentionMap(height: 1, width: 2, values: [0.2, 0.4])
    private let a = AttentionMap(height: 1, width: 2, values: [1, 0.4])
    private let b = AttentionMap(height: 1, width: 2, values: [1, 1])

    func testUndoRedoPerStep() {
        var h = EditHistory(original: original)
        XCTAssertFalse(h.canUndo)
        XCTAssertNil(h.undo())
        XCTAssertEqual(h.commit(a), a)
        XCTAssertEqual(h.commit(b), b)
        XCTAssertEqual(h.undo(), a)
        XCTAssertEqual(h.undo(), original)
        XCTAssertNil(h.undo())
        XCTAssertEqual(h.redo(), a)
        XCTAssertEqual(h.current, a)
        XCTAssertTrue(h.isEdited)
        // A new step after an undo drops the redo branch.
        XCTAssertEqual(h.commit(b), b)
        XCTAssertNil(h.redo())
        XCTAssertEqual(h.steps, [original, a, b])
    }

    /// Mark changes are steps in the same order as maps: undo crosses them one at a time.
    func testMarksAreStepsBetweenMaps() {
        var h = EditHistory(original: original, marks: SampleMarks(excluded: true))
        XCTAssertEqual(h.commit(a), a)
        let flagged = SampleMarks(flagged: true, flagNote: "n", excluded: true)
        XCTAssertEqual(h.setMarks(flagged), flagged)
        XCTAssertNil(h.setMarks(flagged), "the same marks are not a step")
        XCTAssertEqual(h.commit(b), b)
        XCTAssertEqual(h.marks, flagged, "a map step keeps the marks")
        XCTAssertEqual(h.stepBack()?.to, EditStep(map: a, marks: flagged))
        let back = h.stepBack()
        XCTAssertEqual(back?.from, EditStep(map: a, marks: flagged))
        XCTAssertEqual(back?.to, EditStep(map: a, marks: SampleMarks(excluded: true)))
        XCTAssertEqual(h.undo(), original)
        XCTAssertNil(h.stepBack())
        XCTAssertEqual(h.stepForward()?.to.map, a)
        XCTAssertEqual(h.steps, [original, a, a, b])
    }

    func testResetIsAnUndoableStepBackToTheModelMap() {
        // Review starts from a stored edit, not from the model's map.
        var h = EditHistory(original: original, current: a)
        XCTAssertTrue(h.isEdited)
        XCTAssertEqual(h.reset(), original)
        XCTAssertFalse(h.isEdited)
        XCTAssertNil(h.reset(), "resetting an unedited map is not a new step")
        XCTAssertEqual(h.undo(), a)
        XCTAssertEqual(h.redo(), original)
    }

    func testNoOpCommitAndStrokeOutsideImageAreNotSteps() {
        var h = EditHistory(original: original)
        XCTAssertNil(h.commit(original))
        XCTAssertNil(h.apply(BrushStroke(tool: .paint, radius: 1, points: [BrushPoint(-10, -10)]), imageWidth: 4, imageHeight: 2))
        XCTAssertEqual(h.steps.count, 1)
        // A stroke covering everything is one step to all ones.
        XCTAssertEqual(h.apply(BrushStroke(tool: .paint, radius: 10, points: [BrushPoint(2, 1)]), imageWidth: 4, imageHeight: 2), b)
        XCTAssertEqual(h.undo(), original)
    }
}
