import XCTest
import HITL
@testable import ReviewUI

final class ReduceTests: XCTestCase {
    func testStartLoadsFirstImageAndCentresBrush() {
        let s = Fixture.state(Fixture.backend())
        XCTAssertEqual(s.selected, 0)
        XCTAssertEqual(s.image, Fixture.image(width: 4, height: 4))
        XCTAssertEqual(s.cursor, BrushPoint(2, 2))
        XCTAssertEqual(s.radius, 0.5, "a tenth of 4 px snaps to the smallest step")
        XCTAssertEqual(initialEffects(ReviewState(classNames: [], samples: Fixture.backend().samples)), [.loadImage(sampleIndex: 7)])
    }

    func testSelectionMovesClampsAndLoadsImages() {
        let s0 = Fixture.state(Fixture.backend())
        let (s1, e1) = reduce(s0, .moveSelection(1))
        XCTAssertEqual(s1.selected, 1)
        XCTAssertEqual(e1, [.loadImage(sampleIndex: 8)])
        XCTAssertNil(s1.image, "old image is dropped until the new one arrives")
        let (s2, e2) = reduce(s1, .nextSample)
        XCTAssertEqual(s2.selected, 2)
        XCTAssertEqual(e2, [.loadImage(sampleIndex: 9)])
        let (s3, e3) = reduce(s2, .nextSample)
        XCTAssertEqual(s3.selected, 2)
        XCTAssertEqual(e3, [])
        XCTAssertEqual(reduce(s3, .selectSample(position: -5)).0.selected, 0)
        XCTAssertEqual(reduce(s0, .previousSample).1, [])
    }

    func testSpacePaintsOneDiscAndCommits() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .adjustRadius(1)).0
        XCTAssertEqual(s.radius, 1)
        let (s1, effects) = reduce(s, .applyBrush)
        // Disc of radius 1 at the centre of a 4×4 image over a 2×2 map: 13/64 of every cell
        // (worked out in EditingStrokeTests).
        let expected = AttentionMap(height: 2, width: 2, fill: 13.0 / 64.0)
        XCTAssertEqual(effects, [.commitEdit(sampleIndex: 7, map: expected, source: .stroke)])
        XCTAssertEqual(s1.histories[0].current, expected)
        XCTAssertEqual(s1.unsaved, [0])
        XCTAssertFalse(s1.allSaved)
        XCTAssertNil(s1.currentWhatIf, "edited map: unknown until the backend answers")
        let s2 = reduce(s1, .whatIfComputed(sampleIndex: 7, map: expected, probabilities: [0.6, 0.3, 0.1])).0
        XCTAssertEqual(s2.currentWhatIf, [0.6, 0.3, 0.1])
        let s3 = reduce(s2, .saved(sampleIndex: 7, map: expected)).0
        XCTAssertTrue(s3.allSaved)
        XCTAssertTrue(s3.samples[0].edited)
    }

    func testUndoRedoResetEachCommitTheResultingMap() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .adjustRadius(1)).0
        let painted = AttentionMap(height: 2, width: 2, fill: 13.0 / 64.0)
        let original = AttentionMap(height: 2, width: 2, fill: 0)
        s = reduce(s, .applyBrush).0
        var e: [ReviewEffect]
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: original, source: .undo)])
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [], "nothing left to undo")
        (s, e) = reduce(s, .redo)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: painted, source: .redo)])
        (s, e) = reduce(s, .reset)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: original, source: .reset)])
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: painted, source: .undo)], "reset is undoable")
    }

    func testDragPreviewsAndCommitsOnceOnRelease() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .adjustRadius(1)).0
        var e: [ReviewEffect]
        (s, e) = reduce(s, .beginStroke(.paint, BrushPoint(0, 0)))
        XCTAssertEqual(e, [])
        XCTAssertEqual(s.focus, .canvas)
        (s, e) = reduce(s, .extendStroke(BrushPoint(4, 0)))
        XCTAssertEqual(e, [])
        // Capsule of radius 1 along the top edge: the top cells' sub-sample rows at y < 1 are 4 of 8.
        let expected = AttentionMap(height: 2, width: 2, values: [0.5, 0.5, 0, 0])
        XCTAssertEqual(s.strokePreview, expected)
        XCTAssertEqual(s.displayedMap, expected)
        XCTAssertEqual(s.histories[0].current, AttentionMap(height: 2, width: 2, fill: 0), "not committed mid-drag")
        (s, e) = reduce(s, .endStroke)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: expected, source: .stroke)])
        XCTAssertNil(s.stroke)
        XCTAssertNil(s.strokePreview)
    }

    /// `d` puts the pen down: brush moves then paint a line, committed as one stroke (one undo step)
    /// when `d` lifts it, the same map a mouse drag along the same points makes.
    func testPenDownPaintsWhileMovingAsOneStroke() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .adjustRadius(1)).0
        s = reduce(s, .setCursor(BrushPoint(0.5, 0.5))).0
        var e: [ReviewEffect]
        (s, e) = reduce(s, .togglePen)
        XCTAssertEqual(e, [])
        XCTAssertTrue(s.penDown)
        for _ in 0..<3 { (s, e) = reduce(s, .moveCursor(dx: 1, dy: 0)); XCTAssertEqual(e, [], "nothing committed while the pen moves") }
        XCTAssertEqual(s.cursor, BrushPoint(3.5, 0.5))
        let preview = s.strokePreview
        (s, e) = reduce(s, .togglePen)
        XCTAssertFalse(s.penDown)
        var drag = Fixture.state(Fixture.backend())
        drag = reduce(drag, .adjustRadius(1)).0
        drag = reduce(drag, .beginStroke(.paint, BrushPoint(0.5, 0.5))).0
        for x in [1.5, 2.5, 3.5] { drag = reduce(drag, .extendStroke(BrushPoint(x, 0.5))).0 }
        let expected = reduce(drag, .endStroke).1
        XCTAssertEqual(e, expected)
        guard case .commitEdit(7, let map, .stroke) = e.first else { return XCTFail("\(e)") }
        XCTAssertEqual(preview, map)
        XCTAssertGreaterThan(map.values[0] + map.values[1], 0.5, "the top row is painted")
        XCTAssertEqual(map.values[2] + map.values[3], 0, "the bottom row is not")
        XCTAssertEqual(reduce(s, .undo).1, [.commitEdit(sampleIndex: 7, map: AttentionMap(height: 2, width: 2, fill: 0), source: .undo)],
                       "one undo takes the whole pen stroke back")
        // Moving another sample into view lifts the pen and keeps the stroke.
        s = reduce(s, .togglePen).0
        s = reduce(s, .moveCursor(dx: 0, dy: 1)).0
        (s, e) = reduce(s, .nextSample)
        XCTAssertFalse(s.penDown)
        XCTAssertTrue(e.contains { if case .commitEdit(7, _, .stroke) = $0 { return true } else { return false } }, "\(e)")
    }

    /// `-`/`+` change the blend's heatmap weight by 10 points within 0…100; the canvas mixes with it:
    /// image pixel (200, 100, 50) under map value 0 (jet (0, 0, 128)) at 30% is (140, 70, 73).
    func testOpacityKeysChangeTheBlend() {
        var s = Fixture.state(Fixture.backend())
        XCTAssertEqual(s.blendPercent, 50)
        s = reduce(s, .adjustOpacity(-10)).0
        s = reduce(s, .adjustOpacity(-10)).0
        XCTAssertEqual(s.blendPercent, 30)
        let image = Fixture.image(width: 4, height: 4)
        let colors = Compose.colors(image: image, map: AttentionMap(height: 2, width: 2, fill: 0), view: .blend, weight: 0.3)
        XCTAssertEqual(colors[0], RGB(140, 70, 73))
        for _ in 0..<12 { s = reduce(s, .adjustOpacity(10)).0 }
        XCTAssertEqual(s.blendPercent, 100)
        for _ in 0..<12 { s = reduce(s, .adjustOpacity(-10)).0 }
        XCTAssertEqual(s.blendPercent, 0, "0 hides the map in the blend")
    }

    /// The canvas header shows the map value of the cell under the brush: on a 4×4 image over a 2×2
    /// map, pixel (3.5, 0.5) is in cell (row 0, column 1).
    func testMapValueUnderTheCursor() {
        let b = Fixture.backend()
        var s = Fixture.state(b)
        s.histories[0] = EditHistory(original: AttentionMap(height: 2, width: 2, values: [0.1, 0.7, 0.3, 0.9]),
                                     current: AttentionMap(height: 2, width: 2, values: [0.1, 0.7, 0.3, 0.9]))
        s = reduce(s, .setCursor(BrushPoint(3.5, 0.5))).0
        XCTAssertEqual(s.mapValueUnderCursor, 0.7)
        s = reduce(s, .setCursor(BrushPoint(0.5, 3.5))).0
        XCTAssertEqual(s.mapValueUnderCursor, 0.3)
        let top = render(s, size: TerminalSize(columns: 120, rows: 40)).lines[0]
        XCTAssertTrue(top.contains("map 0.30 at 0,3"), top)
    }

    /// Keys 1–9 set the strength in ninths: at 3 a dab moves a cell a third as far (13/64 · 3/9 here).
    func testStrengthKeysScaleADab() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .adjustRadius(1)).0
        s = reduce(s, .setStrength(3)).0
        XCTAssertEqual(s.strengthNinths, 3)
        let e = reduce(s, .applyBrush).1
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: AttentionMap(height: 2, width: 2, fill: Float(13.0 / 64.0 * 3.0 / 9.0)), source: .stroke)])
        XCTAssertEqual(reduce(s, .setStrength(12)).0.strengthNinths, 9, "clamped to 1…9")
    }

    /// Capital HJKL (and Shift+arrows) move by `fastStep`: 4 px on small images, a sixteenth of a larger one.
    func testFastMovesCoverSeveralPixels() {
        var s = Fixture.state(Fixture.backend())
        XCTAssertEqual(s.fastStep, 4)
        s = reduce(s, .setCursor(BrushPoint(0.5, 0.5))).0
        s = reduce(s, .moveCursorFast(dx: 1, dy: 0)).0
        XCTAssertEqual(s.cursor, BrushPoint(3.5, 0.5), "clamped to the 4-pixel image")
        s.image = ReviewImage(width: 224, height: 224, rgb: [UInt8](repeating: 0, count: 224 * 224 * 3))
        XCTAssertEqual(s.fastStep, 14)
        s = reduce(s, .moveCursorFast(dx: 1, dy: 1)).0
        XCTAssertEqual(s.cursor, BrushPoint(17.5, 14.5))
    }

    func testQuitDuringDragCommitsTheStrokeFirst() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .beginStroke(.erase, BrushPoint(1, 1))).0
        let (s1, e) = reduce(s, .quit)
        XCTAssertEqual(e, [.quit], "erasing zeros changes nothing, so there is no edit to commit")
        XCTAssertTrue(s1.quitting)
        var t = Fixture.state(Fixture.backend(mapValue: 1))
        t = reduce(t, .beginStroke(.erase, BrushPoint(1, 1))).0
        let (_, e2) = reduce(t, .quit)
        XCTAssertEqual(e2.count, 2)
        XCTAssertEqual(e2.last, .quit)
        if case .commitEdit(7, let map, .stroke) = e2.first { XCTAssertLessThan(map.values[0], 1) } else { XCTFail("\(e2)") }
    }

    func testToolRadiusViewFocusHelpAndAccept() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .setTool(.erase)).0
        XCTAssertEqual(s.tool, .erase)
        s = reduce(s, .adjustRadius(-3)).0
        XCTAssertEqual(s.radius, 0.5)
        s = reduce(s, .adjustRadius(100)).0
        XCTAssertEqual(s.radius, 4, "never above the image side")
        XCTAssertEqual(reduce(reduce(reduce(s, .cycleView).0, .cycleView).0, .cycleView).0.view, .blend)
        XCTAssertEqual(reduce(s, .cycleView).0.view, .map)
        XCTAssertEqual(reduce(s, .toggleFocus).0.focus, .canvas)
        XCTAssertTrue(reduce(s, .toggleHelp).0.showHelp)
        XCTAssertEqual(reduce(s, .accept).1, [.setMark(sampleIndex: 7, change: MarkChange(kind: .accept, value: true), source: .toggle), .loadImage(sampleIndex: 8)], "accept and move on")
        s.advanceOnAccept = false
        XCTAssertEqual(reduce(s, .accept).1, [.setMark(sampleIndex: 7, change: MarkChange(kind: .accept, value: true), source: .toggle)])
        XCTAssertTrue(reduce(s, .markSaved(sampleIndex: 7, change: MarkChange(kind: .accept, value: true))).0.samples[0].accepted)
    }

    /// Marks worked by hand on #7 (no advance): a stroke, accept, flag with a typed note, exclude —
    /// four undo steps in the order made; undo walks back through them writing undo rows; `a`, `f`,
    /// `x` on a set mark clear it (and `a` then does not move on).
    func testMarksAreUndoableStepsInOrderWithStrokes() {
        var s = Fixture.state(Fixture.backend())
        s.advanceOnAccept = false
        var e: [ReviewEffect]
        let mark = { (kind: MarkKind, value: Bool, note: String?, source: MarkSource) in
            ReviewEffect.setMark(sampleIndex: 7, change: MarkChange(kind: kind, value: value, note: note), source: source)
        }
        (s, e) = reduce(s, .applyBrush)
        let painted = s.histories[0].current
        XCTAssertEqual(e.count, 1)
        (s, e) = reduce(s, .accept)
        XCTAssertEqual(e, [mark(.accept, true, nil, .toggle)])
        // f opens the note prompt: typed keys are text (an "a" does not un-accept), Enter flags.
        (s, e) = reduce(s, .toggleFlag)
        XCTAssertEqual(e, [])
        XCTAssertTrue(s.typingNote)
        for c in " tail a".unicodeScalars { s = reduce(s, .typeNote(c)).0 }
        s = reduce(s, .deleteNoteCharacter).0
        XCTAssertEqual(s.noteText, " tail ")
        (s, e) = reduce(s, .endNote)
        XCTAssertFalse(s.typingNote)
        XCTAssertEqual(e, [mark(.flag, true, "tail", .toggle)], "spaces at the ends dropped")
        (s, e) = reduce(s, .toggleExclude)
        XCTAssertEqual(e, [mark(.exclude, true, nil, .toggle)])
        XCTAssertEqual(s.marks(0), SampleMarks(accepted: true, flagged: true, flagNote: "tail", excluded: true))
        XCTAssertEqual(s.unsaved, [0], "until the backend confirms")
        XCTAssertEqual(s.histories[0].states.count, 5, "start, stroke, accept, flag, exclude")
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [mark(.exclude, false, nil, .undo)])
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [mark(.flag, false, nil, .undo)])
        (s, e) = reduce(s, .redo)
        XCTAssertEqual(e, [mark(.flag, true, "tail", .redo)], "the note comes back with the flag")
        (s, e) = reduce(s, .undo)
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [mark(.accept, false, nil, .undo)])
        (s, e) = reduce(s, .undo)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: Fixture.backend().samples[0].originalMap, source: .undo)], "then the stroke")
        (s, e) = reduce(s, .redo)
        XCTAssertEqual(e, [.commitEdit(sampleIndex: 7, map: painted, source: .redo)])
        // Toggles: a set mark is cleared by its key, as one more step; Esc cancels a note.
        (s, e) = reduce(s, .toggleExclude)
        (s, e) = reduce(s, .toggleExclude)
        XCTAssertEqual(e, [mark(.exclude, false, nil, .toggle)])
        s.advanceOnAccept = true
        (s, e) = reduce(s, .accept)
        XCTAssertEqual(e, [mark(.accept, true, nil, .toggle), .loadImage(sampleIndex: 8)], "setting moves on")
        s = reduce(s, .selectSample(position: 0)).0
        (s, e) = reduce(s, .accept)
        XCTAssertEqual(e, [mark(.accept, false, nil, .toggle)], "clearing stays")
        XCTAssertEqual(s.selected, 0)
        s = reduce(s, .toggleFlag).0
        s = reduce(s, .typeNote("z")).0
        (s, e) = reduce(s, .cancelNote)
        XCTAssertEqual(e, [])
        XCTAssertFalse(s.marks(0).flagged)
        (s, e) = reduce(reduce(s, .toggleFlag).0, .endNote)
        XCTAssertEqual(e, [mark(.flag, true, nil, .toggle)], "Enter with no text: a flag without a note")
        (s, e) = reduce(s, .toggleFlag)
        XCTAssertEqual(e, [mark(.flag, false, nil, .toggle)], "f on a flagged sample unflags")
        // Saved marks settle the unsaved set.
        var saved = s
        for change in [MarkChange(kind: .accept, value: false), MarkChange(kind: .flag, value: false)] {
            saved = reduce(saved, .markSaved(sampleIndex: 7, change: change)).0
        }
        saved = reduce(saved, .saved(sampleIndex: 7, map: painted)).0
        XCTAssertEqual(saved.samples[0].marks, SampleMarks())
        XCTAssertFalse(saved.unsaved.contains(0))
    }

    /// Another annotator's work (told by the driver before a change): their map and marks become the
    /// base, undo stops there, and the status names them.
    func testChangedElsewhereBecomesTheBase() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .applyBrush).0
        let theirs = AttentionMap(height: 2, width: 2, values: [1, 0, 0, 1])
        s = reduce(s, .changedElsewhere(sampleIndex: 7, OutsideChange(annotator: "bob", time: "18:42", currentMap: theirs,
                                                                          marks: SampleMarks(flagged: true, flagNote: "n")))).0
        XCTAssertEqual(s.message, "sample 7 changed by bob at 18:42 — now editing their map")
        XCTAssertEqual(s.histories[0].current, theirs)
        XCTAssertEqual(s.marks(0), SampleMarks(flagged: true, flagNote: "n"))
        XCTAssertEqual(s.samples[0].currentMap, theirs)
        XCTAssertTrue(s.samples[0].edited)
        XCTAssertFalse(s.histories[0].canUndo, "their edit is not undone from here")
        XCTAssertEqual(reduce(s, .undo).1, [])
    }

    func testCursorStaysOnTheImage() {
        var s = Fixture.state(Fixture.backend())
        s = reduce(s, .moveCursor(dx: 1, dy: 0)).0
        XCTAssertEqual(s.cursor, BrushPoint(3, 2))
        s = reduce(s, .moveCursor(dx: 5, dy: -9)).0
        XCTAssertEqual(s.cursor, BrushPoint(3.5, 0.5))
        s = reduce(s, .setCursor(BrushPoint(.nan, 1))).0
        XCTAssertEqual(s.cursor, BrushPoint(3.5, 0.5))
    }

    func testBadResultsAreReportedNotTrusted() {
        let s = Fixture.state(Fixture.backend())
        let bad = reduce(s, .imageLoaded(sampleIndex: 7, ReviewImage(width: 4, height: 4, rgb: [1, 2])))
        XCTAssertNil(bad.0.image)
        XCTAssertNotNil(bad.0.imageError)
        XCTAssertEqual(reduce(s, .imageLoaded(sampleIndex: 99, Fixture.image(width: 2, height: 2))).0, s, "stale image ignored")
        XCTAssertEqual(reduce(s, .saved(sampleIndex: 12345, map: AttentionMap(height: 1, width: 1, fill: 0))).0.samples, s.samples)
        let empty = ReviewState(classNames: [], samples: [])
        for a: ReviewAction in [.nextSample, .applyBrush, .undo, .accept, .moveCursor(dx: 1, dy: 1), .beginStroke(.paint, BrushPoint(1, 1))] {
            _ = reduce(empty, a)
        }
    }
}
