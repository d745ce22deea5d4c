import XCTest
import ABN
import ABNData
@testable import HITL

/// collect on a real model and dataset: what is stored, in which order, nothing twice.
final class CollectTests: XCTestCase {
    func testMisclassifiedMostConfidentFirstAndNothingTwice() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let sessionURL = dir.appendingPathComponent("s")
        let summary = try collect(model: model, dataRoot: Fixture.data, split: "train", session: sessionURL)
        let session = try Session.open(sessionURL)
        let stored = try session.samples()
        XCTAssertEqual(summary.scanned, 48)
        XCTAssertEqual(summary.selected, stored.count)
        XCTAssertEqual(summary.added, stored.count)
        XCTAssertEqual(summary.accuracy, Double(48 - stored.count) / 48, accuracy: 1e-12, "everything not stored was right")
        XCTAssertGreaterThan(stored.count, 5, "an untrained model gets many wrong")
        // Each stored sample: the model's own outputs (recomputed one image at a time), and wrong.
        for s in stored {
            let o = try Fixture.outputs(model, s.relativePath)
            assertClose(s.probabilities, o.probabilities, 1e-5, s.relativePath)
            assertClose(s.attentionProbabilities, o.attention, 1e-5, s.relativePath)
            assertClose(s.originalMap, o.map, 1e-5, s.relativePath)
            XCTAssertNotEqual(s.predicted, s.label)
            XCTAssertEqual(s.label, ShortcutDataset.classNames.firstIndex(of: String(s.relativePath.split(separator: "/")[0])))
        }
        // Most confident mistakes first; ties by path.
        for (a, b) in zip(stored, stored.dropFirst()) {
            let pa = a.probabilities[a.predicted], pb = b.probabilities[b.predicted]
            XCTAssertTrue(pa > pb || (pa == pb && a.relativePath < b.relativePath), "\(a.relativePath) \(pa) before \(b.relativePath) \(pb)")
        }
        XCTAssertEqual(session.info.split, "train")
        XCTAssertEqual(session.info.modelSHA256, model.sha256)
        XCTAssertEqual([session.info.mapHeight, session.info.mapWidth, session.info.inputHeight], [16, 16, 32])
        // Again: nothing added twice.
        let again = try collect(model: model, dataRoot: Fixture.data, split: "train", session: sessionURL, selection: .all)
        XCTAssertEqual(again.added, 48 - stored.count, "only the correct ones are new")
        XCTAssertEqual(try Session.open(sessionURL).samples().count, 48)
        XCTAssertEqual(try collect(model: model, dataRoot: Fixture.data, split: "train", session: sessionURL, selection: .all).added, 0)
    }

    func testAllTakesMistakesFirstThenLeastConfidentAndLimit() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let summary = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"),
                                  selection: .all, limit: 40)
        XCTAssertEqual([summary.scanned, summary.selected, summary.added], [48, 40, 40])
        let stored = try Session.open(dir.appendingPathComponent("s")).samples()
        let wrong = stored.prefix { $0.predicted != $0.label }
        let right = stored.dropFirst(wrong.count)
        XCTAssertTrue(right.allSatisfy { $0.predicted == $0.label }, "mistakes first")
        XCTAssertFalse(right.isEmpty)
        for (a, b) in zip(right, right.dropFirst()) {
            XCTAssertLessThanOrEqual(a.probabilities[a.label], b.probabilities[b.label], "least confident correct ones first")
        }
        // The first 40 of the full order: the full order's prefix.
        let full = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("t"), selection: .all)
        XCTAssertEqual(full.added, 48)
        XCTAssertEqual(Array(try Session.open(dir.appendingPathComponent("t")).samples().prefix(40).map(\.relativePath)), stored.map(\.relativePath))
    }

    func testAnotherModelSplitOrClassesIsRefused() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let url = dir.appendingPathComponent("s")
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: url, limit: 3)
        let other = try Fixture.modelFile(in: dir, name: "other.safetensors", seed: 9)
        assertOneLineError(try collect(model: other, dataRoot: Fixture.data, split: "train", session: url),
                           mentions: [url.path, "differs from the one this session was collected with"])
        XCTAssertEqual(try Session.open(url).samples().count, 3)
        let changed = try collect(model: other, dataRoot: Fixture.data, split: "train", session: url, limit: 3, allowModelChange: true)
        XCTAssertEqual(try Session.open(url).modelChanges().map(\.modelSHA256), [other.sha256])
        XCTAssertLessThanOrEqual(changed.added, 3)
        assertOneLineError(try collect(model: other, dataRoot: Fixture.data, split: "test", session: url),
                           mentions: [url.path, "split train"])
    }
}
