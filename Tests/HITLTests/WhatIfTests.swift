import XCTest
import ABN
import ABNData
@testable import HITL

/// What-if from cached features: the model's own answer under its own map, a different one under an
/// edit, and successive updates that agree with a cold start.
final class WhatIfTests: XCTestCase {
    func testAgreesWithTheFullForwardPassAndChangesUnderAnEdit() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let whatIf = WhatIf(model: model, dataRoot: Fixture.data, split: "train", cacheLimit: 2)
        let paths = ["circle/00000.png", "cross/00001.png", "square/00002.png"]
        for path in paths + paths {  // the second round evicts and recomputes: same answers
            let o = try Fixture.outputs(model, path)
            assertClose(try whatIf.probabilities(relativePath: path, map: o.map), o.probabilities, 1e-5, path)
        }
        let o = try Fixture.outputs(model, paths[0])
        let edited = try whatIf.probabilities(relativePath: paths[0], map: o.map.map { 1 - $0 })
        XCTAssertGreaterThan(zip(edited, o.probabilities).map { abs($0 - $1) }.max()!, 1e-4, "the map reaches the decision")
        XCTAssertEqual(edited.reduce(0, +), 1, accuracy: 1e-5)
        assertOneLineError(try whatIf.probabilities(relativePath: paths[0], map: [0.5]), mentions: [paths[0], "16×16 values, got 1"])
        assertOneLineError(try whatIf.probabilities(relativePath: "circle/missing.png", map: o.map), mentions: ["circle/missing.png"])
    }

    func testSuccessiveStrokesOnCachedFeaturesMatchAColdStart() throws {
        // The review UI's pattern: features cached once, then one update per stroke. Each answer must be
        // what a WhatIf with nothing cached gives for that map, and the model's own map must still give
        // the full forward pass afterwards.
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir, arch: "cifar-resnet20")
        let whatIf = WhatIf(model: model, dataRoot: Fixture.data, split: "train")
        let path = "triangle/00003.png"
        let own = try Fixture.outputs(model, path)
        var map = own.map
        _ = try whatIf.probabilities(relativePath: path, map: map)
        var answers: [[Float]] = []
        for i in 0..<4 {
            for j in 0..<32 { map[(i * 64 + j * 7) % map.count] = Float((i + j) % 2) }
            let warm = try whatIf.probabilities(relativePath: path, map: map)
            let cold = try WhatIf(model: model, dataRoot: Fixture.data, split: "train").probabilities(relativePath: path, map: map)
            assertClose(warm, cold, 1e-6, "stroke \(i)")
            answers.append(warm)
        }
        XCTAssertGreaterThan(zip(answers[0], answers[3]).map { abs($0 - $1) }.max()!, 1e-5, "the strokes change the answer")
        assertClose(try whatIf.probabilities(relativePath: path, map: own.map), own.probabilities, 1e-5, "own map after strokes")
    }

    /// SE-ResNet's unbounded map: predictions (the maps sessions store and metrics read) carry M/max(M),
    /// in [0, 1] with a peak of 1; explanations keep M raw with that scale; what-if takes the [0, 1] space
    /// back to the model's by the same scale, so the unedited map gives the model's own answer.
    func testUnboundedMapWorksDividedByItsMaximum() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir, arch: "imagenet-se-resnet18")
        XCTAssertFalse(model.model.mapIsBounded)
        let folder = try ImageFolder(root: Fixture.data, split: "train")
        var predictions: [Prediction] = []
        try predictAll(model: model, folder: folder) { predictions += $0 }
        let whatIf = WhatIf(model: model, dataRoot: Fixture.data, split: "train")
        for p in predictions.prefix(3) {
            let path = folder.samples[p.sampleIndex].relativePath
            let o = try Fixture.outputs(model, path)
            let peak = try XCTUnwrap(o.map.max())
            XCTAssertGreaterThan(peak, 0)
            assertClose(p.map, o.map.map { $0 / peak }, 1e-5, "\(path): the stored map is M/max(M)")
            XCTAssertEqual(p.map.max(), 1)
            assertClose(try whatIf.probabilities(relativePath: path, map: p.map), o.probabilities, 1e-5, "\(path): own map")
            let e = try explain(model.model, input: try whatIf.input(relativePath: path).data, methods: [.abn])
            XCTAssertEqual(e.attentionMap, o.map, "explanations keep the raw map")
            XCTAssertEqual(e.mapScale, peak)
            XCTAssertEqual(e.map(.abn, toHeight: 2, toWidth: 2)?.max() ?? 0, 1, accuracy: 1e-6, "pictures divide by the scale")
        }
    }
}
