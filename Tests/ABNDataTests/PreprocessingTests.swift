import XCTest
@testable import ABNData

final class PreprocessingTests: XCTestCase {
    func testLoadInputNormalisesPerChannel() throws {
        let dir = makeTempDir(self)
        let url = dir.appendingPathComponent("a.png")
        // Pixel values: R = 51·x, G = 255 − 51·y, B = 102.
        writeImage(url, width: 2, height: 2, channels: 3) { x, y, c in [UInt8(51 * x), UInt8(255 - 51 * y), 102][c] }
        let p = Preprocessing(channels: 3, height: 2, width: 2, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2])
        let x = try loadInput(url, p)
        // R: (0 − 0.5)/0.5 = −1, (0.2 − 0.5)/0.5 = −0.6. G: (1 − 0.25)/0.25 = 3, (0.8 − 0.25)/0.25 = 2.2.
        // B: 0.4/2 = 0.2.
        let expected: [Float] = [-1, -0.6, -1, -0.6, 3, 3, 2.2, 2.2, 0.2, 0.2, 0.2, 0.2]
        for (a, b) in zip(x, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }

        // To one channel: luma of (51, 255, 102) = (999,345 + 9,809,850 + 762,042 + 32,768) >> 16 = 177.
        let g = try loadInput(url, Preprocessing(channels: 1, height: 2, width: 2, mean: [0], std: [1]))
        XCTAssertEqual(g[1], 177 / 255, accuracy: 1e-6)

        // Resized on floats: 2×2 → 4×4; the second output column is 0.25 of the way from R=0 to R=0.2.
        let big = try loadInput(url, Preprocessing(channels: 3, height: 4, width: 4, mean: [0, 0, 0], std: [1, 1, 1]))
        XCTAssertEqual(big.count, 48)
        XCTAssertEqual(big[1], 0.05, accuracy: 1e-6)
        XCTAssertEqual(big[2], 0.15, accuracy: 1e-6)

        assertDataError(try loadInput(url, Preprocessing(channels: 3, height: 2, width: 2, mean: [0], std: [1])),
                        path: "<preprocessing>", contains: "3 values each")
        assertDataError(try loadInput(url, Preprocessing(channels: 1, height: 2, width: 2, mean: [0], std: [0])),
                        path: "<preprocessing>", contains: "std positive")
    }

    func testLoadMaskAveragesToTheRequestedSize() throws {
        let dir = makeTempDir(self)
        let url = dir.appendingPathComponent("m.png")
        // 4×4: top-left quarter white, one more white pixel at (2, 0), the rest black.
        writeImage(url, width: 4, height: 4, channels: 1) { x, y, _ in (x < 2 && y < 2) || (x == 2 && y == 0) ? 255 : 0 }
        let m = try loadMask(url, height: 2, width: 2)
        XCTAssertEqual(m, [1, 0.25, 0, 0])   // halving = 2×2 block means
        let same = try loadMask(url, height: 4, width: 4)
        XCTAssertEqual(same.filter { $0 == 1 }.count, 5)
        // Colour masks go through luma: white stays 1.
        let rgb = dir.appendingPathComponent("rgb.png")
        writeImage(rgb, width: 2, height: 2, channels: 3) { x, _, _ in x == 0 ? 255 : 0 }
        XCTAssertEqual(try loadMask(rgb, height: 2, width: 2), [1, 0, 1, 0])
        let bad = dir.appendingPathComponent("bad.png")
        write(Array("not a mask".utf8), bad)
        assertDataError(try loadMask(bad, height: 2, width: 2), path: bad.path, contains: "not a PNG or JPEG")
    }

    func testChannelStatisticsByHand() throws {
        let dir = makeTempDir(self)
        // Image A all black; image B: R = 255 in the top row, G = 255 everywhere, B = 0.
        writeImage(dir.appendingPathComponent("train/k/a.png"), width: 2, height: 2, channels: 3) { _, _, _ in 0 }
        writeImage(dir.appendingPathComponent("train/k/b.png"), width: 2, height: 2, channels: 3) { _, y, c in
            [y == 0 ? 255 : 0, 255, 0][c]
        }
        let folder = try ImageFolder(root: dir, split: "train")
        let s = try channelStatistics(folder, channels: 3, height: 2, width: 2)
        // R: values 1,1 among 8 → mean 0.25, E[x²] 0.25, var 0.1875, std 0.4330127.
        // G: four 1s among 8 → mean 0.5, std 0.5. B: all 0.
        XCTAssertEqual(s.mean[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(s.std[0], 0.4330127, accuracy: 1e-6)
        XCTAssertEqual(s.mean[1], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.std[1], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.mean[2], 0)
        XCTAssertEqual(s.std[2], 0)
        // At 4×4, B's red rows become 1, 0.75, 0.25, 0 (mean 0.5), so the split's red mean stays 0.25.
        let up = try channelStatistics(folder, channels: 3, height: 4, width: 4)
        XCTAssertEqual(up.mean[0], 0.25, accuracy: 1e-6)
        let gray = try channelStatistics(folder, channels: 1, height: 2, width: 2)
        // Luma of (255,255,0) = 226 and of (0,255,0) = 150; B's gray pixels: 226, 226, 150, 150.
        XCTAssertEqual(gray.mean[0], Float((226.0 * 2 + 150 * 2) / 255 / 8), accuracy: 1e-6)
    }

    func testAugmentationMatchesNumpyPadCropFlip() {
        let p = Preprocessing.cifar
        for reference in Fixtures.augmentNumpy {
            let draw = Augmentation.Draw(left: reference.left, top: reference.top, flip: reference.flip)
            let out = Augmentation.cifar.apply(draw, to: Fixtures.augmentInput, channels: 3, height: 6, width: 5,
                                               mean: p.mean, std: p.std)
            let worst = zip(out, reference.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5, "\(reference)")
        }
        // A zero-padded pixel becomes −mean/std: crop at (0, 0) puts padding in the corner.
        let corner = Augmentation.cifar.apply(.init(left: 0, top: 0, flip: false), to: Fixtures.augmentInput,
                                              channels: 3, height: 6, width: 5, mean: p.mean, std: p.std)
        XCTAssertEqual(corner[0], -0.4914 / 0.2023, accuracy: 1e-6)
        // The centre crop without flip is plain normalisation.
        let centre = Augmentation.cifar.apply(.init(left: 4, top: 4, flip: false), to: Fixtures.augmentInput,
                                              channels: 3, height: 6, width: 5, mean: p.mean, std: p.std)
        XCTAssertEqual(centre[7], (Fixtures.augmentInput[7] - 0.4914) / 0.2023, accuracy: 1e-6)
    }

    func testAugmentationDrawsAreSeededAndCoverTheRange() {
        let a = Augmentation.cifar
        XCTAssertEqual(a.draw(seed: 3, epoch: 1, sample: 17), a.draw(seed: 3, epoch: 1, sample: 17))
        var tops = Set<Int>(), lefts = Set<Int>(), flips = 0, differs = 0
        for i in 0..<2000 {
            let d = a.draw(seed: 3, epoch: 1, sample: i)
            tops.insert(d.top); lefts.insert(d.left)
            if d.flip { flips += 1 }
            if d != a.draw(seed: 3, epoch: 2, sample: i) { differs += 1 }
        }
        XCTAssertEqual(tops, Set(0...8))
        XCTAssertEqual(lefts, Set(0...8))
        XCTAssertTrue((900...1100).contains(flips), "flips \(flips)")
        XCTAssertGreaterThan(differs, 1800)   // another epoch, other draws
        XCTAssertEqual(Augmentation.none.draw(seed: 3, epoch: 1, sample: 5), .init(left: 0, top: 0, flip: false))
    }

    func testSplitMix64ReferenceValues() {
        // Vigna's splitmix64.c with seed 1234567 (values also recomputed in Python).
        var rng = SplitMix64(seed: 1_234_567)
        XCTAssertEqual((0..<5).map { _ in rng.next() },
                       [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                        4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
        var r = SplitMix64(seed: 9)
        let p = r.permutation(50)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<3000 { counts[r.nextInt(below: 3)] += 1 }
        XCTAssertTrue(counts.allSatisfy { (900...1100).contains($0) }, "\(counts)")
        XCTAssertNotEqual(SplitMix64.derive(1, 2), SplitMix64.derive(2, 1))
    }
}
