import Foundation
import XCTest
import HITL
@testable import ReviewUI

/// Zoom, side by side and the colour modes through the real terminal path: review-ui-test-host
/// (three 32×32 images, 16×16 maps of 0.25) in tmux.
final class CanvasTmuxTests: XCTestCase {
    private var log = ""

    private func startHost(columns: Int, rows: Int, color: String? = nil, environment: [String: String] = [:]) throws -> TmuxHarness {
        guard TmuxHarness.locateTmux() != nil else { throw MissingPrerequisite("tmux is not installed (bash tools/setup.sh installs it)") }
        let host = BuiltProducts.reviewHost
        guard FileManager.default.isExecutableFile(atPath: host) else { throw MissingPrerequisite("\(host) is not built (swift build builds it)") }
        log = NSTemporaryDirectory() + "abn-hitl-canvas-host-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        try? FileManager.default.removeItem(atPath: log)
        return try TmuxHarness(command: [host, log] + (color.map { [$0] } ?? []), columns: columns, rows: rows, environment: environment)
    }

    private func commits() -> [[Float]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("commit ") }.map { line in
            line.split(separator: " ")[2].split(separator: ",").map { Float(String($0))! }
        }
    }

    private func waitForCommits(_ n: Int) {
        let deadline = Date().addingTimeInterval(10)
        while commits().count < n, Date() < deadline { usleep(30_000) }
    }

    /// The screen with its escape sequences (capture-pane -e), one line per row.
    private func captureWithColours(_ t: TmuxHarness) throws -> [String] {
        try t.run(["capture-pane", "-e", "-p", "-t", t.target]).components(separatedBy: "\n")
    }

    /// The coloured screen once `ready` holds for it (tmux may show part of a frame, and our own
    /// colour sequences follow curses' output), or the last one after 10 s.
    private func captureWithColours(_ t: TmuxHarness, when ready: ([String]) -> Bool) throws -> [String] {
        let deadline = Date().addingTimeInterval(10)
        var lines = try captureWithColours(t)
        while !ready(lines), Date() < deadline {
            usleep(50_000)
            lines = try captureWithColours(t)
        }
        return lines
    }

    /// The first frame up to the status bar's last line.
    @discardableResult
    private func waitForFirstFrame(_ t: TmuxHarness) throws -> String {
        try t.waitFor("Samples 1/3")
        return try t.waitFor("?:help")
    }

    func testZoomedClickPaintsTheImagePixelsUnderTheBrush() throws {
        let t = try startHost(columns: 100, rows: 30)
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try waitForFirstFrame(t)
        try t.sendLiteral("z")
        try t.waitFor("zoom ×2")
        // 100×30: list 33 columns, canvas area from column 34, 66×26 cells; zoom 2 keeps 25 rows =
        // 50 display rows; fitted ⌊min(66/32, 50/32)⌋ = 1, zoomed 2: the image is 64×64, shown 64
        // wide from column 34 + (66 − 64)/2 = 35, rows centred on (16, 16): origin y 32 − 25 = 7.
        // Cell (75, 11) is display (40.5, 21) → image (40.5/2, (21 + 7)/2) = (20.25, 14).
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: 75, row: 11))
        try t.sendLiteral(TmuxHarness.sgrMouse(button: 0, column: 75, row: 11, release: true))
        waitForCommits(1)
        // The initial brush on a 32 px image is 3 px (a tenth, snapped to a step).
        let expected = applyStroke(BrushStroke(tool: .paint, radius: 3, points: [BrushPoint(20.25, 14)]),
                                   to: AttentionMap(height: 16, width: 16, fill: 0.25), imageWidth: 32, imageHeight: 32)
        XCTAssertEqual(commits().first, expected.values)
        // The same stroke at zoom 1 would have landed elsewhere: the zoom changed which pixels the click meant.
        let unzoomed = ReviewLayout(size: TerminalSize(columns: 100, rows: 30), imageWidth: 32, imageHeight: 32).imagePoint(column: 75, row: 11)
        XCTAssertNotEqual(unzoomed.x, 20.25)
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testSideBySideShowsThreePanels() throws {
        let t = try startHost(columns: 120, rows: 30)
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try waitForFirstFrame(t)
        try t.sendLiteral("v")
        // 120×30: three panels of 25 columns at 41, 67 and 93, rows 7…19 (ViewportTests). The wait
        // is for the whole frame: tmux may show the header before the rows below it.
        func drawn(_ screen: String) -> [Int] {
            let lines = screen.components(separatedBy: "\n")
            guard lines.count > 10 else { return [] }
            let row = Array(lines[10].unicodeScalars)
            return row.indices.filter { row[$0] == "▀" }
        }
        try t.waitFor("[image | map | blend]")
        try t.waitFor("three panels on row 10") { drawn($0) == Array(41...65) + Array(67...91) + Array(93...117) }
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testTruecolourWritesDirectColourSequences() throws {
        // TERM is xterm-256color (no RGB in terminfo): the canvas is painted with our own 38;2 / 48;2.
        let t = try startHost(columns: 100, rows: 30, color: "truecolor")
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try waitForFirstFrame(t)
        let lines = try captureWithColours(t) { $0.count > 10 && $0[10].contains("38;2;") }
        // Row 10 crosses the image; the blend of the host's pixel (x·8, y·8, 128) with jet(0.25) is
        // not a 256-colour palette entry, so only a 24-bit sequence can carry it.
        XCTAssertTrue(lines[10].contains("38;2;") && lines[10].contains("48;2;"), lines[10])
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testAutoTakesTruecolourFromColorterm() throws {
        // As under tmux with `default-terminal tmux-256color`: terminfo has 256 colours and no RGB,
        // COLORTERM says the terminal takes 24-bit colour; without COLORTERM the palette is used.
        for (colorterm, direct) in [("truecolor", true), ("", false)] {
            let t = try startHost(columns: 100, rows: 30, environment: ["TERM": "tmux-256color", "COLORTERM": colorterm])
            defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
            try waitForFirstFrame(t)
            let row = try captureWithColours(t) { $0.count > 10 && $0[10].contains(direct ? "38;2;" : "38;5;") }[10]
            XCTAssertEqual(row.contains("38;2;"), direct, "COLORTERM=\(colorterm): \(row.debugDescription)")
            XCTAssertEqual(row.contains("38;5;"), !direct, "COLORTERM=\(colorterm): \(row.debugDescription)")
            try t.sendLiteral("q")
            XCTAssertEqual(try t.waitForExit(), 0)
        }
    }

    /// The parameters of each SGR sequence in `line`.
    private func sgrParameters(_ line: String) -> [[Int]] {
        let pattern = try! NSRegularExpression(pattern: "\u{1B}\\[([0-9;]*)m")
        let ns = line as NSString
        return pattern.matches(in: line, range: NSRange(location: 0, length: ns.length)).map { m in
            ns.substring(with: m.range(at: 1)).split(separator: ";").compactMap { Int($0) }
        }
    }

    /// An SGR parameter that sets a colour: 30–38, 40–48, 90–97, 100–107.
    private func setsColour(_ line: String) -> Bool {
        sgrParameters(line).joined().contains {
            (30...38).contains($0) || (40...48).contains($0) || (90...97).contains($0) || (100...107).contains($0)
        }
    }

    func testNoneShadesTheCanvasWithoutAnyColour() throws {
        let t = try startHost(columns: 100, rows: 30, color: "none")
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        let screen = try waitForFirstFrame(t)
        let lines = try captureWithColours(t)
        for (r, line) in lines.enumerated() { XCTAssertFalse(setsColour(line), "row \(r): \(line.debugDescription)") }
        // Row 10 crosses the image (columns 51…82, ViewportTests' arithmetic at 100×30): shading
        // glyphs of the blend, half the image's luminance and half the map's 0.25, never half blocks.
        let row = Array(screen.components(separatedBy: "\n")[10].unicodeScalars)
        XCTAssertTrue(row[51...82].allSatisfy { Palette.shades.contains($0) }, String(String.UnicodeScalarView(row)))
        XCTAssertTrue(row[51...82].contains { $0 != " " }, String(String.UnicodeScalarView(row)))
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testSixteenColoursUseTheAnsiColoursOnly() throws {
        let t = try startHost(columns: 100, rows: 30, color: "16")
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try waitForFirstFrame(t)
        let parameters = try captureWithColours(t) { $0.count > 10 && $0[10].contains("\u{1B}[") }.flatMap(sgrParameters)
        XCTAssertFalse(parameters.contains { $0.contains(38) || $0.contains(48) }, "no 256-colour or 24-bit sequences")
        XCTAssertTrue(parameters.joined().contains { (30...37).contains($0) || (90...97).contains($0) })
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testNoColorLeavesTheChromeUncoloured() throws {
        let t = try startHost(columns: 100, rows: 30, environment: ["NO_COLOR": "1"])
        defer { t.close(); try? FileManager.default.removeItem(atPath: log) }
        try waitForFirstFrame(t)
        let lines = try captureWithColours(t)
        // Headers (row 0), list rows and the status bar (rows 27…29): no colour. Row 10 crosses the canvas: colour.
        for r in [0, 1, 2, 27, 28, 29] { XCTAssertFalse(setsColour(lines[r]), "row \(r): \(lines[r].debugDescription)") }
        XCTAssertTrue(setsColour(lines[10]), lines[10].debugDescription)
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    func testUnknownColorModeIsAUsageErrorListingTheModes() throws {
        let binary = BuiltProducts.abnHitl
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw MissingPrerequisite("\(binary) is not built") }
        let r = try Spawn.run(binary, ["review", "/nonexistent", "--color", "42"])
        XCTAssertEqual(r.status, 64, "ArgumentParser's usage error")
        for mode in ["'auto'", "'truecolor'", "'256'", "'16'", "'none'"] { XCTAssertTrue(r.error.contains(mode), r.error) }
    }
}
