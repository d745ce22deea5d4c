import XCTest
@testable import ABNData

final class ImageOpsTests: XCTestCase {
    func testLumaMatchesPillowL() {
        let rgb = Image(width: 8, height: 8, channels: 3, pixels: bytes(base64: Fixtures.lumaRGB))
        let gray = rgb.converted(toChannels: 1)
        XCTAssertEqual(gray.pixels, bytes(base64: Fixtures.lumaPillowL))
        // Hand-worked: pure red 255·0.299 = 76.2 → 76; green 255·0.587 = 149.7 → 150; blue 255·0.114 = 29.1 → 29.
        XCTAssertEqual(Array(gray.pixels[0..<3]), [76, 150, 29])
    }

    func testChannelConversions() {
        let ga = Image(width: 2, height: 1, channels: 2, pixels: [10, 99, 200, 0])
        XCTAssertEqual(ga.converted(toChannels: 3).pixels, [10, 10, 10, 200, 200, 200])
        XCTAssertEqual(ga.converted(toChannels: 1).pixels, [10, 200])
        let rgba = Image(width: 1, height: 1, channels: 4, pixels: [1, 2, 3, 4])
        XCTAssertEqual(rgba.converted(toChannels: 3).pixels, [1, 2, 3])
        // (1·19595 + 2·38470 + 3·7471 + 32768) >> 16 = 152,316 >> 16 = 2
        XCTAssertEqual(rgba.converted(toChannels: 1).pixels, [2])
        let rgb = Image(width: 1, height: 1, channels: 3, pixels: [9, 8, 7])
        XCTAssertEqual(rgb.converted(toChannels: 4).pixels, [9, 8, 7, 255])
        XCTAssertEqual(Image(width: 1, height: 1, channels: 1, pixels: [5]).converted(toChannels: 2).pixels, [5, 255])
    }

    func testFloatBilinearUpscaleByHand() {
        // 2×2 → 4×4, half-pixel centres: source x = (i + 0.5)/2 − 0.5 = −0.25 (clamped to 0), 0.25,
        // 0.75, 1.25 (right neighbour clamped to the last column).
        let out = resizeBilinear([0, 1, 2, 3], channels: 1, height: 2, width: 2, toHeight: 4, toWidth: 4)
        XCTAssertEqual(out, [0, 0.25, 0.75, 1,
                             0.5, 0.75, 1.25, 1.5,
                             1.5, 1.75, 2.25, 2.5,
                             2, 2.25, 2.75, 3])
    }

    func testFloatBilinearMatchesTorchInterpolate() {
        for expected in Fixtures.bilinearTorch {
            let out = resizeBilinear(Fixtures.bilinearInput, channels: 2, height: 5, width: 7,
                                     toHeight: expected.height, toWidth: expected.width)
            XCTAssertEqual(out.count, expected.values.count)
            let worst = zip(out, expected.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-6, "\(expected.height)x\(expected.width)")
        }
    }

    func testUInt8BilinearByHand() {
        let image = Image(width: 2, height: 2, channels: 1, pixels: [0, 100, 200, 255])
        let up = image.resizedBilinear(width: 4, height: 4)
        // Row 0: 0, 25, 75, 100. Row 1 = 0.75·row 0 + 0.25·(200, 213.75, 241.25, 255)
        //        = 50, 72.19, 116.56, 138.75 → rounded.
        XCTAssertEqual(Array(up.pixels[0..<8]), [0, 25, 75, 100, 50, 72, 117, 139])
        // Halving: source = (i + 0.5)·2 − 0.5 = 0.5, 2.5, so each output is a 2×2 block mean.
        let big = Image(width: 4, height: 4, channels: 2, pixels: (0..<32).map { UInt8($0 * 7) })
        let half = big.resizedBilinear(width: 2, height: 2)
        func at(_ x: Int, _ y: Int, _ c: Int) -> Double { Double(big[x, y, c]) }
        for y in 0..<2 { for x in 0..<2 { for c in 0..<2 {
            let mean = (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c)) / 4
            XCTAssertEqual(Double(half[x, y, c]), (mean + 0.5).rounded(.down))
        } } }
        XCTAssertEqual(image.resizedBilinear(width: 2, height: 2), image)
    }
}
