import Foundation
import XCTest
import ABN
import ABNData
import HITL
@testable import ReviewUI

/// The real backend's class map is explain's: the model's own forward for its prediction, at the
/// attention map's size (what `explain --json` reports as at_map_size).
final class SessionClassMapTests: XCTestCase {
    /// A collected session of 8 images with an untrained cifar-resnet8, in a fresh folder.
    private func smallSession() throws -> (dir: URL, data: URL, meta: ModelMetadata, model: LoadedModel, session: Session) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("abn-classmap-\(UUID().uuidString.prefix(8))")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try ShortcutDataset.generate(at: data, train: 8, test: 4, seed: 2)
        let meta = ModelMetadata(arch: try ABNArchitecture(parsing: "cifar-resnet8"), classes: ShortcutDataset.classNames, inputChannels: 3,
                                 inputHeight: 32, inputWidth: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], attention: .multiply)
        let url = dir.appendingPathComponent("m.safetensors")
        try ModelFile.save(try ABNModel(config: ModelConfig(arch: meta.arch, numClasses: 4, attention: .multiply), seed: 4), metadata: meta, to: url)
        let model = try ModelFile.load(contentsOf: url)
        _ = try collect(model: model, dataRoot: data, split: "train", session: dir.appendingPathComponent("s"), selection: .all)
        return (dir, data, meta, model, try Session.open(dir.appendingPathComponent("s")))
    }

    /// Each edit row says what made it (a stroke, an undo, a redo, a reset), read back from SQLite.
    func testSessionBackendRecordsWhatMadeEachEdit() throws {
        let (_, _, _, model, session) = try smallSession()
        let backend = try SessionReviewBackend(session: session, model: model, annotator: "t")
        let sample = try XCTUnwrap(backend.samples.first)
        for source in [EditSource.stroke, .undo, .redo, .reset] {
            try backend.commitEdit(sampleIndex: sample.index, map: sample.originalMap, whatIf: [0.25, 0.25, 0.25, 0.25], source: source)
        }
        XCTAssertEqual(try session.edits().map(\.source), ["stroke", "undo", "redo", "reset"])
    }

    func testSessionBackendShowsExplainsMap() throws {
        let (_, data, meta, model, session) = try smallSession()
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
