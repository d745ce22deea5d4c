import XCTest
import ABN
import ABNData
@testable import HITL

/// The whole human-in-the-loop cycle on a small shortcut dataset, with the defaults a user gets: a
/// ResNet-20-ABN (g·M) trained by `Trainer` leans on the corner patch (test accuracy near chance);
/// collect → import the object masks as edits → fine-tune with the default settings → attention
/// moves off the patch and onto the object, and accuracy on the shortcut-free test split rises.
/// The margins asserted are a fraction of those measured (the printed line; docs/benchmarks.md has
/// the full-size grid over seeds). About three minutes in release on 2 cores.
final class CycleTests: XCTestCase {
    func testCollectImportFinetuneMovesAttentionOffTheDecoy() throws {
        let dir = try Fixture.temporaryDirectory()
        let data = dir.appendingPathComponent("data")
        try ShortcutDataset.generate(at: data, train: 1200, test: 400, seed: 11)
        var train = TrainOptions(dataRoot: data.path)
        train.epochs = 5
        train.attention = .multiply
        train.seed = 5
        let modelURL = dir.appendingPathComponent("trained.safetensors")
        let trainer = try Trainer(options: train, out: modelURL)
        XCTAssertTrue(try trainer.run().completed)
        let trained = try ModelFile.load(contentsOf: modelURL)

        let sessionURL = dir.appendingPathComponent("session")
        let collected = try collect(model: trained, dataRoot: data, split: "train", session: sessionURL, selection: .all, limit: 300)
        XCTAssertEqual(collected.added, 300)
        let session = try Session.open(sessionURL)
        let imported = try importMaps(session: session, masks: data.appendingPathComponent("masks/train"),
                                      whatIf: WhatIf(model: trained, session: session))
        XCTAssertEqual(imported.imported, 300)
        let report = try finetune(session: session, model: trained, out: dir.appendingPathComponent("tuned.safetensors"),
                                  options: FinetuneOptions()) { _ in }
        XCTAssertGreaterThanOrEqual(report.steps, 900, "the default length")
        let before = try XCTUnwrap(report.before), after = try XCTUnwrap(report.after)
        let decoyBefore = try XCTUnwrap(before.attention?.decoyMass), decoyAfter = try XCTUnwrap(after.attention?.decoyMass)
        let maskBefore = try XCTUnwrap(before.attention?.massInMask), maskAfter = try XCTUnwrap(after.attention?.massInMask)
        print(String(format: "cycle: test accuracy %.3f → %.3f, decoy mass %.4f → %.4f, mass in mask %.3f → %.3f, map loss %.3f, %d steps",
                     before.accuracy, after.accuracy, decoyBefore, decoyAfter, maskBefore, maskAfter, report.finalMapLoss, report.steps))
        XCTAssertLessThan(before.accuracy, 0.4, "the trained model leans on the patch")
        XCTAssertLessThan(decoyAfter, 0.7 * decoyBefore, "attention moves off the patch")
        XCTAssertGreaterThan(maskAfter, maskBefore + 0.2, "and onto the object")
        XCTAssertGreaterThan(after.accuracy, before.accuracy + 0.08, "and the perception branch uses the object")
    }
}
