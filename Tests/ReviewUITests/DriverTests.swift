import Foundation
import XCTest
import HITL
@testable import ReviewUI

/// The driver runs effects through a backend exactly as the terminal app does.
final class DriverTests: XCTestCase {
    func testEveryStrokeUndoAndResetIsAppendedWithItsWhatIf() {
        let backend = Fixture.backend()
        var d = ReviewDriver(backend: backend, annotator: "t")
        d.send(.adjustRadius(1))
        d.send(.applyBrush)
        d.send(.undo)
        d.send(.redo)
        d.send(.reset)
        let painted = AttentionMap(height: 2, width: 2, fill: 13.0 / 64.0)
        let zero = AttentionMap(height: 2, width: 2, fill: 0)
        XCTAssertEqual(backend.commits.map(\.map), [painted, zero, painted, zero])
        XCTAssertEqual(backend.commits.map(\.sampleIndex), [7, 7, 7, 7])
        // The memory backend's what-if puts the map mean on class 0.
        XCTAssertEqual(backend.commits[0].whatIf[0], 13.0 / 64.0, accuracy: 1e-6)
        XCTAssertTrue(d.state.allSaved)
        XCTAssertEqual(d.state.currentWhatIf, [0.2, 0.71, 0.09], "back at the model's map: its own output")
    }

    /// Through the backend: opening at the first untouched sample, accept-and-advance and its switch
    /// (what `review --no-advance` passes).
    func testOpensAtFirstUntouchedAndAcceptMovesOnUnlessTurnedOff() {
        let backend = Fixture.backend()
        backend.samples[0].accepted = true  // #7 accepted: the review opens at #8
        var d = ReviewDriver(backend: backend, annotator: "t")
        XCTAssertEqual(d.state.selected, 1)
        XCTAssertEqual(d.state.image, Fixture.image(width: 4, height: 4), "its image loaded")
        d.send(.accept)
        XCTAssertEqual(backend.accepted, [8])
        XCTAssertEqual(d.state.selected, 2, "moved on to #9")
        XCTAssertNotNil(d.state.image)
        XCTAssertEqual(d.state.progress, ReviewProgress(edited: 0, accepted: 2, untouched: 1, total: 3))
        var stay = ReviewDriver(backend: Fixture.backend(), annotator: "t", advanceOnAccept: false)
        stay.send(.accept)
        XCTAssertEqual(stay.state.selected, 0)
        XCTAssertTrue(stay.state.samples[0].accepted)
    }

    func testFailedCommitShowsUnsavedAndMessage() {
        let backend = Fixture.backend()
        backend.failCommits = true
        var d = ReviewDriver(backend: backend, annotator: "t")
        d.send(.applyBrush)
        XCTAssertFalse(d.state.allSaved)
        XCTAssertEqual(d.state.message, "NOT SAVED: disk full")
        XCTAssertTrue(statusLines(d.state)[2].contains("UNSAVED"))
        XCTAssertEqual(d.state.unsavedReport, "the latest edits of 1 sample (#7) were not saved: disk full; "
                       + "every edit saved before that is in the session")
        // With space again the next stroke stores the whole current map (an edit row is a full map),
        // so nothing of the unsaved stroke is lost and there is nothing left to report.
        backend.failCommits = false
        d.send(.applyBrush)
        XCTAssertTrue(d.state.allSaved)
        XCTAssertNil(d.state.unsavedReport)
        XCTAssertEqual(backend.commits.last?.map, d.state.histories[0].current)
    }

    /// Another annotator painted #7 after this review loaded it: the next stroke asks first, lands on
    /// their map (their painted cell 0 stays 1, this dab raises the rest), the status names them,
    /// and only changes ask (moving and viewing do not).
    func testAnotherAnnotatorsEditBecomesTheBaseOfTheNextStroke() {
        let backend = Fixture.backend()
        var d = ReviewDriver(backend: backend, annotator: "t")
        d.send(.nextSample)
        d.send(.previousSample)
        XCTAssertEqual(backend.activityQueries, [], "no change, no question")
        let theirs = AttentionMap(height: 2, width: 2, values: [1, 0, 0, 0])
        backend.outsideChanges[7] = OutsideChange(annotator: "bob", time: "18:42", currentMap: theirs, marks: SampleMarks(accepted: true))
        d.send(.adjustRadius(1))   // radius 1 around (2, 2) on 4×4 pixels: each cell 13/64 covered
        d.send(.applyBrush)
        XCTAssertEqual(backend.activityQueries, [7])
        XCTAssertEqual(backend.commits.count, 1)
        let stored = backend.commits[0].map
        XCTAssertEqual(stored.values[0], 1, "their paint kept")
        XCTAssertEqual(stored, applyStroke(BrushStroke(tool: .paint, radius: d.state.radius, points: [BrushPoint(2, 2)]), to: theirs, imageWidth: 4, imageHeight: 4),
                       "the stroke applied to their map")
        XCTAssertEqual(d.state.message, "sample 7 changed by bob at 18:42 — now editing their map")
        XCTAssertTrue(d.state.marks(0).accepted, "their accept kept")
        XCTAssertTrue(d.state.allSaved)
        // One undo takes back this stroke only, to their map.
        d.send(.undo)
        XCTAssertEqual(backend.commits.last?.map, theirs)
        XCTAssertEqual(d.state.histories[0].canUndo, false)
        // A mark asks too.
        d.send(.toggleExclude)
        XCTAssertEqual(backend.activityQueries, [7, 7, 7])
        XCTAssertEqual(backend.marks.map(\.change), [MarkChange(kind: .exclude, value: true)])
    }

    func testSelectingAnEditedSampleAsksForItsWhatIf() {
        let backend = Fixture.backend()
        backend.samples[1].currentMap = AttentionMap(height: 2, width: 2, fill: 1)
        backend.samples[1].edited = true
        var d = ReviewDriver(backend: backend, annotator: "t")
        XCTAssertEqual(backend.whatIfCalls, 0)
        d.send(.nextSample)
        XCTAssertEqual(backend.whatIfCalls, 1)
        XCTAssertEqual(d.state.currentWhatIf, [1, 0, 0])
        XCTAssertTrue(d.state.histories[1].isEdited)
    }

    func testMissingImageIsShownNotFatal() {
        let backend = Fixture.backend()
        backend.images[7] = nil
        let d = ReviewDriver(backend: backend, annotator: "t")
        XCTAssertEqual(d.state.imageError, "no image 7")
        let grid = render(d.state, size: TerminalSize(columns: 60, rows: 14))
        XCTAssertTrue(grid.lines[1].contains("cannot show image: no image 7"), grid.lines.joined(separator: "\n"))
    }
}

final class ReviewAppWithoutTerminalTests: XCTestCase {
    func testRunWithoutATerminalThrowsInsteadOfExiting() throws {
        // Take the terminal away if the tests run in one: standard input from /dev/null, as in CI.
        let savedInput = dup(0)
        let null = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThanOrEqual(savedInput, 0)
        XCTAssertGreaterThanOrEqual(null, 0)
        dup2(null, 0)
        close(null)
        defer { dup2(savedInput, 0); close(savedInput) }
        XCTAssertEqual(isatty(0), 0)
        XCTAssertThrowsError(try ReviewApp.run(backend: Fixture.backend(), annotator: "t")) { error in
            XCTAssertTrue(error is TerminalUnavailable, "\(error)")
        }
    }
}
