import Foundation
import XCTest
@testable import ReviewUI

/// End to end: the real `abn-hitl review` in tmux on sessions made by the real commands
/// (ReviewSessionFixture): accepting moves on (or not, with --no-advance), a second review resumes
/// where the first left off, and keyboard moves pan the zoomed view. The session's rows are read
/// back with sqlite3 (accepts are rows of `marks`, docs/formats.md).
final class ReviewSessionTmuxTests: XCTestCase {
    /// The status bar's first line starts with the selected sample's session id.
    private func showsSample(_ id: Int) -> (String) -> Bool { { $0.contains(" #\(id)  label ") } }

    func testAcceptAdvancesAndNoAdvanceStays() throws {
        let f = try ReviewSessionFixture(name: "accept", samples: 3)
        defer { f.remove() }
        let ids = try f.sampleIDs()
        XCTAssertEqual(ids.count, 3)
        var t = try f.review()
        defer { t.close() }
        try t.waitFor(timeout: 20, "the first sample") { $0.contains("Samples 1/3") && self.showsSample(ids[0])($0) }
        try t.waitFor(" 0*  0✓  3 untouched of 3")
        try t.sendLiteral("a")
        // Accepted, then the next sample in the list.
        try t.waitFor(timeout: 20, "the second sample") {
            $0.contains("Samples 2/3") && self.showsSample(ids[1])($0) && $0.contains(" 0*  1✓  2 untouched of 3")
        }
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try f.query("SELECT sample_id, kind, value, annotator, source FROM marks;"), "\(ids[0])|accept|1|tmux-test|toggle")

        // --no-advance: the accept is stored and the selection stays. The review opens at the
        // first sample neither edited nor accepted: the second.
        t.close()
        t = try f.review(["--no-advance"])
        try t.waitFor(timeout: 20, "the second sample") { $0.contains("Samples 2/3") && self.showsSample(ids[1])($0) }
        try t.sendLiteral("a")
        let screen = try t.waitFor(" 0*  2✓  1 untouched of 3", timeout: 20)
        XCTAssertTrue(screen.contains("Samples 2/3") && showsSample(ids[1])(screen), screen)
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try f.query("SELECT sample_id, kind, value FROM marks ORDER BY id;"), "\(ids[0])|accept|1\n\(ids[1])|accept|1")
        XCTAssertEqual(try f.query("SELECT count(*) FROM edits;"), "0", "accepting edits nothing")
    }

    func testSecondReviewResumesAtTheFirstUntouchedSample() throws {
        let f = try ReviewSessionFixture(name: "resume", samples: 4)
        defer { f.remove() }
        let ids = try f.sampleIDs()
        XCTAssertEqual(ids.count, 4)
        var t = try f.review()
        defer { t.close() }
        try t.waitFor(timeout: 20, "the first sample") { $0.contains("Samples 1/4") && self.showsSample(ids[0])($0) }
        // Accept the first (the review moves on), one dab on the second, then the third is left as it is.
        try t.sendLiteral("a")
        try t.waitFor(timeout: 20, "the second sample") { $0.contains("Samples 2/4") && self.showsSample(ids[1])($0) }
        try t.sendLiteral(" ")
        try t.waitFor(timeout: 20, "the dab saved") {
            $0.contains(" 1*  1✓  2 untouched of 4") && $0.contains("saved") && !$0.contains("UNSAVED")
        }
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try f.query("SELECT sample_id, kind, value FROM marks;"), "\(ids[0])|accept|1")
        XCTAssertEqual(try f.query("SELECT sample_id, source, annotator FROM edits;"), "\(ids[1])|stroke|tmux-test")

        // Again: it opens at the third sample, the first neither edited nor accepted, with the counts.
        t.close()
        t = try f.review()
        let screen = try t.waitFor(timeout: 20, "the third sample") { $0.contains("Samples 3/4") && self.showsSample(ids[2])($0) }
        XCTAssertTrue(screen.contains(" 1*  1✓  2 untouched of 4"), screen)
        // The list marks what the first review did: the first row accepted, the second edited.
        let rows = screen.components(separatedBy: "\n")
        XCTAssertTrue(rows[2].hasPrefix(" \(ids[0]) ") && rows[2].contains("✓"), rows[2])
        XCTAssertTrue(rows[3].hasPrefix(" \(ids[1]) ") && rows[3].contains("*"), rows[3])
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
    }

    /// Zoomed in, moving the brush with the keys past the view's margin pans the view, which a click
    /// then shows: the same cell means another image pixel.
    func testZoomedKeyboardMovesPanTheView() throws {
        let f = try ReviewSessionFixture(name: "pan", samples: 1)
        defer { f.remove() }
        let t = try f.review(columns: 100, rows: 30)
        defer { t.close() }
        // The synthetic images are 32×32; the brush starts at the centre.
        try t.waitFor("at 16,16", timeout: 20)
        try t.sendKeys("Tab")
        try t.sendLiteral("z")
        try t.waitFor("zoom ×2")
        // 100×30: list 33 columns, canvas area from column 34, 66 columns × 26 rows, 25 of them for
        // the image when zoomed; fitted scale ⌊min(66/32, 50/32)⌋ = 1, zoomed 2: the view shows all
        // 32 columns (64 display columns from column 35) and 25 of the 32 rows, centred on the brush
        // (16, 16): display origin y = 2·16 − 25 = 7. Each J moves the brush 4 px down (fast step
        // of a 32 px image): 20, 24 stay in the view, 28 is past its lower margin (16 + 12.5 − 25/8
        // = 25.375), so the centre follows to 28 − 12.5 + 3.125 = 18.625: origin y ⌊37.25 − 25⌋ = 12.
        for _ in 0..<3 { try t.sendLiteral("J") }
        try t.waitFor("at 16,28")
        // A click at cell (75, 11): display (75 − 35 + 0.5, 2·(11 − 1) + 1) = (40.5, 21) → image
        // (40.5/2, (21 + 12)/2) = (20.25, 16.5). Unpanned it would be (21 + 7)/2 = 14.
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: 75, row: 11))
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: 75, row: 11, release: true))
        try t.waitFor("at 20,16")
        try t.waitFor(timeout: 20, "the click's stroke saved") { $0.contains("saved") && !$0.contains("UNSAVED") }
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try f.query("SELECT count(*) FROM edits;"), "1")
    }
}
