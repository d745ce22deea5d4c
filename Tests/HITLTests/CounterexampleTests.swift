import XCTest
import ABNData
@testable import HITL

/// Counterexamples from edited maps, with pixels worked out by hand (docs/finetuning.md has the rules):
/// an 8×8 input, a 4×4 map (each cell 2×2 pixels), bilinear upsampling with half-pixel centres
/// (pixel x samples the map at x/2 − 0.25), a 1-pixel square dilation.
final class CounterexampleTests: XCTestCase {
    func region(_ pixels: [(Int, Int)], size: Int = 8) -> [Bool] {
        var r = [Bool](repeating: false, count: size * size)
        for (x, y) in pixels { r[y * size + x] = true }
        return r
    }

    func square(_ xs: ClosedRange<Int>, _ ys: ClosedRange<Int>) -> [(Int, Int)] {
        ys.flatMap { y in xs.map { x in (x, y) } }
    }

    /// Painted evidence: the edited map is 1 in cell (1, 1) only, the model's map 0.2 everywhere.
    /// Upsampled, pixels 2…3 × 2…3 get 0.75·0.75 = 0.5625 (the peak) and their neighbours 0.25·0.75 =
    /// 0.1875 < 0.5·peak, so the evidence is the 2×2 block, dilated to 1…4 × 1…4; everything else is replaced.
    func testPaintedEvidenceKeepsTheDilatedEvidenceAndReplacesTheRest() {
        var edited = [Float](repeating: 0, count: 16)
        edited[1 * 4 + 1] = 1
        let original = [Float](repeating: 0.2, count: 16)
        XCTAssertEqual(Counterexamples.style(original: original, edited: edited), .evidence)
        XCTAssertEqual(Counterexamples.dilationRadius(height: 8, width: 8), 1)
        let replaced = Counterexamples.replacedRegion(original: original, edited: edited, mapHeight: 4, mapWidth: 4, height: 8, width: 8)
        let kept = region(square(1...4, 1...4))
        XCTAssertEqual(replaced, kept.map { !$0 })
    }

    /// The same edit with the dilation given: 0 keeps the 2×2 block itself, 2 grows it to 0…5 × 0…5.
    func testAGivenDilationReplacesTheDefault() {
        var edited = [Float](repeating: 0, count: 16)
        edited[1 * 4 + 1] = 1
        let original = [Float](repeating: 0.2, count: 16)
        for (dilation, kept) in [(0, square(2...3, 2...3)), (2, square(0...5, 0...5))] {
            let replaced = Counterexamples.replacedRegion(original: original, edited: edited, mapHeight: 4, mapWidth: 4,
                                                          height: 8, width: 8, dilation: dilation)
            XCTAssertEqual(replaced, region(kept).map { !$0 }, "dilation \(dilation)")
        }
    }

    /// Erase-only: the model's map is 0.6 everywhere and the annotator set cell (0, 0) to 0. The erased
    /// amount, 0.6 in that cell, upsamples to 0.6 at (0, 0), 0.45 at (1, 0) and (0, 1), 0.3375 at (1, 1)
    /// and 0.15 at (2, 0): the pixels ≥ 0.25 are 0…1 × 0…1, dilated to 0…2 × 0…2. Only those are replaced.
    func testEraseOnlyReplacesWhatWasErased() {
        let original = [Float](repeating: 0.6, count: 16)
        var edited = original
        edited[0] = 0
        XCTAssertEqual(Counterexamples.style(original: original, edited: edited), .eraseOnly)
        let replaced = Counterexamples.replacedRegion(original: original, edited: edited, mapHeight: 4, mapWidth: 4, height: 8, width: 8)
        XCTAssertEqual(replaced, region(square(0...2, 0...2)))
    }

    func testStyleCountsAnyRiseAsMarkingEvidence() {
        let original: [Float] = [0.5, 0.5, 0.5, 0.5]
        XCTAssertEqual(Counterexamples.style(original: original, edited: [0, 0.5, 0.5, 0.56]), .evidence, "a rise of 0.06 > 0.05")
        XCTAssertEqual(Counterexamples.style(original: original, edited: [0, 0.5, 0.5, 0.54]), .eraseOnly, "a rise within the tolerance")
        XCTAssertEqual(Counterexamples.style(original: original, edited: [0.3, 0.5, 0.5, 0.5]), .evidence, "lowered by less than 0.25 is no erase")
        XCTAssertEqual(Counterexamples.style(original: original, edited: original), .evidence, "accepted as is: the map marks the evidence")
    }

    func testAnEmptyMapReplacesEverything() {
        let r = Counterexamples.replacedRegion(original: [0.2, 0.2, 0.2, 0.2], edited: [0, 0, 0, 0],
                                               mapHeight: 2, mapWidth: 2, height: 4, width: 4)
        // Lowering 0.2 → 0 is below the erase threshold, so this is the evidence style with no evidence.
        XCTAssertEqual(r, [Bool](repeating: true, count: 16))
    }

    func testDilationIsASquareNeighbourhoodClippedAtTheEdges() {
        let d = Counterexamples.dilate(region([(0, 0), (4, 3)], size: 6), height: 6, width: 6, radius: 1)
        XCTAssertEqual(d, region(square(0...1, 0...1) + square(3...5, 2...4), size: 6))
    }

    /// Two channels, four pixels; the first two are replaced. Donor A may give pixels 1–3, donor B pixel 0.
    func testComposeTakesEachReplacedPixelFromTheFirstDonorThatMayGiveIt() {
        let image: [Float] = [1, 2, 3, 4, /* channel 2 */ -1, -2, -3, -4]
        let a = Counterexamples.Donor(image: [10, 11, 12, 13, 20, 21, 22, 23], usable: [false, true, true, true])
        let b = Counterexamples.Donor(image: [30, 31, 32, 33, 40, 41, 42, 43], usable: [true, false, false, false])
        let replace = [true, true, false, false]
        XCTAssertEqual(Counterexamples.compose(image: image, channels: 2, replace: replace, donors: [a, b]),
                       [30, 11, 3, 4, 40, 21, -3, -4])
        // Only donor A: pixel 0 is not covered and gets the mean of the donor pixels used (pixel 1 of A).
        XCTAssertEqual(Counterexamples.compose(image: image, channels: 2, replace: replace, donors: [a]),
                       [11, 11, 3, 4, 21, 21, -3, -4])
        // A donor that can give none of the replaced pixels: its usable pixels' mean (12.5 and 22.5) fills them.
        let c = Counterexamples.Donor(image: [0, 0, 12, 13, 0, 0, 22, 23], usable: [false, false, true, true])
        XCTAssertEqual(Counterexamples.compose(image: image, channels: 2, replace: replace, donors: [c]),
                       [12.5, 12.5, 3, 4, 22.5, 22.5, -3, -4])
    }

    /// Through the pool: counterexamples keep every kept pixel of the target, never show a donor's own
    /// evidence, never use a held-out target as a donor, and are fresh each time.
    func testPoolKeepsEvidenceAndNeverShowsADonorsEvidence() throws {
        let p = Preprocessing(channels: 1, height: 8, width: 8, mean: [0], std: [1])
        // Target t has evidence in map cell (t, t): object pixels are 100 + t, background pixels t.
        func map(_ t: Int) -> [Float] { (0..<16).map { $0 == t * 4 + t ? 1 : 0 } }
        let targets = (0..<4).map { FinetuneTarget(relativePath: "\($0)", label: $0, map: map($0), originalMap: [Float](repeating: 0.2, count: 16)) }
        func image(_ t: Int) -> [Float] {
            (0..<64).map { i in (i % 8) / 2 == t && (i / 8) / 2 == t ? Float(100 + t) : Float(t) }
        }
        let pool = try CounterexamplePool(targets: targets, training: [0, 1, 2], mapHeight: 4, mapWidth: 4, preprocessing: p, dilation: nil,
                                          input: { image(Int($0)!) })
        XCTAssertEqual(pool.donors, [0, 1, 2])
        var rng = SplitMix64(seed: 1)
        let made = pool.counterexamples(of: 1, count: 3, rng: &rng)
        XCTAssertEqual(made.count, 3)
        let replace = try XCTUnwrap(pool.replaced[1])
        for x in made {
            for i in 0..<64 {
                if !replace[i] { XCTAssertEqual(x[i], image(1)[i], "kept pixel \(i)") }
                else { XCTAssertTrue([0, 2].contains(x[i]), "pixel \(i) is \(x[i]): a donor's background, never an object (≥ 100) or target 3's") }
            }
        }
        XCTAssertNotEqual(made[0], image(1), "something was replaced")
        XCTAssertTrue(pool.counterexamples(of: 0, count: 0, rng: &rng).isEmpty)
        let validation = try XCTUnwrap(try pool.validationSet(heldOut: [3], seed: 9))
        XCTAssertEqual(validation.labels, Array(repeating: 3, count: 256), "one held-out target: all 256 of the validation set")
        XCTAssertEqual(try pool.validationSet(heldOut: [3], seed: 9)?.inputs, validation.inputs, "built the same way every time")
    }

    func testHoldoutSplit() {
        var rng = SplitMix64(seed: 4)
        let split = TargetSplit(count: 25, holdout: 0.1, rng: &rng)
        XCTAssertEqual(split.heldOut.count, 2)
        XCTAssertEqual(Set(split.heldOut + split.training), Set(0..<25))
        XCTAssertTrue(Set(split.heldOut).isDisjoint(with: split.training))
        XCTAssertEqual(TargetSplit(count: 9, holdout: 0.1, rng: &rng).heldOut, [], "⌊0.9⌋ = 0: nothing held out")
        XCTAssertEqual(TargetSplit(count: 2, holdout: 0.5, rng: &rng).heldOut, [], "at least two stay to train on")
        var o = FinetuneOptions()
        o.counterexamples = 2
        XCTAssertEqual(o.effectiveHoldout, 0.1)
        o.counterexamples = 0
        XCTAssertEqual(o.effectiveHoldout, 0, "the paper's recipe: no hold-out")
        o.holdout = 0.2
        XCTAssertEqual(o.effectiveHoldout, 0.2)
    }

    /// 256 validation counterexamples in all, at least 4 per held-out target (hand-computed).
    func testValidationSize() {
        XCTAssertEqual(ValidationSet.counterexamplesPerTarget(heldOut: 0), 0)
        XCTAssertEqual(ValidationSet.counterexamplesPerTarget(heldOut: 10), 26, "⌈256/10⌉: 100 edits hold out 10")
        XCTAssertEqual(ValidationSet.counterexamplesPerTarget(heldOut: 64), 4)
        XCTAssertEqual(ValidationSet.counterexamplesPerTarget(heldOut: 100), 4, "never fewer than 4 each")
    }

    /// The kept epoch is the best, the later one on ties; patience counts steps since the best.
    func testEpochSelection() {
        var s = EpochSelection()
        XCTAssertTrue(s.record(accuracy: 0.5, epoch: 1, step: 9))
        XCTAssertFalse(s.record(accuracy: 0.4, epoch: 2, step: 18))
        XCTAssertTrue(s.record(accuracy: 0.5, epoch: 3, step: 27), "a tie goes to the later epoch")
        XCTAssertEqual(s.best?.epoch, 3)
        XCTAssertFalse(s.record(accuracy: 0.45, epoch: 4, step: 36))
        XCTAssertFalse(s.shouldStop(step: 36, patience: 10), "9 steps since the best")
        XCTAssertTrue(s.shouldStop(step: 37, patience: 10))
        XCTAssertFalse(s.shouldStop(step: 10_000, patience: 0), "0: never stop early")
        XCTAssertFalse(EpochSelection().shouldStop(step: 100, patience: 1), "no epoch measured yet")
    }
}

/// The fine-tuning augmentation moves an input and its map together (hand-worked 4×4 input, 2×2 map).
final class TargetAugmentationTests: XCTestCase {
    let aug = TargetAugmentation(preprocessing: Preprocessing(channels: 1, height: 4, width: 4, mean: [0.5], std: [0.5]), mapHeight: 2, mapWidth: 2)
    let image: [Float] = (0..<16).map { Float($0) }
    let map: [Float] = [1, 2, 3, 4]

    func testShiftMovesWholeCellsAndPadsWithBlack() {
        XCTAssertEqual(aug.maxShiftCells, 1)
        XCTAssertEqual(aug.padding, [-1], "black: (0 − 0.5) / 0.5")
        let d = TargetAugmentation.Draw(dx: 1, dy: 0, flip: false)
        XCTAssertEqual(aug.apply(d, image: image), [-1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13])
        XCTAssertEqual(aug.apply(d, map: map), [0, 1, 0, 3])
        let up = TargetAugmentation.Draw(dx: 0, dy: -1, flip: false)
        XCTAssertEqual(aug.apply(up, image: image), [8, 9, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1])
        XCTAssertEqual(aug.apply(up, map: map), [3, 4, 0, 0])
    }

    func testFlipMirrorsImageAndMapAlike() {
        let d = TargetAugmentation.Draw(dx: 0, dy: 0, flip: true)
        XCTAssertEqual(aug.apply(d, image: image), [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12])
        XCTAssertEqual(aug.apply(d, map: map), [2, 1, 4, 3])
        // Flip, then shift right by a cell.
        let both = TargetAugmentation.Draw(dx: 1, dy: 0, flip: true)
        XCTAssertEqual(aug.apply(both, image: image), [-1, -1, 3, 2, -1, -1, 7, 6, -1, -1, 11, 10, -1, -1, 15, 14])
        XCTAssertEqual(aug.apply(both, map: map), [0, 2, 0, 4])
    }
}
