import XCTest
import HITL
@testable import ReviewUI

/// kitty's graphics protocol, the pure parts: command bytes (hand-written), base64 and chunking, the
/// reply parser, when to ask, what each frame sends, and the panel pixels of tiny hand-made states.
final class KittyGraphicsTests: XCTestCase {
    let esc = "\u{1B}"

    // MARK: - Encoding

    func testBase64OfHandWorkedBytes() {
        XCTAssertEqual(KittyGraphics.base64([]), "")
        XCTAssertEqual(KittyGraphics.base64(Array("M".utf8)), "TQ==")
        XCTAssertEqual(KittyGraphics.base64(Array("Ma".utf8)), "TWE=")
        XCTAssertEqual(KittyGraphics.base64(Array("Man".utf8)), "TWFu")
        // A red and a blue pixel: FF 00 00 | 00 00 FF → 111111 110000 000000 000000 | 000000 000000 001111 111111.
        XCTAssertEqual(KittyGraphics.base64([0xFF, 0, 0, 0, 0, 0xFF]), "/wAAAAD/")
        XCTAssertEqual(KittyGraphics.base64([0xFB, 0xEF, 0xBE]), "++++")
    }

    func testQueryAndDeleteCommands() {
        XCTAssertEqual(KittyGraphics.query(), "\(esc)_Gi=4170,s=1,v=1,a=q,t=d,f=24;AAAA\(esc)\\\(esc)[c")
        XCTAssertEqual(KittyGraphics.delete(id: 4172), "\(esc)_Ga=d,d=i,i=4172,q=2\(esc)\\")
        XCTAssertEqual(KittyGraphics.delete(id: 4171, free: true), "\(esc)_Ga=d,d=I,i=4171,q=2\(esc)\\")
        XCTAssertEqual(KittyCanvas.deleteAll, ["4171", "4172", "4173"].map { "\(esc)_Ga=d,d=I,i=\($0),q=2\(esc)\\" }.joined())
    }

    /// A 2×1 image (red, blue) for panel 1 at cell (5, 2), one cell: the cursor goes to row 3,
    /// column 6 (1-based), then one chunk.
    func testTransmitOfATwoPixelImage() {
        let image = PanelImage(panel: 1, rect: CellRect(column: 5, row: 2, columns: 1, rows: 1), width: 2, height: 1,
                               rgb: [0xFF, 0, 0, 0, 0, 0xFF])
        XCTAssertEqual(KittyGraphics.transmit(image),
                       "\(esc)[3;6H\(esc)_Ga=T,f=24,s=2,v=1,i=4172,p=1,c=1,r=1,C=1,q=2,m=0;/wAAAAD/\(esc)\\")
        XCTAssertEqual(KittyGraphics.place(image), "\(esc)[3;6H\(esc)_Ga=p,i=4172,p=1,c=1,r=1,C=1,q=2\(esc)\\")
    }

    /// 3072 bytes are exactly 4096 base64 bytes: one chunk. 3073 are 4100: 4096, then 4 with m=0.
    func testChunksSplitAt4096Base64Bytes() {
        XCTAssertEqual(KittyGraphics.chunks("").map { String($0) }, [""])
        XCTAssertEqual(KittyGraphics.chunks(String(repeating: "A", count: 4096)).map(\.count), [4096])
        XCTAssertEqual(KittyGraphics.chunks(String(repeating: "A", count: 4097)).map(\.count), [4096, 1])
        XCTAssertEqual(KittyGraphics.chunks(String(repeating: "A", count: 8192)).map(\.count), [4096, 4096])

        let rect = CellRect(column: 0, row: 0, columns: 32, rows: 16)
        let whole = KittyGraphics.transmit(PanelImage(panel: 0, rect: rect, width: 32, height: 32, rgb: [UInt8](repeating: 0, count: 3072)))
        XCTAssertEqual(whole, "\(esc)[1;1H\(esc)_Ga=T,f=24,s=32,v=32,i=4171,p=1,c=32,r=16,C=1,q=2,m=0;"
                       + String(repeating: "A", count: 4096) + "\(esc)\\")
        let split = KittyGraphics.transmit(PanelImage(panel: 0, rect: rect, width: 32, height: 32, rgb: [UInt8](repeating: 0, count: 3072) + [0xFF]))
        XCTAssertEqual(split, "\(esc)[1;1H\(esc)_Ga=T,f=24,s=32,v=32,i=4171,p=1,c=32,r=16,C=1,q=2,m=1;"
                       + String(repeating: "A", count: 4096) + "\(esc)\\\(esc)_Gm=0,q=2;/w==\(esc)\\")
    }

    // MARK: - Replies

    private func parse(_ s: String) -> KittyReply { KittyReply.parse(Array(s.utf8)) }

    func testOKAndDeviceAttributesInOneRead() {
        let r = parse("\(esc)_Gi=4170;OK\(esc)\\\(esc)[?62;22c")
        XCTAssertEqual(r, KittyReply(graphics: "OK", deviceAttributes: true, otherInput: [], unfinished: []))
        XCTAssertTrue(r.supportsGraphics)
    }

    /// The same bytes arriving in pieces: unfinished until the terminator, whatever the cut.
    func testReplySplitAcrossReads() {
        let whole = Array("\(esc)_Gi=4170;OK\(esc)\\\(esc)[?62;22c".utf8)
        for cut in 1..<whole.count {
            let r = KittyReply.parse(Array(whole[..<cut]))
            XCTAssertFalse(r.deviceAttributes, "cut \(cut)")
            XCTAssertEqual(r.otherInput, [], "cut \(cut): nothing leaks into the keys")
            // The OK counts once its ESC \ (bytes 0…13) is all there.
            XCTAssertEqual(r.graphics, cut >= 14 ? "OK" : nil, "cut \(cut)")
            XCTAssertEqual(r.unfinished.isEmpty, cut == 14, "cut \(cut): a sequence is still open but between the two")
        }
        XCTAssertEqual(parse("\(esc)_Gi=4170;OK\(esc)").unfinished, Array("\(esc)_Gi=4170;OK\(esc)".utf8))
        XCTAssertTrue(KittyReply.parse(whole).deviceAttributes)
    }

    func testDeviceAttributesAloneOrAnErrorMeanHalfBlocks() {
        let da = parse("\(esc)[?65;1;9c")
        XCTAssertEqual(da, KittyReply(graphics: nil, deviceAttributes: true))
        XCTAssertFalse(da.supportsGraphics)
        let error = parse("\(esc)_Gi=4170;EINVAL:unsupported\(esc)\\\(esc)[?62c")
        XCTAssertEqual(error.graphics, "EINVAL:unsupported")
        XCTAssertFalse(error.supportsGraphics)
        // Another image id's answer is not ours; BEL ends an APC too.
        XCTAssertNil(parse("\(esc)_Gi=99;OK\(esc)\\").graphics)
        XCTAssertEqual(parse("\(esc)_Gi=4170;OK\u{07}").graphics, "OK")
        XCTAssertFalse(parse("").supportsGraphics)
    }

    /// Keys typed while the answers come are kept, in order, for the key input; replies are not.
    func testKeysAroundTheRepliesAreOtherInput() {
        let r = parse("j\(esc)[A\(esc)_Gi=4170;OK\(esc)\\k\(esc)[?62;22cq\(esc)")
        XCTAssertEqual(r.graphics, "OK")
        XCTAssertTrue(r.deviceAttributes)
        XCTAssertEqual(r.otherInput, Array("j\(esc)[Akq".utf8))
        XCTAssertEqual(r.unfinished, [0x1B])
        XCTAssertEqual(parse("\(esc)x").otherInput, [0x1B, UInt8(ascii: "x")])
    }

    // MARK: - When to ask

    func testAutoAsksOnlyOutsideTmuxAndScreenWithTrueColour() {
        func decide(_ mode: GraphicsMode = .auto, color: ColorMode = .auto, capability: ColorCapability = .direct,
                    env: [String: String] = ["TERM": "xterm-kitty"]) -> GraphicsDecision {
            GraphicsDecision.resolve(mode: mode, colorMode: color, capability: capability, environment: env)
        }
        XCTAssertEqual(decide(), .query)
        XCTAssertEqual(decide(color: .truecolor), .query)
        XCTAssertEqual(decide(env: ["TERM": "xterm-256color", "TMUX": "/tmp/tmux-0/default,1,0"]), .halfBlocks)
        XCTAssertEqual(decide(env: ["TERM": "screen-256color"]), .halfBlocks)
        XCTAssertEqual(decide(env: ["TERM": "tmux-256color"]), .halfBlocks)
        XCTAssertEqual(decide(capability: .palette256), .halfBlocks)
        XCTAssertEqual(decide(color: .none, capability: .monochrome), .halfBlocks)
        XCTAssertEqual(decide(.none), .halfBlocks)
        XCTAssertEqual(decide(.kitty, env: ["TMUX": "x"]), .kitty, "forced: not asked, whatever the environment")
        XCTAssertEqual(decide(.kitty, capability: .palette256), .kitty)
        XCTAssertEqual(GraphicsMode.kitty.conflict(with: .none), "--graphics kitty draws the canvas in colour and cannot go with --color none")
        XCTAssertNil(GraphicsMode.kitty.conflict(with: .ansi16))
        XCTAssertNil(GraphicsMode.auto.conflict(with: .none))
    }

    // MARK: - What a frame sends

    private func image(_ panel: Int, column: Int = 0, fill: UInt8 = 0) -> PanelImage {
        PanelImage(panel: panel, rect: CellRect(column: column, row: 1, columns: 2, rows: 1), width: 2, height: 2,
                   rgb: [UInt8](repeating: fill, count: 12))
    }

    func testPlanSendsOnlyWhatChanged() {
        let a = image(0), b = image(1, column: 3)
        var (commands, shown) = ImagePlan.step(shown: [:], wanted: [a, b])
        XCTAssertEqual(commands, [.transmit(a), .transmit(b)])
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [a, b])
        XCTAssertEqual(commands, [], "same pixels, same place: nothing")
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [a, b], cellsChanged: true)
        XCTAssertEqual(commands, [.place(a), .place(b)], "curses redrew cells (maybe scrolling): placed again, no pixels")
        let brighter = image(0, fill: 9)
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [brighter, b])
        XCTAssertEqual(commands, [.transmit(brighter)])
        let moved = image(1, column: 4)
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [brighter, moved])
        XCTAssertEqual(commands, [.transmit(moved)])
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [brighter])
        XCTAssertEqual(commands, [.delete(id: 4172)])
        (commands, shown) = ImagePlan.step(shown: shown, wanted: [])
        XCTAssertEqual(commands, [.delete(id: 4171)])
        XCTAssertEqual(shown, [:])
    }

    /// FNV-1a 64 of the width and height (8 bytes each, little-endian) and the bytes, worked out
    /// independently (Python: h = (h ^ b) * 0x100000001b3 mod 2^64 from 0xcbf29ce484222325).
    func testHashOfSizeAndPixels() {
        XCTAssertEqual(PanelImage.hash(width: 1, height: 1, [1, 2, 3]), 0xcbff_0510_e3d0_9c0b)
        XCTAssertEqual(PanelImage.hash(width: 0, height: 0, [1, 2, 3]), 0x6e00_7a16_5675_0b6b)
    }

    func testKittyCanvasWritesChangesAndSendsAgainAfterForgetting() {
        let canvas = KittyCanvas(), a = image(0)
        var c = canvas.commands(for: [a])
        XCTAssertEqual(c.deletes, "")
        XCTAssertEqual(c.transmits, KittyGraphics.transmit(a))
        c = canvas.commands(for: [a])
        XCTAssertEqual(c.deletes + c.transmits, "")
        XCTAssertEqual(canvas.forgetAll(), KittyGraphics.delete(id: 4171))
        XCTAssertEqual(canvas.forgetAll(), "")
        XCTAssertEqual(canvas.commands(for: [a]).transmits, KittyGraphics.transmit(a))
        XCTAssertEqual(canvas.commands(for: []).deletes, KittyGraphics.delete(id: 4171))
    }

    // MARK: - Panel pixels

    func testSubdivisionAndSubdividedViewport() {
        XCTAssertEqual(CanvasPixels.subdivision(scale: 4), 1)
        XCTAssertEqual(CanvasPixels.subdivision(scale: 1), 1)
        XCTAssertEqual(CanvasPixels.subdivision(scale: 0.5), 2)
        XCTAssertEqual(CanvasPixels.subdivision(scale: 1.0 / 3), 3)
        XCTAssertEqual(CanvasPixels.subdivision(scale: 0.3), 4)
        XCTAssertEqual(CanvasPixels.subdivision(scale: .nan), 1)
        // 8×8 at scale 0.5 in a 4×4 room: 4×4 display pixels; split 2×2 each: 8×8 at scale 1, pixel i is image pixel i.
        let v = Viewport(scale: 0.5, imageWidth: 8, imageHeight: 8, roomWidth: 4, roomHeight: 4, center: (4, 4)).subdivided(2)
        XCTAssertEqual([v.width, v.height, v.originX, v.originY], [8, 8, 0, 0])
        XCTAssertEqual(v.scale, 1)
        XCTAssertTrue(v.imagePixel(displayX: 5, displayY: 3) == (5, 3))
    }

    /// RenderTests' layout (48×12, 4×4 image, scale 4: panel at (28, 1), 16×8 cells) with images:
    /// one 16×16 image, its cells blank. At 30% over map value 0 (jet (0, 0, 128)): image pixel
    /// (200, 100, 50) → (140, 70, 73); pixel (1, 0) (210, 100, 50) → (147, 70, 73) at display x 4…7.
    /// The brush centre (2, 2) is display pixel (8, 8): white.
    func testPanelImageOfAHandMadeStateAtThirtyPercent() throws {
        var s = Fixture.state(Fixture.backend(mapValue: 0))
        s.blendPercent = 30
        let frame = renderFrame(s, size: TerminalSize(columns: 48, rows: 12), images: true)
        XCTAssertEqual(frame.images.count, 1)
        let image = try XCTUnwrap(frame.images.first)
        XCTAssertEqual(image.rect, CellRect(column: 28, row: 1, columns: 16, rows: 8))
        XCTAssertEqual([image.panel, image.width, image.height, image.rgb.count], [0, 16, 16, 16 * 16 * 3])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.rgb[(3 * (y * 16 + x))..<(3 * (y * 16 + x) + 3)]) }
        XCTAssertEqual(pixel(0, 0), [140, 70, 73])
        XCTAssertEqual(pixel(3, 3), [140, 70, 73])
        XCTAssertEqual(pixel(4, 0), [147, 70, 73])
        XCTAssertEqual(pixel(8, 8), [255, 255, 255])
        XCTAssertEqual(frame.grid[28, 1], Cell.blank, "cells under the image are blank")
        XCTAssertEqual(frame.grid[43, 8], Cell.blank)
        XCTAssertTrue(frame.grid.lines[0].contains("train/cat/img7.png"), "the header stays text")
        // Without images the same state is half blocks, as before.
        XCTAssertEqual(render(s, size: TerminalSize(columns: 48, rows: 12))[28, 1]?.foreground, RGB(140, 70, 73))
    }

    /// Map hidden and the map view; the help box takes the images away (half blocks under it).
    func testPanelImageFollowsTheViewAndGivesWayToTheHelp() throws {
        var s = Fixture.state(Fixture.backend(mapValue: 1))
        let size = TerminalSize(columns: 48, rows: 12)
        s.view = .map
        XCTAssertEqual(Array(try XCTUnwrap(renderFrame(s, size: size, images: true).images.first).rgb.prefix(3)), [128, 0, 0])
        s.view = .blend
        s.mapHidden = true
        XCTAssertEqual(Array(try XCTUnwrap(renderFrame(s, size: size, images: true).images.first).rgb.prefix(3)), [200, 100, 50])
        s.showHelp = true
        let help = renderFrame(s, size: size, images: true)
        XCTAssertEqual(help.images, [])
        XCTAssertEqual(help.grid, render(s, size: size), "the half-block screen, box and all")
        s.showHelp = false
        s.image = nil
        XCTAssertEqual(renderFrame(s, size: size, images: true).images, [], "no image: no panel image, the text as before")
        XCTAssertEqual(renderFrame(Fixture.state(Fixture.backend()), size: TerminalSize(columns: 40, rows: 10), images: true).images, [],
                       "too small a terminal: none")
    }

    /// Odd display heights: a 3×3 image at scale 5 is 15 display rows in 8 cells; the image covers
    /// all 8 (16 rows), its last row the background, as the half blocks leave the last lower half.
    func testOddHeightIsPaddedWithTheBackground() throws {
        var s = Fixture.state(Fixture.backend())
        s.image = Fixture.image(width: 3, height: 3)
        s.view = .image
        s.cursor = BrushPoint(0.5, 0.5)
        let image = try XCTUnwrap(renderFrame(s, size: TerminalSize(columns: 48, rows: 12), images: true).images.first)
        XCTAssertEqual([image.width, image.height, image.rect.rows], [15, 16, 8])
        let last = Array(image.rgb[(15 * 15 * 3)...])
        XCTAssertEqual(last, [UInt8](repeating: 0, count: 15 * 3))
        // Row 14 is image row 2: (200 + 10x, 140, 50).
        XCTAssertEqual(Array(image.rgb[(14 * 15 * 3)..<(14 * 15 * 3 + 3)]), [200, 140, 50])
    }

    /// A shrunk image (64×64 at scale 0.25 in RenderTests' layout) is sent at 4× the display
    /// pixels: every image pixel, pixel (x, y) of the image at (x, y).
    func testShrunkImageIsSentAtItsOwnResolution() throws {
        let map = AttentionMap(height: 2, width: 2, fill: 0)
        let backend = MemoryBackend(classNames: Fixture.classes, samples: [Fixture.sample(index: 7, map: map)],
                                    images: [7: Fixture.image(width: 64, height: 64)])
        var s = Fixture.state(backend)
        s.view = .image
        let image = try XCTUnwrap(renderFrame(s, size: TerminalSize(columns: 48, rows: 12), images: true).images.first)
        XCTAssertEqual([image.width, image.height], [64, 64])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.rgb[(3 * (y * 64 + x))..<(3 * (y * 64 + x) + 3)]) }
        // (200 + 10x) mod 256, (100 + 20y) mod 256, 50.
        XCTAssertEqual(pixel(63, 0), [UInt8((200 + 630) % 256), 100, 50])
        XCTAssertEqual(pixel(5, 60), [UInt8((200 + 50) % 256), UInt8((100 + 1200) % 256), 50])
    }
}
