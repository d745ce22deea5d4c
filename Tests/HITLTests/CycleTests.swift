import XCTest
import ABN
import ABNData
@testable import HITL

/// The whole human-in-the-loop cycle on a small shortcut dataset: a model trained here leans on the
/// corner patch; collect → import the object masks as edits → fine-tune → less attention on the
/// patch, and test accuracy does not fall. Sized to run in well under 2 minutes in release on 2 cores.
final class CycleTests: XCTestCase {
    func testCollectImportFinetuneMovesAttentionOffTheDecoy() throws {
        let dir = try Fixture.temporaryDirectory()
        let data = dir.appendingPathComponent("data")
        try ShortcutDataset.generate(at: data, train: 1200, test: 400, seed: 11)
        let meta = try Fixture.metadata()
        let model = try ABNModel(config: ModelConfig(arch: meta.arch, numClasses: 4), seed: 5)
        // A few epochs of ordinary training: enough to pick up the patch, the easy cue.
        let train = try ImageFolder(root: data, split: "train")
        let loader = try BatchLoader(folder: train, preprocessing: meta.preprocessing, batchSize: 64, shuffle: true,
                                     augmentation: .none, seed: 1)
        let sgd = SGD(learningRate: 0.1)
        for epoch in 0..<4 {
            let batches = loader.epoch(epoch)
            while let b = try batches.next() {
                _ = try model.trainStep(input: Tensor(shape: [b.count, 3, 32, 32], data: b.inputs), labels: b.labels, optimizer: sgd)
            }
        }
        let modelURL = dir.appendingPathComponent("trained.safetensors")
        try ModelFile.save(model, metadata: meta, to: modelURL)
        let trained = try ModelFile.load(contentsOf: modelURL)

        let sessionURL = dir.appendingPathComponent("session")
        let collected = try collect(model: trained, dataRoot: data, split: "train", session: sessionURL, selection: .all, limit: 300)
        XCTAssertEqual(collected.added, 300)
        let session = try Session.open(sessionURL)
        let imported = try importMaps(session: session, masks: data.appendingPathComponent("masks/train"),
                                      whatIf: WhatIf(model: trained, session: session))
        XCTAssertEqual(imported.imported, 300)
        var options = FinetuneOptions()
        options.epochs = 3
        let report = try finetune(session: session, model: trained, out: dir.appendingPathComponent("tuned.safetensors"), options: options) { _ in }
        let before = try XCTUnwrap(report.before), after = try XCTUnwrap(report.after)
        let decoyBefore = try XCTUnwrap(before.attention?.decoyMass), decoyAfter = try XCTUnwrap(after.attention?.decoyMass)
        let maskBefore = try XCTUnwrap(before.attention?.massInMask), maskAfter = try XCTUnwrap(after.attention?.massInMask)
        print(String(format: "cycle: test accuracy %.3f → %.3f, decoy mass %.4f → %.4f, mass in mask %.3f → %.3f, map loss %.3f",
                     before.accuracy, after.accuracy, decoyBefore, decoyAfter, maskBefore, maskAfter, report.finalMapLoss))
        XCTAssertLessThan(decoyAfter, 0.8 * decoyBefore, "attention moves off the patch")
        XCTAssertGreaterThan(maskAfter, maskBefore, "and onto the object")
        XCTAssertGreaterThanOrEqual(after.accuracy, before.accuracy - 0.03, "without losing test accuracy")
    }
}
