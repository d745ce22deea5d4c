import XCTest
import HITL
@testable import ReviewUI

/// Rendered cells at 120×40 worked by hand (RenderTests covers 48×12 with uniform maps). List 40
/// columns (120/3), canvas area from column 41, row 1, 79×36 cells = 79×72 display pixels.
final class RenderLargeTerminalTests: XCTestCase {
    let size = TerminalSize(columns: 120, rows: 40)

    /// 200 samples over one image, cursor moved to (x, y) so the brush ring stays clear of the cells checked.
    func state(imageSide: Int, map: AttentionMap, cursor: BrushPoint) -> ReviewState {
        let samples = (0..<200).map { Fixture.sample(index: $0, map: map) }
        let backend = MemoryBackend(classNames: Fixture.classes, samples: samples, images: [0: Fixture.image(width: imageSide, height: imageSide)])
        var s = ReviewDriver(backend: backend, annotator: "t").state
        s.cursor = cursor
        return s
    }

    func testUpsampledMapOnAnEnlargedImage() {
        // 32×32 image: scale ⌊min(79/32, 72/32)⌋ = 2, 64×32 cells at column 41 + (79−64)/2 = 48, row 1 + (36−32)/2 = 3.
        // Cell (48+c, 3+r) shows pixel (⌊c/2⌋, r) in both halves. The 16×16 map is 0 left of column 8
        // and 1 from it: pixel x samples map column x/2 − 0.25, so x ≤ 14 → 0, 15 → 0.25, 16 → 0.75, ≥ 17 → 1.
        let map = AttentionMap(height: 16, width: 16, values: (0..<256).map { $0 % 16 < 8 ? 0 : 1 })
        var s = state(imageSide: 32, map: map, cursor: BrushPoint(2, 29))
        s.view = .map
        let g = render(s, size: size)
        func both(_ c: RGB) -> Cell { Cell("▀", foreground: c, background: c) }
        for row in [3, 20] {
            XCTAssertEqual(g[48, row], both(RGB(0, 0, 128)), "jet(0)")
            XCTAssertEqual(g[77, row], both(RGB(0, 0, 128)), "pixel 14")
            XCTAssertEqual(g[78, row], both(RGB.jet(0.25)), "pixel 15")
            XCTAssertEqual(g[79, row], both(RGB.jet(0.25)), "pixel 15")
            XCTAssertEqual(g[80, row], both(RGB.jet(0.75)), "pixel 16")
            XCTAssertEqual(g[82, row], both(RGB(128, 0, 0)), "pixel 17: jet(1)")
            XCTAssertEqual(g[111, row], both(RGB(128, 0, 0)), "pixel 31")
            XCTAssertEqual(g[47, row], Cell(" "))
            XCTAssertEqual(g[112, row], Cell(" "))
        }
        XCTAssertNotEqual(RGB.jet(0.25), RGB.jet(0.75))
        XCTAssertEqual(g[48, 2], Cell(" "), "above the image")
        XCTAssertEqual(g[48, 35], Cell(" "), "below the image")
        // The list: two header rows and 35 rows, samples 0…34; the status bar starts at row 37.
        XCTAssertEqual(String(g.lines[0].prefix(40)), " Samples 1/200" + String(repeating: " ", count: 26))
        XCTAssertEqual(String(g.lines[1].prefix(40)), " 0*  0✓  200 untouched of 200" + String(repeating: " ", count: 11))
        XCTAssertEqual(String(g.lines[2].prefix(40)), " 0 cat→dog" + String(repeating: " ", count: 22) + "71%     ")
        XCTAssertEqual(String(g.lines[36].prefix(40)), " 34 cat→dog" + String(repeating: " ", count: 21) + "71%     ")
        XCTAssertEqual(g[40, 10]?.character, "│")
        XCTAssertTrue(g.lines[37].hasPrefix(" #0  label cat  perception dog 71%"), g.lines[37])
    }

    func testShrunkImageIsSampledByNearestNeighbour() {
        // 144×144 image: scale min(79/144, 72/144) = 0.5, 72×36 cells at column 41 + (79−72)/2 = 44, row 1.
        // Display pixel d shows image pixel ⌊(d + 0.5)/0.5⌋ = 2d + 1: cell (44+c, 1+r) is pixel
        // (2c+1, 4r+1) above and (2c+1, 4r+3) below. Fixture pixel (x, y) = ((200+10x) mod 256, (100+20y) mod 256, 50).
        var s = state(imageSide: 144, map: AttentionMap(height: 16, width: 16, fill: 0), cursor: BrushPoint(72, 72))
        s.view = .image
        let g = render(s, size: size)
        XCTAssertEqual(g[44, 1], Cell("▀", foreground: RGB(210, 120, 50), background: RGB(210, 160, 50)))
        // c = 71, r = 35: x 143 → 1630 mod 256 = 94; y 141 → 2920 mod 256 = 104, y 143 → 2960 mod 256 = 144.
        XCTAssertEqual(g[115, 36], Cell("▀", foreground: RGB(94, 104, 50), background: RGB(94, 144, 50)))
        // c = 10, r = 2: x 21 → 410 mod 256 = 154; y 9 → 280 mod 256 = 24, y 11 → 320 mod 256 = 64.
        XCTAssertEqual(g[54, 3], Cell("▀", foreground: RGB(154, 24, 50), background: RGB(154, 64, 50)))
        XCTAssertEqual(g[43, 1], Cell(" "))
        XCTAssertEqual(g[116, 36], Cell(" "))
    }
}
