import XCTest
import HITL
@testable import ReviewUI

/// Rendered cells of tiny hand-made states. Layout at 48×12 with a 4×4 image (worked by hand):
/// list 24 columns, separator at column 24, canvas area from column 25, row 1, 23×8 cells, so the
/// scale is min(23/4, 16/4) = 4 display pixels per image pixel; the image is 16×16 display pixels =
/// 16×8 cells at column 25 + (23−16)/2 = 28, row 1. Cell row r shows image row ⌊(2r+0.5)/4⌋ above
/// and ⌊(2r+1.5)/4⌋ below. Status rows 9…11.
final class RenderTests: XCTestCase {
    let size = TerminalSize(columns: 48, rows: 12)

    func testLayoutByHand() {
        let l = ReviewLayout(size: size, imageWidth: 4, imageHeight: 4)
        XCTAssertEqual(l.scale, 4)
        XCTAssertEqual(l.image, CellRect(column: 28, row: 1, columns: 16, rows: 8))
        XCTAssertEqual(l.status, CellRect(column: 0, row: 9, columns: 48, rows: 3))
        // Mouse in cell (30, 3): display x 2 + 0.5 → 0.625 px; display y 2·2 + 1 = 5 → 1.25 px.
        XCTAssertEqual(l.imagePoint(column: 30, row: 3).x, 0.625)
        XCTAssertEqual(l.imagePoint(column: 30, row: 3).y, 1.25)
        // Odd display heights: a 3×3 image at scale 5 is 15 display rows = 8 cells, last half empty.
        let odd = ReviewLayout(size: size, imageWidth: 3, imageHeight: 3)
        XCTAssertEqual(odd.scale, 5)
        XCTAssertEqual(odd.displayHeight, 15)
        XCTAssertEqual(odd.image.rows, 8)
    }

    func testImageViewCellsAreUpperAndLowerPixels() {
        var s = Fixture.state(Fixture.backend())
        s.view = .image
        let g = render(s, size: size)
        // Cell (28,1): image pixel (0,0) above and below.
        XCTAssertEqual(g[28, 1], Cell("▀", foreground: RGB(200, 100, 50), background: RGB(200, 100, 50)))
        // Cell (43,8): display column 15 → image x 3; display rows 14, 15 → image y 3: (230, 160, 50).
        XCTAssertEqual(g[43, 8], Cell("▀", foreground: RGB(230, 160, 50), background: RGB(230, 160, 50)))
        // Cell (32,2): display rows 2, 3 → image row 0; column 4 → x 1: (210, 100, 50).
        XCTAssertEqual(g[32, 2]?.foreground, RGB(210, 100, 50))
        // The brush centre (2,2) px is display pixel (8,8): upper half of cell (36, 5), drawn white.
        XCTAssertEqual(g[36, 5]?.foreground, .white)
        XCTAssertEqual(g[27, 1], Cell(" "), "left of the image stays blank")
    }

    func testBlendAndMapViewsUseJet() {
        var s = Fixture.state(Fixture.backend(mapValue: 1))
        // jet(1) = (0.5, 0, 0) → (128, 0, 0); blended half and half with (200, 100, 50).
        XCTAssertEqual(render(s, size: size)[28, 1]?.foreground, RGB(164, 50, 25))
        s.view = .map
        XCTAssertEqual(render(s, size: size)[28, 1], Cell("▀", foreground: RGB(128, 0, 0), background: RGB(128, 0, 0)))
        s = Fixture.state(Fixture.backend(mapValue: 0))
        s.view = .map
        XCTAssertEqual(render(s, size: size)[28, 1]?.foreground, RGB(0, 0, 128))
    }

    func testListHeaderRowsAndSeparator() {
        let s = Fixture.state(Fixture.backend())
        let g = render(s, size: size)
        XCTAssertEqual(String(g.lines[0].prefix(24)), " Samples 1/3            ")
        // Progress: " of 3" would make 25 columns, so it is left out rather than cut.
        XCTAssertEqual(String(g.lines[1].prefix(24)), " 0*  0✓  3 untouched    ")
        XCTAssertEqual(String(g.lines[2].prefix(24)), " 7 cat→dog      71%     ")
        XCTAssertEqual(String(g.lines[3].prefix(24)), " 8 cat→dog      71%     ")
        XCTAssertEqual(g[1, 2]?.background, Theme.highlight)
        XCTAssertEqual(g[1, 2]?.foreground, Theme.highlightText)
        XCTAssertEqual(g[1, 3]?.background, Theme.background)
        XCTAssertEqual(g[24, 4]?.character, "│")
        var edited = s
        edited.histories[1].commit(AttentionMap(height: 2, width: 2, fill: 1))
        edited.histories[2].setMarks(SampleMarks(accepted: true, excluded: true))
        edited.histories[0].setMarks(SampleMarks(flagged: true, flagNote: "why?"))
        // Right part: space, the confidence in 4 columns, space, then * ✓ ! x (a space where unset).
        XCTAssertEqual(listRowText(edited, position: 1, width: 24), " 8 cat→dog      71% *   ")
        XCTAssertEqual(listRowText(edited, position: 2, width: 24), " 9 cat→dog      71%  ✓ x")
        XCTAssertEqual(listRowText(edited, position: 0, width: 24), " 7 cat→dog      71%   ! ")
        XCTAssertEqual(listRowText(edited, position: 2, width: 10), "  71%  ✓ x", "only the right part fits")
    }

    func testStatusLines() {
        var s = Fixture.state(Fixture.backend())
        XCTAssertEqual(statusLines(s), [
            " #7  label cat  perception dog 71%  attention ship 60%",
            " what-if (model's map) dog 71%  top-3: dog 71% cat 20% ship 9%",
            " tool paint  radius 0.5px  view blend  saved  ?:help",
        ])
        let g = render(s, size: size)
        XCTAssertEqual(g.lines[9], String(" #7  label cat  perception dog 71%  attention ship 60%".prefix(48)))
        XCTAssertEqual(g[0, 9]?.background, Theme.statusBackground)
        s = Fixture.state(Fixture.backend(mapValue: 1))
        s = reduce(s, .setTool(.erase)).0
        s = reduce(s, .applyBrush).0
        XCTAssertEqual(statusLines(s)[1], " what-if (edited map) …")
        XCTAssertEqual(statusLines(s)[2], " tool erase  radius 0.5px  view blend  UNSAVED  ?:help")
    }

    func testTooSmallTerminalSaysSo() {
        let s = Fixture.state(Fixture.backend())
        XCTAssertEqual(render(s, size: TerminalSize(columns: 47, rows: 30)).lines[0],
                       "terminal too small: need at least 48x12        ")
        let tiny = render(s, size: TerminalSize(columns: 20, rows: 3)).lines
        XCTAssertEqual(tiny, ["terminal too small: ", "need at least 48x12 ", "                    "])
        XCTAssertEqual(render(s, size: TerminalSize(columns: 0, rows: 0)).cells.count, 0)
        XCTAssertEqual(render(s, size: TerminalSize(columns: -4, rows: 9)).cells.count, 0)
    }

    func testMonochromeUsesShadesAndReverseVideo() {
        var s = Fixture.state(Fixture.backend(mapValue: 1))
        s.view = .map
        let g = render(s, size: size, colors: .monochrome)
        XCTAssertEqual(g[28, 1], Cell("█"))
        XCTAssertEqual(g[1, 2]?.attributes, [.reverse, .bold])
        XCTAssertEqual(g[0, 9]?.attributes, [.reverse])
        // Image view: luminance of (200,100,50) = (0.299·200 + 0.587·100 + 0.114·50)/255 = 0.4868 → '▒'.
        s.view = .image
        XCTAssertEqual(render(s, size: size, colors: .monochrome)[28, 1]?.character, "▒")
        XCTAssertEqual(Palette.shade(0), " ")
        XCTAssertEqual(Palette.shade(0.99), "█")
        XCTAssertEqual(Palette.shade(.nan), " ")
    }

    func testBilinearUpsamplingWithHalfPixelCentres() {
        // 1×2 map [0, 1] over a 4-pixel-wide image: map x = (px + 0.5)·2/4 − 0.5 → −0.25 (clamped
        // to 0), 0.25, 0.75, 1.25 (clamped to 1).
        let map = AttentionMap(height: 1, width: 2, values: [0, 1])
        XCTAssertEqual(Compose.upsampled(map, imageWidth: 4, imageHeight: 1), [0, 0.25, 0.75, 1])
        XCTAssertEqual(Compose.upsampled(AttentionMap(height: 3, width: 3, values: []), imageWidth: 2, imageHeight: 2), [0, 0, 0, 0])
    }

    func testJetAndPaletteByHand() {
        XCTAssertEqual(RGB.jet(0), RGB(0, 0, 128))
        XCTAssertEqual(RGB.jet(1), RGB(128, 0, 0))
        // The canvas colours through the 256-entry table: 0.5 → entry 128, x = 128/255 = 0.50196:
        // red (x−0.35)/0.31 = 0.4902 → 125; green 1; blue 1 − (x−0.34)/0.31 = 0.4775 → 122.
        XCTAssertEqual(RGB.jet(0.5), RGB(125, 255, 122))
        XCTAssertEqual(RGB.jet(.nan), RGB.jet(0))
        XCTAssertEqual(Palette.xterm256(.black), 16)
        XCTAssertEqual(Palette.xterm256(.white), 231)
        XCTAssertEqual(Palette.xterm256(RGB(255, 0, 0)), 196)
        XCTAssertEqual(Palette.xterm256(RGB(95, 135, 175)), 16 + 36 * 1 + 6 * 2 + 3)
        // Mid grey: cube's nearest (135,135,135) is 147 away in squared distance, ramp step 12 (128) is exact.
        XCTAssertEqual(Palette.xterm256(RGB(128, 128, 128)), 244)
        XCTAssertEqual(Palette.directColor(RGB(0, 0, 5)), 0x010101)
        XCTAssertEqual(Palette.directColor(RGB(1, 2, 3)), 0x010203)
        XCTAssertEqual(ColorCapability.from(colors: 1 << 24), .direct)
        XCTAssertEqual(ColorCapability.from(colors: 256), .palette256)
        XCTAssertEqual(ColorCapability.from(colors: 16), .monochrome)
        XCTAssertEqual(ColorCapability.from(colors: 0), .monochrome)
    }

    func testOddCharactersCannotBreakTheLayout() {
        var g = CellGrid(columns: 6, rows: 1)
        g.text("a\u{1B}漢\u{7}b", 0, 0)
        XCTAssertEqual(g.lines, ["a???b "])
        g.text("toolong", 4, 0)
        XCTAssertEqual(g.lines, ["a???to"])
    }
}

final class ComposeTests: XCTestCase {
    func testUpsampledValuesAreClampedAndNaNIsZero() {
        // [2, −1] over 4 pixels mixes as 2, ¾·2 − ¼ = 1.25, ¼·2 − ¾ = −0.25, −1, then clamps to [0, 1].
        XCTAssertEqual(Compose.upsampled(AttentionMap(height: 1, width: 2, values: [2, -1]), imageWidth: 4, imageHeight: 1), [1, 1, 0, 0])
        // A NaN reaches every pixel that mixes it in (0.0·NaN is NaN); only the last pixel reads cell 1 alone.
        XCTAssertEqual(Compose.upsampled(AttentionMap(height: 1, width: 2, values: [.nan, 1]), imageWidth: 4, imageHeight: 1), [0, 0, 0, 1])
    }
}
