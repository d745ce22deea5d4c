import XCTest
import HITL
@testable import ReviewUI

/// Find and track (issue 12): the list's view (filter, quick filter, sort), the header, where the
/// review opens, next-untouched, the `/` typing mode and accept-and-advance, on hand-made samples.
final class ReviewViewTests: XCTestCase {
    static let map = AttentionMap(height: 2, width: 2, fill: 0)
    static let painted = AttentionMap(height: 2, width: 2, fill: 1)

    /// Five samples (classes cat, dog, ship), worked by hand:
    ///   position 0: #10 cat→dog   71%  train/cat/a.png   accepted
    ///   position 1: #11 dog→dog   90%  train/dog/b.png   edited
    ///   position 2: #12 ship→cat  55%  test/ship/c.png   untouched
    ///   position 3: #13 cat→ship  90%  train/cat/d.png   edited and accepted
    ///   position 4: #14 dog→cat   30%  train/dog/e.png   untouched
    static func samples() -> [ReviewSample] {
        func s(_ index: Int, _ path: String, _ label: Int, _ predicted: Int, _ confidence: Float,
               edited: Bool, accepted: Bool) -> ReviewSample {
            var probabilities: [Float] = [0, 0, 0]
            probabilities[predicted] = confidence
            probabilities[(predicted + 1) % 3] = 1 - confidence
            return ReviewSample(index: index, relativePath: path, label: label, predicted: predicted, attentionPredicted: predicted,
                                probabilities: probabilities, attentionProbabilities: probabilities, originalMap: map,
                                currentMap: edited ? painted : map, edited: edited, accepted: accepted)
        }
        return [s(10, "train/cat/a.png", 0, 1, 0.71, edited: false, accepted: true),
                s(11, "train/dog/b.png", 1, 1, 0.90, edited: true, accepted: false),
                s(12, "test/ship/c.png", 2, 0, 0.55, edited: false, accepted: false),
                s(13, "train/cat/d.png", 0, 2, 0.90, edited: true, accepted: true),
                s(14, "train/dog/e.png", 1, 0, 0.30, edited: false, accepted: false)]
    }

    func state() -> ReviewState { ReviewState(classNames: Fixture.classes, samples: Self.samples()) }

    func testQuickFilters() {
        var s = state()
        XCTAssertEqual(s.visiblePositions, [0, 1, 2, 3, 4])
        s.quickFilter = .untouched
        XCTAssertEqual(s.visiblePositions, [2, 4])
        s.quickFilter = .edited
        XCTAssertEqual(s.visiblePositions, [1, 3])
        s.quickFilter = .accepted
        XCTAssertEqual(s.visiblePositions, [0, 3])
        XCTAssertEqual(s.quickFilter.next, .flagged)
        XCTAssertEqual(QuickFilter.all.next, .untouched)
        XCTAssertEqual(QuickFilter.excluded.next, .all)
        // #14 flagged and #11 excluded: #14 is no longer untouched, #12 is the only one left.
        var samples = Self.samples()
        samples[4].marks = SampleMarks(flagged: true, flagNote: "n")
        samples[1].marks.excluded = true
        s = ReviewState(classNames: Fixture.classes, samples: samples)
        s.quickFilter = .flagged
        XCTAssertEqual(s.visiblePositions, [4])
        s.quickFilter = .excluded
        XCTAssertEqual(s.visiblePositions, [1])
        s.quickFilter = .untouched
        XCTAssertEqual(s.visiblePositions, [2])
        XCTAssertEqual(s.progress, ReviewProgress(edited: 2, accepted: 2, flagged: 1, excluded: 1, untouched: 1, total: 5))
        XCTAssertEqual(s.progressLine(width: 60), " 2*  2✓  1!  1x  1 untouched of 5")
        XCTAssertEqual(s.progressLine(width: 20), " 2*  2✓  1!  1x", "whole parts only")
        XCTAssertEqual(listRowText(s, position: 1, width: 22), " 11 dog→dog   90% *  x")
    }

    func testFilterTextMatchesPathClassesAndLabelArrowPrediction() {
        var s = state()
        s.filterText = "CAT"
        XCTAssertEqual(s.visiblePositions, [0, 2, 3, 4], "paths train/cat/…, and cat as label or prediction")
        s.filterText = "cat→"
        XCTAssertEqual(s.visiblePositions, [0, 3], "label cat")
        s.filterText = "->cat"
        XCTAssertEqual(s.visiblePositions, [2, 4], "-> is read as →: prediction cat")
        s.filterText = "dog->dog"
        XCTAssertEqual(s.visiblePositions, [1])
        s.filterText = "test/"
        XCTAssertEqual(s.visiblePositions, [2])
        s.filterText = "d.png"
        s.quickFilter = .untouched
        XCTAssertEqual(s.visiblePositions, [], "text and quick filter both apply")
        s.filterText = "dog"
        XCTAssertEqual(s.visiblePositions, [4])
    }

    func testSortOrders() {
        var s = state()
        s.sortOrder = .confidence
        // 90% (positions 1, 3 in collect order), 71%, 55%, 30%.
        XCTAssertEqual(s.visiblePositions, [1, 3, 0, 2, 4])
        s.sortOrder = .class
        // By label then prediction: cat→dog, cat→ship, dog→cat, dog→dog, ship→cat.
        XCTAssertEqual(s.visiblePositions, [0, 3, 4, 1, 2])
        s.sortOrder = .edited
        XCTAssertEqual(s.visiblePositions, [1, 3, 0, 2, 4])
        XCTAssertEqual(s.sortOrder.next, .collect)
        s.quickFilter = .untouched
        s.sortOrder = .confidence
        XCTAssertEqual(s.visiblePositions, [2, 4], "filter, then sort")
    }

    func testProgressAndHeader() {
        var s = state()
        XCTAssertEqual(s.progress, ReviewProgress(edited: 2, accepted: 2, untouched: 2, total: 5))
        XCTAssertEqual(s.selected, 2, "opens at the first untouched sample")
        let all = s.visiblePositions
        XCTAssertEqual(s.listTitle(all), " Samples 3/5")
        XCTAssertEqual(s.progressLine(width: 40), " 2*  2✓  2 untouched of 5")
        XCTAssertEqual(s.progressLine(width: 24), " 2*  2✓  2 untouched", "whole parts only")
        XCTAssertEqual(s.progressLine(width: 8), " 2*  2✓")
        s.quickFilter = .untouched
        XCTAssertEqual(s.listTitle(s.visiblePositions), " 1/2 of 5 · untouched")
        s.filterText = "ship"
        s.sortOrder = .confidence
        XCTAssertEqual(s.listTitle(s.visiblePositions), " 1/1 of 5 · untouched · /ship · by confidence")
        s.typingFilter = true
        XCTAssertEqual(s.listTitle(s.visiblePositions), " 1/1 of 5 · untouched · /ship_ · by confidence")
        s.filterText = "zzz"
        XCTAssertEqual(s.listTitle(s.visiblePositions), " 0/0 of 5 · untouched · /zzz_ · by confidence")
        s = state()
        s.quickFilter = .edited
        XCTAssertEqual(s.listTitle(s.visiblePositions), " -/2 of 5 · edited", "the selection (#12) is not shown")
    }

    func testOpensAtFirstUntouchedElseFirst() {
        XCTAssertEqual(state().selected, 2)
        var samples = Self.samples()
        samples[2].accepted = true
        samples[4].accepted = true
        XCTAssertEqual(ReviewState(classNames: Fixture.classes, samples: samples).selected, 0, "none untouched")
        XCTAssertEqual(ReviewState(classNames: [], samples: []).selected, 0)
    }

    func testHeaderRowsRenderedAndCutAtListWidth() {
        var s = state()
        s.quickFilter = .untouched
        s.filterText = "ship"
        s.sortOrder = .confidence
        // 80×24: list 26 columns; 120×40: 40 columns. Cut, never wrapped: the next row is the progress.
        let g80 = render(s, size: TerminalSize(columns: 80, rows: 24))
        XCTAssertEqual(String(g80.lines[0].prefix(27)), " 1/1 of 5 · untouched · /s│")
        XCTAssertEqual(String(g80.lines[1].prefix(27)), " 2*  2✓  2 untouched of 5 │")
        XCTAssertEqual(String(g80.lines[2].prefix(26)), " 12 ship→cat      55%     ")
        let g120 = render(s, size: TerminalSize(columns: 120, rows: 40))
        XCTAssertEqual(String(g120.lines[0].prefix(41)), " 1/1 of 5 · untouched · /ship · by confi│")
        s.filterText = "zzz"
        XCTAssertEqual(String(render(s, size: TerminalSize(columns: 80, rows: 24)).lines[2].prefix(14)), " (none match) ")
    }

    func testMovingTheSelectionStaysInTheView() {
        var s = state()
        s.sortOrder = .confidence  // view [1, 3, 0, 2, 4]
        s.selected = 3
        XCTAssertEqual(reduce(s, .moveSelection(1)).0.selected, 0)
        XCTAssertEqual(reduce(s, .nextSample).0.selected, 0)
        XCTAssertEqual(reduce(s, .previousSample).0.selected, 1)
        XCTAssertEqual(reduce(s, .moveSelection(10)).0.selected, 4)
        s.sortOrder = .collect
        s.quickFilter = .untouched  // view [2, 4]; position 3 is not shown
        XCTAssertEqual(reduce(s, .nextSample).0.selected, 4, "the next shown one after it")
        XCTAssertEqual(reduce(s, .previousSample).0.selected, 2, "the previous shown one")
        s.selected = 4
        XCTAssertEqual(reduce(s, .nextSample).1, [], "already last")
    }

    func testChangingTheViewKeepsTheSelectionShown() {
        var s = state()  // selected 2 (#12)
        var (s1, e1) = reduce(s, .cycleQuickFilter)
        XCTAssertEqual(s1.quickFilter, .untouched)
        XCTAssertEqual(s1.selected, 2, "still shown: stays")
        XCTAssertEqual(e1, [])
        (s1, e1) = reduce(s1, .cycleQuickFilter)
        XCTAssertEqual(s1.quickFilter, .edited)
        XCTAssertEqual(s1.selected, 1, "moved to the view's first")
        XCTAssertEqual(e1.first, .loadImage(sampleIndex: 11))
        s = reduce(s, .cycleSort).0
        XCTAssertEqual(s.sortOrder, .confidence)
        XCTAssertEqual(s.selected, 2)
    }

    func testNextUntouchedWrapsWithinTheView() {
        var s = state()  // untouched: 2, 4
        s = reduce(s, .nextUntouched).0
        XCTAssertEqual(s.selected, 4)
        s = reduce(s, .nextUntouched).0
        XCTAssertEqual(s.selected, 2, "wraps round")
        s.selected = 3
        XCTAssertEqual(reduce(s, .nextUntouched).0.selected, 4)
        s.filterText = "ship"  // view [2, 3]
        XCTAssertEqual(reduce(s, .nextUntouched).0.selected, 2)
        s.selected = 2
        let (none, effects) = reduce(s, .nextUntouched)
        XCTAssertEqual(none.selected, 2)
        XCTAssertEqual(effects, [])
        XCTAssertEqual(none.message, "no other untouched sample in this view")
    }

    func testSlashTypesTheFilterAndNoOtherKeyFires() {
        let size = TerminalSize(columns: 48, rows: 12)
        func keys(_ s: ReviewState, _ k: Key) -> [ReviewAction] { actions(for: .key(k), in: s, size: size) }
        var s = state()
        XCTAssertEqual(keys(s, .character("/")), [.beginFilter])
        s = reduce(s, .beginFilter).0
        XCTAssertTrue(s.typingFilter)
        XCTAssertEqual(keys(s, .character("a")), [.typeFilter("a")], "not accept")
        XCTAssertEqual(keys(s, .character("q")), [.typeFilter("q")], "not quit")
        XCTAssertEqual(keys(s, .character("/")), [.typeFilter("/")])
        XCTAssertEqual(keys(s, .character("\u{7F}")), [.deleteFilterCharacter])
        XCTAssertEqual(keys(s, .other(263)), [.deleteFilterCharacter])
        XCTAssertEqual(keys(s, .character("\r")), [.endFilter])
        XCTAssertEqual(keys(s, .character("\u{1B}")), [.clearFilter])
        XCTAssertEqual(keys(s, .tab), [])
        XCTAssertEqual(keys(s, .down), [])
        XCTAssertEqual(keys(s, .character("\u{1A}")), [], "Ctrl-Z does not undo")
        XCTAssertEqual(keys(s, .character("\u{3}")), [.quit], "Ctrl-C still quits")
        for c in "shiq".unicodeScalars { s = reduce(s, .typeFilter(c)).0 }
        XCTAssertEqual(s.filterText, "shiq")
        XCTAssertEqual(s.visiblePositions, [])
        s = reduce(s, .deleteFilterCharacter).0
        XCTAssertEqual(s.filterText, "shi")
        XCTAssertEqual(s.visiblePositions, [2, 3], "test/ship/…, cat→ship")
        XCTAssertEqual(statusLines(s)[2], " filter: shi_   Enter keeps it, Esc clears it  saved")
        s = reduce(s, .endFilter).0
        XCTAssertFalse(s.typingFilter)
        XCTAssertEqual(s.filterText, "shi")
        XCTAssertEqual(keys(s, .character("a")), [.accept], "normal keys again")
        s = reduce(reduce(s, .beginFilter).0, .clearFilter).0
        XCTAssertFalse(s.typingFilter)
        XCTAssertEqual(s.filterText, "")
        XCTAssertEqual(s.visiblePositions.count, 5)
        XCTAssertEqual(keys(s, .character("s")), [.cycleSort])
        XCTAssertEqual(keys(s, .character("F")), [.cycleQuickFilter])
        XCTAssertEqual(keys(s, .character("N")), [.nextUntouched])
        XCTAssertEqual(keys(s, .character(".")), [.nextUntouched])
    }

    func testTypingMovesASelectionThatIsFilteredOut() {
        var s = reduce(state(), .beginFilter).0  // selected 2 (#12, ship→cat)
        for c in "dog".unicodeScalars { s = reduce(s, .typeFilter(c)).0 }
        XCTAssertEqual(s.visiblePositions, [0, 1, 4])
        XCTAssertEqual(s.selected, 0)
    }

    func testAcceptMovesToTheNextInTheViewUnlessTurnedOff() {
        var s = state()
        s.quickFilter = .untouched  // view [2, 4], selected 2
        let (s1, e1) = reduce(s, .accept)
        XCTAssertEqual(e1, [.setMark(sampleIndex: 12, change: MarkChange(kind: .accept, value: true), source: .toggle), .loadImage(sampleIndex: 14)])
        XCTAssertEqual(s1.selected, 4)
        let (s2, e2) = reduce(s1, .accept)
        XCTAssertEqual(s2.selected, 4, "the last one stays")
        XCTAssertEqual(e2, [.setMark(sampleIndex: 14, change: MarkChange(kind: .accept, value: true), source: .toggle)])
        var off = ReviewState(classNames: Fixture.classes, samples: Self.samples(), advanceOnAccept: false)
        off.quickFilter = .untouched
        let (s3, e3) = reduce(off, .accept)
        XCTAssertEqual(s3.selected, 2)
        XCTAssertEqual(e3, [.setMark(sampleIndex: 12, change: MarkChange(kind: .accept, value: true), source: .toggle)])
    }

    func testClickSelectsTheViewRow() {
        var s = state()
        s.sortOrder = .confidence  // view [1, 3, 0, 2, 4]
        let size = TerminalSize(columns: 48, rows: 12)
        // Header rows 0 and 1; row 2 is the view's first sample, row 4 its third.
        func click(_ row: Int) -> [ReviewAction] {
            actions(for: .mouse(MouseEvent(.press(.left), column: 3, row: row)), in: s, size: size)
        }
        XCTAssertEqual(click(2), [.focus(.list), .selectSample(position: 1)])
        XCTAssertEqual(click(4), [.focus(.list), .selectSample(position: 0)])
        XCTAssertEqual(click(1), [], "the progress row")
        XCTAssertEqual(click(7), [.focus(.list)], "below the last row")
    }
}
