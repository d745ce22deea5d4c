import XCTest
import ABNData
@testable import HITL

/// Resampling and pictures against values worked by hand and against OpenCV's output.
final class MapsTests: XCTestCase {
    func testAreaAverage8x8To4x4ByHand() {
        // White on rows 1…4, columns 2…6. Each map cell is a 2×2 block: the row fractions covered are
        // [1/2, 1, 1/2, 0] and the column fractions [0, 1, 1, 1/2]; a rectangle's cell value is their product.
        var mask = [Float](repeating: 0, count: 64)
        for y in 1...4 { for x in 2...6 { mask[y * 8 + x] = 1 } }
        XCTAssertEqual(MapResampling.areaAverage(mask, height: 8, width: 8, toHeight: 4, toWidth: 4), [
            0, 0.5, 0.5, 0.25,
            0, 1, 1, 0.5,
            0, 0.5, 0.5, 0.25,
            0, 0, 0, 0,
        ])
    }

    func testAreaAverageWithFractionalPixels() {
        // 5×5 → 2×2: a cell spans 2.5 pixels, so pixel 2 counts half in each. Pixel (0,0) = 1 lies wholly
        // in cell (0,0): 1/6.25 = 0.16; pixel (2,2) = 1 gives a quarter to each cell: 0.25/6.25 = 0.04.
        // (cv2.resize(INTER_AREA) gives [[0.2, 0.04], [0.04, 0.04]] as well.)
        var mask = [Float](repeating: 0, count: 25)
        mask[0] = 1; mask[12] = 1
        let out = MapResampling.areaAverage(mask, height: 5, width: 5, toHeight: 2, toWidth: 2)
        for (a, b) in zip(out, [0.2, 0.04, 0.04, 0.04] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // 1×3 → 1×2 with a grey pixel: [1, 0, 0.5] → (1 + 0.5·0)/1.5, (0.5·0 + 0.5)/1.5.
        let row = MapResampling.areaAverage([1, 0, 0.5], height: 1, width: 3, toHeight: 1, toWidth: 2)
        XCTAssertEqual(row[0], 2.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(row[1], 1.0 / 3, accuracy: 1e-6)
    }

    func testBilinearUpsamplingByHand() {
        // Half-pixel centres: output row/column i samples (i + 0.5)/2 − 0.5 = −0.25 (clamped to 0), 0.25,
        // 0.75, 1.25 (clamped to the last cell). Rows mix as r0, ¾r0 + ¼r1, ¼r0 + ¾r1, r1.
        XCTAssertEqual(MapResampling.upsampleBilinear([0, 1, 2, 3], height: 2, width: 2, toHeight: 4, toWidth: 4), [
            0, 0.25, 0.75, 1,
            0.5, 0.75, 1.25, 1.5,
            1.5, 1.75, 2.25, 2.5,
            2, 2.25, 2.75, 3,
        ])
    }

    func testBilinearUpsamplingMatchesOpenCV() {
        // cv2.resize(src, (11, 7), interpolation=cv2.INTER_LINEAR) on float32, OpenCV 4.x (numpy seed 0).
        let src: [Float] = [0.6369617, 0.2697867, 0.0409735, 0.0165276, 0.8132702, 0.9127555, 0.6066357, 0.7294965,
                            0.5436250, 0.9350724, 0.8158535, 0.0027385, 0.8574043, 0.0335856, 0.7296554]
        let expected: [Float] = [
            0.6369617, 0.5702026, 0.4033049, 0.2489855, 0.1449795, 0.0409735, 0.0298618, 0.0187500, 0.3062522, 0.6684079, 0.8132702,
            0.6763608, 0.6111876, 0.4482545, 0.3016740, 0.2205040, 0.1393340, 0.1177400, 0.0961460, 0.3604975, 0.6963354, 0.8306705,
            0.7945582, 0.7341425, 0.5831033, 0.4597394, 0.4470774, 0.4344153, 0.3813747, 0.3283342, 0.5232335, 0.7801178, 0.8828714,
            0.9127555, 0.8570974, 0.7179521, 0.6178049, 0.6736507, 0.7294965, 0.6450095, 0.5605224, 0.6859695, 0.8639002, 0.9350724,
            0.8712261, 0.7760618, 0.5381512, 0.3875037, 0.5859089, 0.7843142, 0.5755516, 0.3667891, 0.5148548, 0.7521275, 0.8470366,
            0.8296967, 0.6950263, 0.3583503, 0.1572025, 0.4981671, 0.8391318, 0.5060938, 0.1730559, 0.3437401, 0.6403549, 0.7590007,
            0.8158535, 0.6680144, 0.2984167, 0.0804354, 0.4689199, 0.8574043, 0.4829412, 0.1084781, 0.2867019, 0.6030973, 0.7296554,
        ]
        let out = MapResampling.upsampleBilinear(src, height: 3, width: 5, toHeight: 7, toWidth: 11)
        XCTAssertEqual(out.count, expected.count)
        for (i, (a, b)) in zip(out, expected).enumerated() { XCTAssertEqual(a, b, accuracy: 2e-6, "pixel \(i)") }
    }

    func testJetFollowsMatplotlibSegments() {
        XCTAssertTrue(Jet.color(0) == (0, 0, 128))        // blue 0.5 → 127.5 rounds up
        XCTAssertTrue(Jet.color(1) == (128, 0, 0))        // red 0.5
        XCTAssertTrue(Jet.color(0.25) == (0, 128, 255))   // green (0.25 − 0.125)/0.25 = 0.5
        XCTAssertTrue(Jet.color(0.5) == (123, 255, 123))  // red (0.5 − 0.35)/0.31, blue 1 − (0.5 − 0.34)/0.31
        XCTAssertTrue(Jet.color(0.7) == (255, 198, 0))    // green (0.91 − 0.7)/0.27 = 0.7778
        XCTAssertTrue(Jet.color(-3) == Jet.color(0) && Jet.color(7) == Jet.color(1) && Jet.color(.nan) == Jet.color(0))
    }

    func testBlendDifferenceAndEnlarge() {
        // jet(0) = (0, 0, 128); half and half with (100, 50, 200) → (50, 25, 164).
        let image = Image(width: 1, height: 1, channels: 3, pixels: [100, 50, 200])
        XCTAssertEqual(MapPictures.blend(image: image, map: [0], height: 1, width: 1).pixels, [50, 25, 164])
        // Grey images are blended as RGB.
        XCTAssertEqual(MapPictures.blend(image: Image(width: 1, height: 1, channels: 1, pixels: [100]), map: [0], height: 1, width: 1).pixels,
                       [50, 50, 114])
        // +1 → red, −0.5 → half-way to blue (255·0.5 = 127.5 → 128), 0 → white.
        let d = MapPictures.difference(original: [0, 0.5, 0.3], edited: [1, 0, 0.3], height: 1, width: 3, toHeight: 1, toWidth: 3)
        XCTAssertEqual(d.pixels, [255, 0, 0, 128, 128, 255, 255, 255, 255])
        let big = MapPictures.enlarged(Image(width: 2, height: 1, channels: 1, pixels: [1, 2]), by: 2)
        XCTAssertEqual([big.width, big.height], [4, 2])
        XCTAssertEqual(big.pixels, [1, 1, 2, 2, 1, 1, 2, 2])
    }
}
