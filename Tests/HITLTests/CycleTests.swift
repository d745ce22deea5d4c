import XCTest
import ABN
import ABNData
@testable import HITL

/// The whole human-in-the-loop cycle on the grid's patch configuration (docs/benchmarks.md: 2000
/// training images, 6 epochs, 500 mask edits), with the defaults a user gets: a
/// ResNet-20-ABN (g·M) trained by `Trainer` leans on the corner patch (test accuracy near chance);
/// collect → import the object masks as edits → fine-tune with the default recipe (counterexamples,
/// the whole network training) and, from the same model and session, with the paper's recipe (`counterexamples = 0`) → attention
/// moves off the patch and onto the object with both, and the default's accuracy on the
/// shortcut-free test split beats the paper's recipe's. The margins asserted are a fraction of those
/// measured (the printed lines; docs/benchmarks.md has the grid over kinds and seeds: the paper's
/// recipe sometimes does well on its own, so the margin over it is kept small). About ten minutes
/// in release on 2 cores.
final class CycleTests: XCTestCase {
    func testCollectImportFinetuneMovesAttentionOffTheDecoy() throws {
        let dir = try Fixture.temporaryDirectory()
        let data = dir.appendingPathComponent("data")
        try ShortcutDataset.generate(at: data, train: 2000, test: 500, seed: 0)
        var train = TrainOptions(dataRoot: data.path)
        train.epochs = 6
        train.attention = .multiply
        train.seed = 2
        let modelURL = dir.appendingPathComponent("trained.safetensors")
        let trainer = try Trainer(options: train, out: modelURL)
        XCTAssertTrue(try trainer.run().completed)
        let trained = try ModelFile.load(contentsOf: modelURL)

        let sessionURL = dir.appendingPathComponent("session")
        let collected = try collect(model: trained, dataRoot: data, split: "train", session: sessionURL, selection: .all, limit: 500)
        XCTAssertEqual(collected.added, 500)
        let session = try Session.open(sessionURL)
        let imported = try importMaps(session: session, masks: data.appendingPathComponent("masks/train"),
                                      whatIf: WhatIf(model: trained, session: session))
        XCTAssertEqual(imported.imported, 500)

        var paperOptions = FinetuneOptions()
        paperOptions.counterexamples = 0
        var results: [String: FinetuneReport] = [:]
        for (name, options) in [("default", FinetuneOptions()), ("paper", paperOptions)] {
            let report = try finetune(session: session, model: try ModelFile.load(contentsOf: modelURL),
                                      out: dir.appendingPathComponent("tuned-\(name).safetensors"), options: options) { _ in }
            XCTAssertGreaterThanOrEqual(report.steps, 900, "the default length")
            let before = try XCTUnwrap(report.before), after = try XCTUnwrap(report.after)
            let decoyBefore = try XCTUnwrap(before.attention?.decoyMass), decoyAfter = try XCTUnwrap(after.attention?.decoyMass)
            let maskBefore = try XCTUnwrap(before.attention?.massInMask), maskAfter = try XCTUnwrap(after.attention?.massInMask)
            print(String(format: "cycle (%@): test accuracy %.3f → %.3f, decoy mass %.4f → %.4f, mass in mask %.3f → %.3f, map loss %.3f, %d steps",
                         name, before.accuracy, after.accuracy, decoyBefore, decoyAfter, maskBefore, maskAfter, report.finalMapLoss, report.steps))
            XCTAssertLessThan(before.accuracy, 0.4, "the trained model leans on the patch")
            XCTAssertLessThan(decoyAfter, 0.7 * decoyBefore, "\(name): attention moves off the patch")
            XCTAssertGreaterThan(maskAfter, maskBefore + 0.2, "\(name): and onto the object")
            results[name] = report
        }
        let defaultAfter = try XCTUnwrap(results["default"]?.after?.accuracy), paperAfter = try XCTUnwrap(results["paper"]?.after?.accuracy)
        let before = try XCTUnwrap(results["paper"]?.before?.accuracy)
        XCTAssertGreaterThan(paperAfter, before + 0.08, "the paper's recipe: the perception branch uses the object somewhat")
        XCTAssertGreaterThan(defaultAfter, paperAfter + CycleTests.margin, "counterexamples beat the paper's recipe")
    }

    /// Of the default (counterexamples, the whole network training) over the paper's recipe, in test
    /// accuracy: measured +46.4 points here (100.0 against 53.6, AVX2); with the extractor frozen it was
    /// +26.6 (AVX-512). Over seeds the unfrozen default led the paper's recipe at 500 patch edits by
    /// +19.9 to +51.2 dev points (docs/benchmarks.md, "Fourth pass"), so 15 points is conservative.
    static let margin = 0.15
}
