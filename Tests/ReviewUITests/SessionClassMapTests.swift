import Foundation
import XCTest
import ABN
import ABNData
import HITL
@testable import ReviewUI

/// The real backend's class map is explain's: the model's own forward for its prediction, at the
/// attention map's size (what `explain --json` reports as at_map_size).
final class SessionClassMapTests: XCTestCase {
    func testSessionBackendShowsExplainsMap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("abn-classmap-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try ShortcutDataset.generate(at: data, train: 8, test: 4, seed: 2)
        let meta = ModelMetadata(arch: try ABNArchitecture(parsing: "cifar-resnet8"), classes: ShortcutDataset.classNames, inputChannels: 3,
                                 inputHeight: 32, inputWidth: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], attention: .multiply)
        let url = dir.appendingPathComponent("m.safetensors")
        try ModelFile.save(try ABNModel(config: ModelConfig(arch: meta.arch, numClasses: 4, attention: .multiply), seed: 4), metadata: meta, to: url)
        let model = try ModelFile.load(contentsOf: url)
        _ = try collect(model: model, dataRoot: data, split: "train", session: dir.appendingPathComponent("s"), selection: .all)
        let session = try Session.open(dir.appendingPathComponent("s"))
        XCTAssertThrowsError(try SessionReviewBackend(session: session, model: model, annotator: "t", classMapMethod: .abn))
        for method in [ExplanationMethod.cam, .gradcam, .gradcamPlusPlus] {
            let backend = try SessionReviewBackend(session: session, model: model, annotator: "t", classMapMethod: method)
            XCTAssertEqual(backend.classMapName, method.rawValue)
            let sample = try XCTUnwrap(backend.samples.first)
            let shown = try backend.classMap(for: sample.index)
            let input = try loadInput(data.appendingPathComponent("train").appendingPathComponent(sample.relativePath), meta.preprocessing)
            let e = try explain(model.model, input: input, methods: [method])
            XCTAssertEqual(e.classMaps[0].target, sample.predicted)
            XCTAssertEqual(shown, AttentionMap(height: 16, width: 16, values: e.classMaps[0].resampled(toHeight: 16, toWidth: 16)))
            XCTAssertEqual(shown.values.max()!, 1, accuracy: 1e-5)
        }
    }
}
