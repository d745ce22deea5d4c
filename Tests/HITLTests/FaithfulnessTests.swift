import XCTest
import ABN
import ABNData
@testable import HITL

/// Deletion and insertion: the ranking, the step schedule, the perturbed images and the AUC by hand,
/// then the driver against what the model says at the curves' two ends.
final class FaithfulnessTests: XCTestCase {
    func testOrderIsMostSalientFirstWithTiesInRasterOrder() {
        XCTAssertEqual(Faithfulness.order([0.1, 0.9, 0.5, 0.9]), [1, 3, 2, 0])
        XCTAssertEqual(Faithfulness.order([0, 0, 0.2, 0]), [2, 0, 1, 3], "Grad-CAM's zeros go last, in raster order")
    }

    func testScheduleStartsAtNoneAndEndsAtEveryPixel() {
        XCTAssertEqual(Faithfulness.schedule(pixels: 4, steps: 4), [0, 1, 2, 3, 4])
        XCTAssertEqual(Faithfulness.schedule(pixels: 10, steps: 4), [0, 2, 5, 7, 10], "⌊s·10/4⌋")
        XCTAssertEqual(Faithfulness.schedule(pixels: 1024, steps: 32).prefix(3), [0, 32, 64])
        XCTAssertEqual(Faithfulness.schedule(pixels: 3, steps: 1), [0, 3])
    }

    func testPerturbedChangesEveryChannelOfTheRankedPixels() {
        // Two channels of a 1×3 image: channel 0 = 1, 2, 3; channel 1 = 4, 5, 6. Baseline −1 everywhere.
        let image: [Float] = [1, 2, 3, 4, 5, 6], baseline = [Float](repeating: -1, count: 6)
        let order = [2, 0, 1]
        XCTAssertEqual(Faithfulness.perturbed(image, baseline: baseline, channels: 2, order: order, count: 0, insertion: false), image)
        XCTAssertEqual(Faithfulness.perturbed(image, baseline: baseline, channels: 2, order: order, count: 2, insertion: false),
                       [-1, 2, -1, -1, 5, -1])
        XCTAssertEqual(Faithfulness.perturbed(image, baseline: baseline, channels: 2, order: order, count: 0, insertion: true), baseline)
        XCTAssertEqual(Faithfulness.perturbed(image, baseline: baseline, channels: 2, order: order, count: 1, insertion: true),
                       [-1, -1, 3, -1, -1, 6])
        XCTAssertEqual(Faithfulness.perturbed(image, baseline: baseline, channels: 2, order: order, count: 3, insertion: true), image)
    }

    func testAUCByTheTrapezoidRule() {
        XCTAssertEqual(Faithfulness.auc(x: [0, 0.5, 1], y: [0, 0.5, 1]), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Faithfulness.auc(x: [0, 1], y: [1, 1]), 1, accuracy: 1e-15)
        // Uneven steps: 0.2·1 + 0.8·(1 + 0)/2.
        XCTAssertEqual(Faithfulness.auc(x: [0, 0.2, 1], y: [1, 1, 0]), 0.6, accuracy: 1e-15)
    }

    /// A 2×2 one-channel image [1 2; 3 4], a "model" whose probability is the pixel sum / 10, baseline 0,
    /// saliency [0.1 0.9; 0.5 0.9] → order 1, 3, 2, 0. Deletion: 1, 0.8, 0.4, 0.1, 0 → AUC
    /// 0.25·(0.9 + 0.6 + 0.25 + 0.05) = 0.45. Insertion: 0, 0.2, 0.6, 0.9, 1 → 0.25·(0.1 + 0.4 + 0.75 + 0.95) = 0.55.
    func testCurvesOfATwoByTwoImageByHand() throws {
        var calls: [Int] = []
        let curves = try Faithfulness.curves(image: [1, 2, 3, 4], baseline: [0, 0, 0, 0], channels: 1,
                                             saliency: [0.1, 0.9, 0.5, 0.9], steps: 4) { images, n in
            calls.append(n)
            return (0..<n).map { i in Double(images[(4 * i)..<(4 * i + 4)].reduce(0, +)) / 10 }
        }
        XCTAssertEqual(calls, [10], "both curves in one batch")
        XCTAssertEqual(curves.fractions, [0, 0.25, 0.5, 0.75, 1])
        for (a, b) in zip(curves.deletion, [1, 0.8, 0.4, 0.1, 0]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (a, b) in zip(curves.insertion, [0, 0.2, 0.6, 0.9, 1]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(curves.deletionAUC, 0.45, accuracy: 1e-6)
        XCTAssertEqual(curves.insertionAUC, 0.55, accuracy: 1e-6)
    }

    /// With one step each curve has only its ends: the unmodified image and the mean image (0 after
    /// normalising), so both AUCs are (p(x) + p(mean image)) / 2 for the class predicted on x, for every map.
    func testOneStepDriverAgainstTheModelAtBothEnds() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let folder = try ImageFolder(root: Fixture.data, split: "test")
        let report = try faithfulness(model: model, folder: folder, methods: [.abn, .cam, .gradcam], steps: 1)
        let blank = try model.model.forward(Tensor(shape: [1, 3, 32, 32], data: [Float](repeating: 0, count: 3 * 32 * 32)), training: false)
        let pBlank = softmax(blank.perceptionLogits.data)
        var expected = 0.0
        for s in folder.samples {
            let p = try Fixture.outputs(model, split: "test", s.relativePath).probabilities
            expected += (Double(p.max()!) + Double(pBlank[argmax(p)])) / 2
        }
        expected /= 16
        XCTAssertEqual(report.n, 16)
        XCTAssertEqual(report.steps, 1)
        XCTAssertEqual(Set(report.methods.keys), ["abn", "cam", "gradcam"])
        for (_, s) in report.methods {
            XCTAssertEqual(s.deletionAUC, expected, accuracy: 1e-5)
            XCTAssertEqual(s.insertionAUC, expected, accuracy: 1e-5)
        }
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["n", "steps", "baseline", "methods"])
        XCTAssertEqual(json["baseline"] as? String, "mean")
        XCTAssertEqual(Set(((json["methods"] as! [String: Any])["cam"] as! [String: Any]).keys), ["deletion_auc", "insertion_auc"])
    }

    /// Deletion removes what the map ranks first: a map that ranks the pixels in the order the model
    /// depends on them scores a lower deletion and higher insertion AUC than the reverse ranking.
    func testARankingThatFollowsTheModelBeatsItsReverse() throws {
        // "Model": probability = pixel 0's value (the only pixel it looks at).
        let score: ([Float], Int) throws -> [Double] = { images, n in (0..<n).map { Double(images[4 * $0]) } }
        let good = try Faithfulness.curves(image: [1, 1, 1, 1], baseline: [0, 0, 0, 0], channels: 1,
                                           saliency: [1, 0.5, 0.4, 0.3], steps: 4, score: score)
        let bad = try Faithfulness.curves(image: [1, 1, 1, 1], baseline: [0, 0, 0, 0], channels: 1,
                                          saliency: [0, 0.5, 0.4, 0.3], steps: 4, score: score)
        // good: deletion 1, 0, 0, 0, 0 → 0.125; insertion 0, 1, 1, 1, 1 → 0.875. bad: the mirror image.
        XCTAssertEqual(good.deletionAUC, 0.125, accuracy: 1e-12)
        XCTAssertEqual(good.insertionAUC, 0.875, accuracy: 1e-12)
        XCTAssertEqual(bad.deletionAUC, 0.875, accuracy: 1e-12)
        XCTAssertEqual(bad.insertionAUC, 0.125, accuracy: 1e-12)
    }
}
