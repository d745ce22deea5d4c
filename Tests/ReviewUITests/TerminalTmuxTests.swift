import Foundation
import XCTest
import HITL
@testable import ReviewUI

/// The real terminal path (ncurses, SGR mouse reports, signals, resize) in tmux, with this test
/// ReviewApp hosted over a logging in-memory backend by the review-ui-test-host executable. The same check
/// against the real `abn-hitl review` command and a real session is in ReviewCommandTmuxTests.
final class TerminalTmuxTests: XCTestCase {
    private var log = ""

    private func startHost(columns: Int = 100, rows: Int = 30) throws -> TmuxHarness {
        guard TmuxHarness.locateTmux() != nil else { throw MissingPrerequisite("tmux is not installed (bash tools/setup.sh installs it)") }
        let host = BuiltProducts.reviewHost
        guard FileManager.default.isExecutableFile(atPath: host) else { throw MissingPrerequisite("\(host) is not built (swift build builds it)") }
        log = NSTemporaryDirectory() + "abn-hitl-review-host-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        try? FileManager.default.removeItem(atPath: log)
        return try TmuxHarness(command: [host, log], columns: columns, rows: rows)
    }

    private func logLines() -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private func commits() -> [[Float]] {
        logLines().filter { $0.hasPrefix("commit ") }.map { line in
            line.split(separator: " ")[2].split(separator: ",").map { Float(String($0))! }
        }
    }

    private func waitForLog(_ count: Int, timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while logLines().count < count, Date() < deadline { usleep(30_000) }
        XCTAssertGreaterThanOrEqual(logLines().count, count, "log: \(logLines().map { String($0.prefix(40)) })")
    }

    func testKeysAndMouseDragsPaintCommitAndQuitRestoresTerminal() throws {
        let t = try startHost()
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try t.waitFor("Samples 1/3")
        XCTAssertEqual(try t.format("#{mouse_sgr_flag}#{mouse_button_flag}#{alternate_on}"), "111",
                       "SGR mouse, button-motion reporting and the alternate screen are on")
        let layout = ReviewLayout(size: TerminalSize(columns: 100, rows: 30), imageWidth: 32, imageHeight: 32)
        let c0 = layout.image.column + 4, r0 = layout.image.row + 4
        func point(_ c: Int, _ r: Int) -> BrushPoint { let p = layout.imagePoint(column: c, row: r); return BrushPoint(p.x, p.y) }
        var expected = AttentionMap(height: 16, width: 16, fill: 0.25)
        var history: [AttentionMap] = []

        // 1. Left drag: press, motion (button 1 held = 32), release.
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: c0, row: r0))
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 32, column: c0 + 5, row: r0))
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: c0 + 9, row: r0 + 2, release: true))
        expected = applyStroke(BrushStroke(tool: .paint, radius: 3, points: [point(c0, r0), point(c0 + 5, r0), point(c0 + 9, r0 + 2)]),
                               to: expected, imageWidth: 32, imageHeight: 32)
        history.append(expected)
        try waitForLog(1)

        // 2. Keyboard: the drag focused the canvas and left the cursor at the release point; move
        //    it 2 px right and 1 up, then space.
        var cursor = point(c0 + 9, r0 + 2)
        try t.sendLiteral("llk ")
        cursor = BrushPoint(cursor.x + 2, cursor.y - 1)
        expected = applyStroke(BrushStroke(tool: .paint, radius: 3, points: [cursor]), to: expected, imageWidth: 32, imageHeight: 32)
        history.append(expected)
        try waitForLog(2)

        // 3. Right click: the other tool (erase) at one point.
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 2, column: c0 + 1, row: r0))
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 2, column: c0 + 1, row: r0, release: true))
        expected = applyStroke(BrushStroke(tool: .erase, radius: 3, points: [point(c0 + 1, r0), point(c0 + 1, r0)]),
                               to: expected, imageWidth: 32, imageHeight: 32)
        history.append(expected)
        try waitForLog(3)

        // 4. Ctrl-Z undoes the erase: stored as a new edit whose map is the previous one.
        try t.sendKeys("C-z")
        try waitForLog(4)
        let edited = try t.waitFor("what-if (edited map)")
        XCTAssertTrue(edited.contains(" 1*  0✓  2 untouched of 3"), edited)
        // 5. Wheel up grows the radius 3 → 4; accept, which moves on to the next sample (#11).
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 64, column: c0, row: r0))
        try t.sendLiteral("a")
        try waitForLog(5)
        // The list row shows both marks (* edited, ✓ accepted) once the accept is drawn.
        let screen = try t.waitFor("60% *✓")
        XCTAssertTrue(screen.contains(" Samples 2/3"), screen)
        XCTAssertTrue(screen.contains(" 1*  1✓  2 untouched of 3"), screen)
        XCTAssertTrue(screen.contains(" #11  label cat"), screen)
        XCTAssertTrue(screen.contains("what-if (model's map)"), screen)
        XCTAssertTrue(screen.contains("radius 4px"), screen)
        XCTAssertTrue(screen.contains(" 10 cat→dog"), screen)
        XCTAssertTrue(screen.contains("saved"), screen)
        XCTAssertTrue(screen.contains("▀"), screen)

        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
        XCTAssertEqual(try t.format("#{mouse_sgr_flag}#{mouse_button_flag}#{mouse_standard_flag}#{alternate_on}"), "0000",
                       "mouse reporting off and normal screen back after q")
        XCTAssertEqual(commits(), [history[0], history[1], history[2], history[1]].map(\.values))
        XCTAssertEqual(logLines().filter { !$0.hasPrefix("commit") }, ["accept 10", "exited"])
    }

    func testSigtermRestoresTerminalAfterCommittedStroke() throws {
        let t = try startHost()
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try t.waitFor("Samples 1/3")
        try t.sendKeys("Tab")
        try t.sendLiteral(" ")
        try waitForLog(1)
        XCTAssertEqual(kill(try t.pid(), SIGTERM), 0)
        XCTAssertEqual(try t.waitForExit(), 0)
        XCTAssertEqual(logLines().last, "exited")
        XCTAssertEqual(try t.format("#{mouse_sgr_flag}#{mouse_button_flag}#{alternate_on}"), "000")
    }

    /// `/` through the real terminal: typed keys (even "a") go into the filter, Backspace, Enter and
    /// Escape arrive as curses delivers them; then F, s and N through the header.
    func testSlashFilterTypingEnterEscapeAndQuickFilter() throws {
        let t = try startHost()
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try t.waitFor("Samples 1/3")
        try t.sendLiteral("/a")
        try t.waitFor(" 1/3 of 3 · /a_")
        XCTAssertTrue(try t.capture().contains(" filter: a_   Enter keeps it, Esc clears it"))
        try t.sendKeys("BSpace")
        try t.sendLiteral("2.png")
        // Only #12 (train/cat/2.png) is shown, and selected: the status line says so.
        var screen = try t.waitFor(" 1/1 of 3 · /2.png_")
        XCTAssertTrue(screen.contains(" #12  label cat"), screen)
        XCTAssertFalse(screen.contains(" 10 cat→dog"), screen)
        try t.sendKeys("Enter")
        try t.waitFor(" 1/1 of 3 · /2.png ")
        try t.sendLiteral("a")
        try waitForLog(1)
        XCTAssertEqual(logLines(), ["accept 12"], "a typed into the filter accepted nothing")
        try t.sendLiteral("/")
        try t.waitFor("/2.png_")
        try t.sendKeys("Escape")
        screen = try t.waitFor(" Samples 3/3")
        XCTAssertTrue(screen.contains(" 0*  1✓  2 untouched of 3"), screen)
        // F: untouched (#10, #11): the selection (#12, accepted) moves to the first of them.
        try t.sendLiteral("F")
        screen = try t.waitFor(" 1/2 of 3 · untouched")
        XCTAssertTrue(screen.contains(" #10  label cat"), screen)
        try t.sendLiteral("N")
        try t.waitFor(" #11  label cat")
        try t.sendLiteral("s")
        // Equal confidences keep collect order; the title is cut at the list's 33 columns.
        try t.waitFor(" 2/2 of 3 · untouched · by confid│")
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testTooSmallThenResizeRedraws() throws {
        let t = try startHost(columns: 40, rows: 10)
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try t.waitFor("terminal too small: need at least 48x12")
        try t.run(["resize-window", "-t", t.target, "-x", "90", "-y", "28"])
        let screen = try t.waitFor("Samples 1/3")
        XCTAssertFalse(screen.contains("too small"), screen)
        try t.sendLiteral("?")
        try t.waitFor("Ctrl-R, Ctrl-Y")
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }
}
