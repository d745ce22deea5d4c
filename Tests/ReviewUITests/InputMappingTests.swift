import XCTest
import HITL
@testable import ReviewUI

final class InputMappingTests: XCTestCase {
    let size = TerminalSize(columns: 48, rows: 12)

    private func keys(_ key: Key, focus: ReviewFocus, help: Bool = false) -> [ReviewAction] {
        var s = Fixture.state(Fixture.backend())
        s.focus = focus
        s.showHelp = help
        return actions(for: .key(key), in: s, size: size)
    }

    func testKeysOfDesignDoc() {
        let c: (Unicode.Scalar) -> Key = { .character($0) }
        XCTAssertEqual(keys(c("j"), focus: .list), [.moveSelection(1)])
        XCTAssertEqual(keys(c("k"), focus: .list), [.moveSelection(-1)])
        XCTAssertEqual(keys(.down, focus: .list), [.moveSelection(1)])
        XCTAssertEqual(keys(.up, focus: .list), [.moveSelection(-1)])
        XCTAssertEqual(keys(c("j"), focus: .canvas), [.moveCursor(dx: 0, dy: 1)])
        XCTAssertEqual(keys(c("k"), focus: .canvas), [.moveCursor(dx: 0, dy: -1)])
        XCTAssertEqual(keys(c("h"), focus: .canvas), [.moveCursor(dx: -1, dy: 0)])
        XCTAssertEqual(keys(c("l"), focus: .canvas), [.moveCursor(dx: 1, dy: 0)])
        XCTAssertEqual(keys(.left, focus: .canvas), [.moveCursor(dx: -1, dy: 0)])
        XCTAssertEqual(keys(.right, focus: .canvas), [.moveCursor(dx: 1, dy: 0)])
        XCTAssertEqual(keys(.up, focus: .canvas), [.moveCursor(dx: 0, dy: -1)])
        XCTAssertEqual(keys(.tab, focus: .list), [.toggleFocus])
        XCTAssertEqual(keys(c("n"), focus: .canvas), [.nextSample])
        XCTAssertEqual(keys(c("p"), focus: .list), [.previousSample])
        XCTAssertEqual(keys(c(" "), focus: .canvas), [.applyBrush])
        XCTAssertEqual(keys(c("b"), focus: .list), [.setTool(.paint)])
        XCTAssertEqual(keys(c("e"), focus: .list), [.setTool(.erase)])
        XCTAssertEqual(keys(c("["), focus: .list), [.adjustRadius(-1)])
        XCTAssertEqual(keys(c("]"), focus: .list), [.adjustRadius(1)])
        XCTAssertEqual(keys(c("u"), focus: .list), [.undo])
        XCTAssertEqual(keys(c("\u{1A}"), focus: .list), [.undo])
        XCTAssertEqual(keys(c("\u{12}"), focus: .list), [.redo])
        XCTAssertEqual(keys(c("\u{19}"), focus: .list), [.redo])
        XCTAssertEqual(keys(c("r"), focus: .list), [.reset])
        XCTAssertEqual(keys(c("o"), focus: .list), [.cycleView])
        XCTAssertEqual(keys(c("a"), focus: .list), [.accept])
        XCTAssertEqual(keys(c("?"), focus: .list), [.toggleHelp])
        XCTAssertEqual(keys(c("q"), focus: .list), [.quit])
        XCTAssertEqual(keys(c("\u{3}"), focus: .list), [.quit])
        XCTAssertEqual(keys(c("H"), focus: .list), [.moveCursorFast(dx: -1, dy: 0)])
        XCTAssertEqual(keys(c("J"), focus: .canvas), [.moveCursorFast(dx: 0, dy: 1)])
        XCTAssertEqual(keys(c("K"), focus: .canvas), [.moveCursorFast(dx: 0, dy: -1)])
        XCTAssertEqual(keys(c("L"), focus: .canvas), [.moveCursorFast(dx: 1, dy: 0)])
        // curses' KEY_SLEFT, KEY_SRIGHT, KEY_SR, KEY_SF
        XCTAssertEqual([393, 402, 337, 336].map { keys(.other($0), focus: .canvas) },
                       [[.moveCursorFast(dx: -1, dy: 0)], [.moveCursorFast(dx: 1, dy: 0)], [.moveCursorFast(dx: 0, dy: -1)], [.moveCursorFast(dx: 0, dy: 1)]])
        XCTAssertEqual(keys(c("d"), focus: .list), [.togglePen])
        XCTAssertEqual(keys(c("1"), focus: .canvas), [.setStrength(1)])
        XCTAssertEqual(keys(c("9"), focus: .list), [.setStrength(9)])
        XCTAssertEqual(keys(c("-"), focus: .list), [.adjustOpacity(-10)])
        XCTAssertEqual(keys(c("+"), focus: .list), [.adjustOpacity(10)])
        XCTAssertEqual(keys(c("="), focus: .canvas), [.adjustOpacity(10)])
        XCTAssertEqual(keys(c("x"), focus: .canvas), [.toggleExclude])
        XCTAssertEqual(keys(c("f"), focus: .list), [.toggleFlag])
        XCTAssertEqual(keys(c("w"), focus: .list), [])
        XCTAssertEqual(keys(.other(265), focus: .list), [])
        XCTAssertEqual(keys(c("j"), focus: .list, help: true), [.toggleHelp])
        XCTAssertEqual(keys(c("q"), focus: .list, help: true), [.toggleHelp, .quit])
    }

    /// While `f` asks for a note, keys are text: "a", "x", "q" type; Enter stores, Esc cancels, Ctrl-C quits.
    func testNotePromptKeysAreText() {
        var s = Fixture.state(Fixture.backend())
        s.typingNote = true
        let k = { (key: Key) in actions(for: .key(key), in: s, size: self.size) }
        XCTAssertEqual(["a", "x", "q", "f", " "].map { k(.character($0)) }, [[.typeNote("a")], [.typeNote("x")], [.typeNote("q")], [.typeNote("f")], [.typeNote(" ")]])
        XCTAssertEqual(k(.enter), [.endNote])
        XCTAssertEqual(k(.character("\r")), [.endNote])
        XCTAssertEqual(k(.escape), [.cancelNote])
        XCTAssertEqual(k(.character("\u{7F}")), [.deleteNoteCharacter])
        XCTAssertEqual(k(.other(263)), [.deleteNoteCharacter])
        XCTAssertEqual(k(.character("\u{3}")), [.quit])
        XCTAssertEqual(k(.up), [])
        XCTAssertTrue(statusLines(s)[2].hasPrefix(" flag note: _   Enter flags, Esc cancels"), statusLines(s)[2])
    }

    func testMouseOnCanvasListAndWheel() {
        var s = Fixture.state(Fixture.backend())
        func m(_ k: MouseKind, _ col: Int, _ row: Int) -> [ReviewAction] {
            actions(for: .mouse(MouseEvent(k, column: col, row: row)), in: s, size: size)
        }
        // Image at column 28, row 1, scale 4 (RenderTests): cell (28,1) centre → (0.125, 0.25) px.
        XCTAssertEqual(m(.press(.left), 28, 1), [.beginStroke(.paint, BrushPoint(0.125, 0.25))])
        XCTAssertEqual(m(.press(.right), 28, 1), [.beginStroke(.erase, BrushPoint(0.125, 0.25))])
        XCTAssertEqual(m(.motion, 30, 1), [], "no drag in progress")
        XCTAssertEqual(m(.release, 30, 1), [])
        XCTAssertEqual(m(.wheelUp, 2, 2), [.adjustRadius(1)])
        XCTAssertEqual(m(.wheelDown, 30, 2), [.adjustRadius(-1)])
        // List rows start below the two header rows: row 4 is position 2, row 1 (progress) is no sample.
        XCTAssertEqual(m(.press(.left), 5, 4), [.focus(.list), .selectSample(position: 2)])
        XCTAssertEqual(m(.press(.left), 5, 1), [])
        XCTAssertEqual(m(.press(.left), 5, 7), [.focus(.list)])
        s = reduce(s, .beginStroke(.paint, BrushPoint(1, 1))).0
        XCTAssertEqual(m(.motion, 32, 1), [.extendStroke(BrushPoint(1.125, 0.25))])
        XCTAssertEqual(m(.release, 36, 1), [.extendStroke(BrushPoint(2.125, 0.25)), .endStroke])
        XCTAssertEqual(actions(for: .mouse(MouseEvent(.press(.left), column: 1, row: 1)), in: s,
                               size: TerminalSize(columns: 10, rows: 5)), [], "too small: nothing to click")
    }
}
