import XCTest
import HITL
@testable import ReviewUI

/// Zoom, pan and the side-by-side layout, worked by hand.
final class ViewportTests: XCTestCase {
    func testWindowOnAnEnlargedImage() {
        // 8×8 image at 4 display px per pixel is 32×32; a 10×12 window centred on (4, 4) = display
        // (16, 16) starts at (16 − 5, 16 − 6) = (11, 10).
        let v = Viewport(scale: 4, imageWidth: 8, imageHeight: 8, roomWidth: 10, roomHeight: 12, center: (4, 4))
        XCTAssertEqual([v.width, v.height, v.originX, v.originY], [10, 12, 11, 10])
        // Display (0, 0) is enlarged (11.5, 10.5) → pixel (⌊2.875⌋, ⌊2.625⌋) = (2, 2); (9, 11) is
        // (20.5, 21.5) → (5, 5).
        XCTAssertTrue(v.imagePixel(displayX: 0, displayY: 0) == (2, 2))
        XCTAssertTrue(v.imagePixel(displayX: 9, displayY: 11) == (5, 5))
        XCTAssertTrue(v.displayPoint(imageX: 4, imageY: 4) == (5, 6))
        XCTAssertTrue(v.imagePoint(displayX: 5.5, displayY: 7) == (4.125, 4.25))
        // Near the edges the window stops at the image: centre (0, 0) → origin (0, 0); centre (8, 8)
        // → origin (32 − 10, 32 − 12) = (22, 20), whose last display pixel (31.5) is image pixel 7.
        let corner = Viewport(scale: 4, imageWidth: 8, imageHeight: 8, roomWidth: 10, roomHeight: 12, center: (0, 0))
        XCTAssertEqual([corner.originX, corner.originY], [0, 0])
        let far = Viewport(scale: 4, imageWidth: 8, imageHeight: 8, roomWidth: 10, roomHeight: 12, center: (8, 8))
        XCTAssertEqual([far.originX, far.originY], [22, 20])
        XCTAssertTrue(far.imagePixel(displayX: 9, displayY: 11) == (7, 7))
        // An image that fits is shown whole from its corner, whatever the centre.
        let fits = Viewport(scale: 2, imageWidth: 8, imageHeight: 8, roomWidth: 20, roomHeight: 20, center: (7, 1))
        XCTAssertEqual([fits.width, fits.height, fits.originX, fits.originY], [16, 16, 0, 0])
    }

    func testViewFollowsTheBrushPastTheEdge() {
        // 32 px image, 8 px window (half 4, margin 1): from centre 16 the brush may go 13…19.
        func f(_ c: Double, _ p: Double, visible: Double = 8) -> Double {
            Viewport.follow(center: BrushPoint(c, 16), cursor: BrushPoint(p, 16), visibleWidth: visible, visibleHeight: 8,
                            imageWidth: 32, imageHeight: 32).x
        }
        XCTAssertEqual(f(16, 16), 16)
        XCTAssertEqual(f(16, 19), 16)
        XCTAssertEqual(f(16, 20.5), 17.5, "past the margin: 20.5 − 4 + 1")
        XCTAssertEqual(f(16, 2), 5, "2 + 4 − 1")
        XCTAssertEqual(f(16, 0), 4, "stops where the window meets the image's edge")
        XCTAssertEqual(f(30, 29), 28, "a centre past the edge is first brought back to 32 − 4")
        XCTAssertEqual(f(3, 16, visible: 40), 16, "a window larger than the image: the image's centre")
    }

    func testZoomSteps() {
        XCTAssertEqual(ZoomLevels.step(1, by: 1), 2)
        XCTAssertEqual(ZoomLevels.step(4, by: 1), 6)
        XCTAssertEqual(ZoomLevels.step(32, by: 1), 32)
        XCTAssertEqual(ZoomLevels.step(1, by: -1), 1)
        XCTAssertEqual(ZoomLevels.step(12, by: -2), 6)
    }

    func testZoomedLayoutAndMouseAt80x24() {
        // 80×24, 32×32 image: list 26 columns, canvas area from column 27, row 1, 53×20 cells. Zoom 2
        // keeps the last row for the legend: 19 rows = 38 display rows; fitted scale ⌊min(53/32, 38/32)⌋
        // = 1, zoomed 2: the image is 64×64, the window 53×38 centred on (16, 16) → origin
        // (⌊32 − 26.5⌋, 32 − 19) = (5, 13), at column 27, rows 1…19; the legend on row 20.
        let l = ReviewLayout(size: TerminalSize(columns: 80, rows: 24), imageWidth: 32, imageHeight: 32, zoom: 2,
                             center: BrushPoint(16, 16))
        XCTAssertEqual(l.scale, 2)
        XCTAssertEqual(l.image, CellRect(column: 27, row: 1, columns: 53, rows: 19))
        XCTAssertEqual([l.viewport.originX, l.viewport.originY], [5, 13])
        XCTAssertEqual(l.legend, CellRect(column: 27, row: 20, columns: 53, rows: 1))
        // Cell (53, 10): display (26.5, 19) → image ((26.5 + 5)/2, (19 + 13)/2) = (15.75, 16).
        XCTAssertTrue(l.imagePoint(column: 53, row: 10) == (15.75, 16))
        XCTAssertTrue(l.imagePoint(column: 27, row: 1) == (2.75, 7))
        // Unzoomed the same terminal shows the whole image at scale 1: 32×16 cells at column
        // 27 + (53 − 32)/2 = 37, row 1 + (20 − 16)/2 = 3; the last row (20) is free for the legend.
        let one = ReviewLayout(size: TerminalSize(columns: 80, rows: 24), imageWidth: 32, imageHeight: 32)
        XCTAssertEqual(one.image, CellRect(column: 37, row: 3, columns: 32, rows: 16))
        XCTAssertEqual(one.legend?.row, 20)
    }

    func testZoomFourOnA224PixelImage() {
        // 120×40: canvas area from column 41, 79×36 cells; zoom keeps 35 rows = 70 display rows.
        // Fitted min(79/224, 70/224) = 0.3125 (below 1: kept fractional), zoomed 4: 1.25 display px
        // per pixel, the image 280×280; the 79×70 window centred on (100, 60) starts at
        // (⌊125 − 39.5⌋, 75 − 35) = (85, 40), at column 41, row 1.
        let l = ReviewLayout(size: TerminalSize(columns: 120, rows: 40), imageWidth: 224, imageHeight: 224, zoom: 4,
                             center: BrushPoint(100, 60))
        XCTAssertEqual(l.scale, 1.25)
        XCTAssertEqual([l.viewport.originX, l.viewport.originY, l.viewport.width, l.viewport.height], [85, 40, 79, 70])
        XCTAssertEqual(l.image, CellRect(column: 41, row: 1, columns: 79, rows: 35))
        // Cell (51, 6): display (10.5, 11) → ((10.5 + 85)/1.25, (11 + 40)/1.25) = (76.4, 40.8); its
        // upper display pixel (10, 10) shows pixel (⌊95.5/1.25⌋, ⌊50.5/1.25⌋) = (76, 40).
        let p = l.imagePoint(column: 51, row: 6)
        XCTAssertEqual(p.x, 76.4, accuracy: 1e-9)
        XCTAssertEqual(p.y, 40.8, accuracy: 1e-9)
        XCTAssertTrue(l.imagePixel(displayX: 10, displayY: 10) == (76, 40))
    }

    func testSideBySidePanels() {
        // 120×30: canvas area from column 41, 79×26 cells. Three panels of (79 − 2)/3 = 25 columns;
        // scale min(25/32, 52/32) = 0.78125, 25×25 display px = 25×13 cells at row 1 + (26 − 13)/2 = 7,
        // panels at columns 41, 41 + 26 = 67 and 93.
        let wide = ReviewLayout(size: TerminalSize(columns: 120, rows: 30), imageWidth: 32, imageHeight: 32, sideBySide: true)
        XCTAssertEqual(wide.panels, [CanvasPanel(view: .image, rect: CellRect(column: 41, row: 7, columns: 25, rows: 13)),
                                     CanvasPanel(view: .map, rect: CellRect(column: 67, row: 7, columns: 25, rows: 13)),
                                     CanvasPanel(view: .blend, rect: CellRect(column: 93, row: 7, columns: 25, rows: 13))])
        // A click in the middle panel maps like one in the first: column 67 + 12 → display 12.5 → 16.
        XCTAssertEqual(wide.imagePoint(column: 79, row: 10).x, 16)
        XCTAssertEqual(wide.imagePoint(column: 41 + 12, row: 10).x, 16)
        // 100×30: area from column 34, 66 columns: (66 − 2)/3 = 21 < 24, so two panels of 32 columns,
        // the image and the current view, at columns 34 and 67, scale 1.
        let two = ReviewLayout(size: TerminalSize(columns: 100, rows: 30), imageWidth: 32, imageHeight: 32, sideBySide: true, view: .map)
        XCTAssertEqual(two.panels.map(\.view), [.image, .map])
        XCTAssertEqual(two.panels.map(\.rect.column), [34, 67])
        XCTAssertEqual(ReviewLayout.sideBySideViews(areaColumns: 66, view: .image), [.image, .blend])
        // 80×24: 53 columns, (53 − 1)/2 = 26 ≥ 24: two panels; 48 columns and fewer: one.
        XCTAssertEqual(ReviewLayout.sideBySideViews(areaColumns: 53, view: .blend), [.image, .blend])
        XCTAssertEqual(ReviewLayout.sideBySideViews(areaColumns: 48, view: .blend), [.blend])
    }

    func testContourIsTheInnerEdgeOfTheRegionAtHalf() {
        let values: [Float] = [0, 0, 1, 1,
                               0, 1, 1, 1,
                               0, 0, 0, 1]
        XCTAssertEqual(Contour.pixels(values, width: 4, height: 3),
                       [false, false, true, false,
                        false, true, true, false,
                        false, false, false, true])
        XCTAssertEqual(Contour.pixels([1, 1, 1, 1], width: 2, height: 2), [false, false, false, false], "no edge inside a uniform map")
    }
}

/// Colour modes: the choice, the quantisation and the escape sequences, worked by hand.
final class ColorModeTests: XCTestCase {
    func testResolve() {
        func r(_ m: ColorMode, _ env: [String: String] = [:], colors: Int = 256, rgb: Bool = false) -> ColorSetup {
            ColorSetup.resolve(mode: m, environment: env, terminfoColors: colors, terminfoRGB: rgb)
        }
        XCTAssertEqual(r(.auto, ["COLORTERM": "truecolor"]), ColorSetup(capability: .direct, plainChrome: false))
        XCTAssertEqual(r(.auto, ["COLORTERM": "24BIT"]).capability, .direct)
        XCTAssertEqual(r(.auto, ["COLORTERM": "yes"]).capability, .palette256)
        XCTAssertEqual(r(.auto, rgb: true).capability, .direct)
        XCTAssertEqual(r(.auto, colors: 1 << 24).capability, .direct)
        XCTAssertEqual(r(.auto, colors: 8).capability, .monochrome)
        XCTAssertEqual(r(.auto, ["NO_COLOR": "1"]), ColorSetup(capability: .palette256, plainChrome: true))
        XCTAssertEqual(r(.auto, ["NO_COLOR": ""]).plainChrome, false, "NO_COLOR counts only when non-empty")
        XCTAssertEqual(r(.truecolor, colors: 0), ColorSetup(capability: .direct, plainChrome: false))
        XCTAssertEqual(r(.ansi16).capability, .ansi16)
        XCTAssertEqual(r(.palette256, colors: 8).capability, .palette256)
        XCTAssertEqual(r(.none, ["COLORTERM": "truecolor"]), ColorSetup(capability: .monochrome, plainChrome: true))
        XCTAssertEqual(ColorMode.allCases.map(\.rawValue), ["auto", "truecolor", "256", "16", "none"])
        // What curses draws itself: 16 colours get the ANSI colours, fewer none.
        XCTAssertEqual(ColorCapability.curses(colors: 16), .ansi16)
        XCTAssertEqual(ColorCapability.curses(colors: 8), .monochrome)
        XCTAssertEqual(ColorCapability.curses(colors: 256), .palette256)
    }

    func testDrawingThroughCursesOrOurOwnSequences() {
        func d(_ c: ColorCapability, _ colors: Int) -> (ColorCapability, Bool) {
            ColorSetup(capability: c, plainChrome: false).drawing(terminfoColors: colors)
        }
        XCTAssertTrue(d(.direct, 256) == (.palette256, true), "truecolour on tmux-256color: nearest through curses, then ours")
        XCTAssertTrue(d(.direct, 1 << 24) == (.direct, false), "xterm-direct: curses does it")
        XCTAssertTrue(d(.palette256, 256) == (.palette256, false))
        XCTAssertTrue(d(.palette256, 1 << 24) == (.direct, true), "a direct terminfo reads colour numbers as RGB")
        XCTAssertTrue(d(.ansi16, 256) == (.ansi16, false), "indices 0…15 are valid in a 256-colour palette")
        XCTAssertTrue(d(.palette256, 8) == (.monochrome, true))
        XCTAssertTrue(d(.monochrome, 256) == (.monochrome, false))
        XCTAssertTrue(d(.direct, 0) == (.monochrome, true), "no colours in terminfo: ours alone")
    }

    func testNearestAnsiColour() {
        // jet(0) = (0, 0, 128): blue (0, 0, 238) is 110² away, black 128².
        XCTAssertEqual(Palette.ansi16(RGB(0, 0, 128)), 4)
        // jet(1) = (128, 0, 0): red (205, 0, 0) is 77² away, black 128².
        XCTAssertEqual(Palette.ansi16(RGB(128, 0, 0)), 1)
        XCTAssertEqual(Palette.ansi16(RGB(128, 128, 128)), 8)
        XCTAssertEqual(Palette.ansi16(.white), 15)
        // (120, 190, 255): bright blue (92, 92, 255) 28² + 98² = 10388 beats white-ish 7 at 14078.
        XCTAssertEqual(Palette.ansi16(RGB(120, 190, 255)), 12)
    }

    func testSgrSequences() {
        XCTAssertEqual(SGR.colorParameters(foreground: RGB(1, 2, 3), background: RGB(4, 5, 6), .direct), "38;2;1;2;3;48;2;4;5;6")
        // (255, 0, 0) is cube (5, 0, 0) = 16 + 180 = 196; black is cube 16 (the grey ramp starts at 8).
        XCTAssertEqual(SGR.colorParameters(foreground: RGB(255, 0, 0), background: .black, .palette256), "38;5;196;48;5;16")
        XCTAssertEqual(SGR.colorParameters(foreground: .white, background: RGB(0, 0, 128), .ansi16), "97;44")
        XCTAssertEqual(SGR.colorParameters(foreground: RGB(128, 0, 0), background: .black, .ansi16), "31;40")
        var g = CellGrid(columns: 3, rows: 2)
        g.set(0, 1, Cell("a", foreground: RGB(1, 2, 3), background: .black))
        g.set(1, 1, Cell("x", attributes: .plain))
        g.set(2, 1, Cell("b", foreground: RGB(1, 2, 3), background: .black, attributes: .bold))
        XCTAssertEqual(SGR.paint(g, rows: [1], .direct),
                       "\u{1B}[2;1H\u{1B}[0;38;2;1;2;3;48;2;0;0;0ma\u{1B}[2;3H\u{1B}[0;1;38;2;1;2;3;48;2;0;0;0mb\u{1B}[0m")
        XCTAssertEqual(SGR.paint(g, rows: [], .direct), "")
    }
}

/// The canvas's new drawing: side-by-side panels, the hidden map, zoom, the legend and NO_COLOR.
final class CanvasRenderTests: XCTestCase {
    /// 100×30 with the fixture's 4×4 image (pixel (x, y) = (200 + 10x, 100 + 20y, 50)), map 1
    /// everywhere, side by side: canvas area from column 34, 66×26 cells, two panels of 32 columns
    /// (image, blend) at scale ⌊min(32/4, 52/4)⌋ = 8: 32×16 cells at columns 34 and 67, row
    /// 1 + (26 − 16)/2 = 6. Brush centre (2, 2) = display (16, 16) = upper half of panel cell (16, 8).
    func testSideBySideShowsImageAndBlendWithTheBrushInBoth() {
        var s = Fixture.state(Fixture.backend(mapValue: 1))
        s.sideBySide = true
        let size = TerminalSize(columns: 100, rows: 30)
        let g = render(s, size: size)
        XCTAssertEqual(g[34, 6], Cell("▀", foreground: RGB(200, 100, 50), background: RGB(200, 100, 50)))
        // Blend panel, last cell (98, 21) = pixel (3, 3) = (230, 160, 50) half and half with jet(1) = (128, 0, 0).
        XCTAssertEqual(g[98, 21], Cell("▀", foreground: RGB(179, 80, 25), background: RGB(179, 80, 25)))
        XCTAssertEqual(g[66, 10], Cell(" "), "the gap between the panels")
        XCTAssertEqual(g[50, 14]?.foreground, .white)
        XCTAssertEqual(g[83, 14]?.foreground, .white)
        XCTAssertTrue(g.lines[0].contains("[image | blend]"), g.lines[0])
        // m hides the map in the blend, keeping the weight to restore.
        s = reduce(s, .toggleMapHidden).0
        XCTAssertEqual(render(s, size: size)[98, 21]?.foreground, RGB(230, 160, 50))
        XCTAssertTrue(render(s, size: size).lines[0].contains("[image | blend, map hidden]"))
        s = reduce(s, .toggleMapHidden).0
        XCTAssertEqual(s.blendPercent, 50)
        XCTAssertEqual(render(s, size: size)[98, 21]?.foreground, RGB(179, 80, 25))
    }

    func testLegendBelowTheImage() {
        // Same terminal and panels: the image (32×16 cells, rows 6…21) leaves the area's last row, 26, free.
        var s = Fixture.state(Fixture.backend(mapValue: 1))
        s.sideBySide = true
        let g = render(s, size: TerminalSize(columns: 100, rows: 30))
        // " map 0 " at columns 34…40, a bar of min(32, 66 − 9) = 32 cells at 41…72, " 1" after it.
        XCTAssertEqual(String(g.lines[26].unicodeScalars.dropFirst(34).prefix(7)), " map 0 ")
        XCTAssertEqual(String(g.lines[26].unicodeScalars.dropFirst(73).prefix(2)), " 1")
        XCTAssertEqual(g[41, 26]?.foreground, RGB.jet(0.5 / 32))
        XCTAssertEqual(g[72, 26]?.foreground, RGB.jet(31.5 / 32))
        // Cell i of an 8-cell bar shows (i + 0.5)/8 as a shade without colour, glyph ⌊5v⌋ of " ░▒▓█":
        // 5v = 0.31, 0.94, 1.56, 2.19, 2.81, 3.44, 4.06, 4.69.
        XCTAssertEqual(legendBar(width: 8, monochrome: true).map(\.character), [" ", " ", "░", "▒", "▒", "▓", "█", "█"])
        // 48×12 has no free row under the 4×4 image: no legend.
        XCTAssertNil(ReviewLayout(size: TerminalSize(columns: 48, rows: 12), imageWidth: 4, imageHeight: 4).legend)
    }

    func testZoomedCanvasShowsTheWindowAndSaysSo() {
        // 48×12, 4×4 image: canvas area 23×8 cells from column 25, row 1. Zoom 2 leaves 7 rows = 14
        // display rows; fitted ⌊min(23/4, 14/4)⌋ = 3, zoomed 6: the image is 24×24, the window 23×14
        // centred on the brush (2, 2) = (12, 12) → origin (⌊12 − 11.5⌋, 12 − 7) = (0, 5), at column 25.
        var s = Fixture.state(Fixture.backend())
        s.view = .image
        s = reduce(s, .zoom(1)).0
        XCTAssertEqual(s.zoom, 2)
        let g = render(s, size: TerminalSize(columns: 48, rows: 12))
        // The 23-column header is cut before the zoom; the text itself says it.
        XCTAssertEqual(canvasHeader(s, ReviewLayout(size: TerminalSize(columns: 48, rows: 12), state: s)),
                       " train/cat/img7.png  [image]  zoom ×2  map 0.00 at 2,2")
        XCTAssertEqual(statusLines(s)[2], " tool paint  radius 0.5px  view image  zoom ×2  saved  ?:help")
        // Cell (25, 1): display rows 5 and 6 of the enlarged image → pixel rows ⌊5.5/6⌋ = 0 and ⌊6.5/6⌋ = 1.
        XCTAssertEqual(g[25, 1], Cell("▀", foreground: RGB(200, 100, 50), background: RGB(200, 120, 50)))
        // Cell (47, 7): display x 22 → pixel 3; rows 17, 18 → pixels 2 and 3.
        XCTAssertEqual(g[47, 7], Cell("▀", foreground: RGB(230, 140, 50), background: RGB(230, 160, 50)))
    }

    func testContourOverTheMap() {
        // 2×2 map, 1 in its top-right cell: upsampled to 4×4 with half-pixel centres the weights are
        // (0, 0.25, 0.75, 1) across and (1, 0.75, 0.25, 0) down, so the values ≥ 0.5 are pixels
        // (2, 0) 0.75, (3, 0) 1, (2, 1) 0.5625, (3, 1) 0.75; of those (2, 0), (2, 1) and (3, 1) touch
        // a value below 0.5. At 48×12 (RenderTests) pixel (x, y) is cells 28 + 4x…, rows 1 + 2y and 2 + 2y.
        let map = AttentionMap(height: 2, width: 2, values: [0, 1, 0, 0])
        let backend = MemoryBackend(classNames: Fixture.classes, samples: [Fixture.sample(index: 7, map: map)],
                                    images: [7: Fixture.image(width: 4, height: 4)])
        var s = Fixture.state(backend)
        s.view = .map
        s.cursor = BrushPoint(0.5, 3.5)  // the brush outline (display (2, 14), radius 2) away from the cells checked
        s = reduce(s, .toggleContour).0
        let g = render(s, size: TerminalSize(columns: 48, rows: 12))
        let black = Cell("▀", foreground: .black, background: .black)
        XCTAssertEqual(g[36, 1], black, "pixel (2, 0)")
        XCTAssertEqual(g[36, 3], black, "pixel (2, 1)")
        XCTAssertEqual(g[40, 3], black, "pixel (3, 1)")
        XCTAssertEqual(g[40, 1], Cell("▀", foreground: RGB(128, 0, 0), background: RGB(128, 0, 0)), "pixel (3, 0) is inside: jet(1)")
        XCTAssertEqual(g[28, 1], Cell("▀", foreground: RGB(0, 0, 128), background: RGB(0, 0, 128)), "pixel (0, 0): jet(0)")
        s = reduce(s, .toggleContour).0
        XCTAssertEqual(render(s, size: TerminalSize(columns: 48, rows: 12))[36, 1]?.foreground, RGB.jet(0.75))
    }

    func testNoColorKeepsTheCanvasColoursOnly() {
        let s = Fixture.state(Fixture.backend(mapValue: 1))
        let g = render(s, size: TerminalSize(columns: 48, rows: 12), colors: .direct, plainChrome: true)
        XCTAssertEqual(g[28, 1], Cell("▀", foreground: RGB(164, 50, 25), background: RGB(164, 50, 25)), "the canvas keeps its colours")
        XCTAssertEqual(g[1, 2], Cell("7", attributes: [.reverse, .bold, .plain]), "the selected row in reverse video")
        XCTAssertEqual(g[0, 9]?.attributes, [.reverse, .plain])
        XCTAssertEqual(g[0, 9]?.background, Theme.background)
        XCTAssertEqual(g[24, 3], Cell("│", attributes: .plain))
    }
}

/// The new keys, and where the view goes when the brush moves.
final class CanvasKeysTests: XCTestCase {
    func testKeysAndViewFollowingTheBrush() {
        var s = Fixture.state(Fixture.backend())
        let size = TerminalSize(columns: 48, rows: 12)
        for (key, action) in [("v", ReviewAction.toggleSideBySide), ("m", .toggleMapHidden), ("i", .toggleContour),
                              ("z", .zoom(1)), ("Z", .zoom(-1))] as [(Unicode.Scalar, ReviewAction)] {
            XCTAssertEqual(actions(for: .key(.character(key)), in: s, size: size), [action])
        }
        XCTAssertNil(s.viewCenter, "the image's centre until the brush moves")
        s = reduce(s, .zoom(1)).0
        s = reduce(s, .zoom(1)).0
        XCTAssertEqual(s.zoom, 3)
        XCTAssertEqual(s.viewCenter, BrushPoint(2, 2), "zoom centres on the brush")
        s = reduce(s, .keepCursorInView(visibleWidth: 2, visibleHeight: 2)).0
        XCTAssertEqual(s.viewCenter, BrushPoint(2, 2))
        s = reduce(s, .beginStroke(.paint, BrushPoint(0.5, 0.5))).0
        s = reduce(s, .endStroke).0
        XCTAssertEqual(s.viewCenter, BrushPoint(2, 2), "a mouse stroke does not move the view under the mouse")
        XCTAssertEqual(s.cursor, BrushPoint(0.5, 0.5))
        s = reduce(s, .zoom(-5)).0
        XCTAssertEqual(s.zoom, 1)
    }

    func testKeyboardMovesPanOnlyPastTheEdge() {
        // 80×24, 32×32 image, zoom 2 (ViewportTests): the window is 53×38 display pixels = 26.5×19
        // image pixels, centred on the brush (16, 16); it pans once the brush is within an eighth
        // (3.3125 px) of its right edge, 16 + 13.25 − 3.3125 = 25.9375.
        let size = TerminalSize(columns: 80, rows: 24)
        var s = ReviewDriver(backend: MemoryBackend(classNames: Fixture.classes,
                                                    samples: [Fixture.sample(index: 0, map: AttentionMap(height: 16, width: 16, fill: 0))],
                                                    images: [0: Fixture.image(width: 32, height: 32)]), annotator: "t").state
        s.focus = .canvas
        XCTAssertEqual(actions(for: .key(.character("l")), in: s, size: size), [.moveCursor(dx: 1, dy: 0)], "unzoomed: no panning")
        s = reduce(s, .zoom(1)).0
        XCTAssertEqual(actions(for: .key(.character("l")), in: s, size: size),
                       [.moveCursor(dx: 1, dy: 0), .keepCursorInView(visibleWidth: 26.5, visibleHeight: 19)])
        func press(_ key: Unicode.Scalar, _ times: Int) {
            for _ in 0..<times { for a in actions(for: .key(.character(key)), in: s, size: size) { s = reduce(s, a).0 } }
        }
        press("l", 9)
        XCTAssertEqual(s.cursor, BrushPoint(25, 16))
        XCTAssertEqual(s.viewCenter, BrushPoint(16, 16), "still inside: the view stays")
        press("l", 2)
        // Brush at 27: centre 27 − 13.25 + 3.3125 = 17.0625.
        XCTAssertEqual(s.viewCenter, BrushPoint(17.0625, 16))
        press("l", 10)
        // The brush stops at 31.5 (the reducer keeps it on the last pixel); the window stops at the
        // image's edge, centre 32 − 13.25 = 18.75.
        XCTAssertEqual(s.cursor.x, 31.5)
        XCTAssertEqual(s.viewCenter?.x, 18.75)
    }

    func testClickAtZoomPaintsTheImagePixelUnderIt() {
        // 80×24, 32×32 image at zoom 2 centred on (16, 16) (ViewportTests): cell (53, 10) is image
        // point (15.75, 16); the stroke starts there, in image pixels.
        var s = ReviewDriver(backend: MemoryBackend(classNames: Fixture.classes,
                                                    samples: [Fixture.sample(index: 0, map: AttentionMap(height: 16, width: 16, fill: 0))],
                                                    images: [0: Fixture.image(width: 32, height: 32)]), annotator: "t").state
        s = reduce(s, .zoom(1)).0
        XCTAssertEqual(actions(for: .mouse(MouseEvent(.press(.left), column: 53, row: 10)), in: s, size: TerminalSize(columns: 80, rows: 24)),
                       [.beginStroke(.paint, BrushPoint(15.75, 16))])
    }
}
