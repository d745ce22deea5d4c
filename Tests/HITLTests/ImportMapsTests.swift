import XCTest
import ABN
import ABNData
@testable import HITL

/// import-maps from the dataset's masks: the maps, the what-if under them, idempotence, and bad
/// masks refused with the session left exactly as it was.
final class ImportMapsTests: XCTestCase {
    func collected(_ dir: URL, limit: Int = 6) throws -> (LoadedModel, Session) {
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: limit)
        return (model, try Session.open(dir.appendingPathComponent("s")))
    }

    func testImportsMasksAsMapsWithTheirWhatIf() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try collected(dir)
        let masks = Fixture.data.appendingPathComponent("masks/train")
        let summary = try importMaps(session: session, masks: masks, whatIf: WhatIf(model: model, session: session), annotator: "masks")
        XCTAssertEqual(summary, ImportSummary(imported: 6, withoutMask: 0, unchanged: 0))
        let edits = try session.edits()
        let samples = try session.samples()
        XCTAssertEqual(edits.count, 6)
        for (edit, sample) in zip(edits, samples) {
            XCTAssertEqual(edit.sampleID, sample.id)
            XCTAssertEqual([edit.annotator, edit.source], ["masks", "import"])
            // 32×32 mask → 16×16 map: 2×2 block means, computed here independently.
            assertClose(edit.map, try Fixture.blockMeanMask(masks.appendingPathComponent(sample.relativePath)), 1e-6, sample.relativePath)
            XCTAssertEqual(sample.currentMap, edit.map)
            // The what-if: a full forward pass's perception branch, with the map replaced, from scratch.
            let x = Tensor(shape: [1, 3, 32, 32], data: try loadInput(Fixture.data.appendingPathComponent("train/" + sample.relativePath), model.metadata.preprocessing))
            let logits = try model.model.perceptionBranch(features: try model.model.extractFeatures(x), map: Tensor(shape: [1, 1, 16, 16], data: edit.map))
            assertClose(edit.whatIfProbabilities, softmax(logits.data), 1e-5)
        }
        // Again: the current maps already are the masks.
        let again = try importMaps(session: session, masks: masks, whatIf: WhatIf(model: model, session: session))
        XCTAssertEqual(again, ImportSummary(imported: 0, withoutMask: 0, unchanged: 6))
        XCTAssertEqual(try session.edits().count, 6)
    }

    func testBadMasksAreOneLineErrorsAndNothingIsImported() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try collected(dir, limit: 4)
        let masks = dir.appendingPathComponent("masks")
        let samples = try session.samples()
        for s in samples {
            let dest = masks.appendingPathComponent(s.relativePath)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Fixture.data.appendingPathComponent("masks/train/" + s.relativePath), to: dest)
        }
        // The third sample's mask is 16×16 while its image is 32×32.
        let wrong = masks.appendingPathComponent(samples[2].relativePath)
        try FileManager.default.removeItem(at: wrong)
        try ImageIO.writePNG(Image(width: 16, height: 16, channels: 1, pixels: [UInt8](repeating: 255, count: 256)), to: wrong)
        let whatIf = WhatIf(model: model, session: session)
        assertOneLineError(try importMaps(session: session, masks: masks, whatIf: whatIf), mentions: [wrong.path, "16×16", "32×32", "nothing imported"])
        XCTAssertEqual(try session.edits().count, 0, "the masks before it were not imported either")
        // Garbage bytes where a PNG should be.
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: wrong)
        assertOneLineError(try importMaps(session: session, masks: masks, whatIf: whatIf), mentions: [wrong.path])
        XCTAssertEqual(try session.edits().count, 0)
        // Without that mask: the others are imported, the sample without one is counted.
        try FileManager.default.removeItem(at: wrong)
        XCTAssertEqual(try importMaps(session: session, masks: masks, whatIf: whatIf), ImportSummary(imported: 3, withoutMask: 1, unchanged: 0))
    }

    /// --masks may be DATA/masks (the session's split folder inside is used) or DATA/masks/<split>:
    /// both import the same maps.
    func testBothMaskLayoutsImportTheSameMaps() throws {
        let masks = Fixture.data.appendingPathComponent("masks")
        XCTAssertEqual(masksFolder(masks, split: "train"), masks.appendingPathComponent("train"))
        XCTAssertEqual(masksFolder(masks.appendingPathComponent("train"), split: "train"), masks.appendingPathComponent("train"))
        var maps: [[[Float]]] = []
        for folder in [masks, masks.appendingPathComponent("train")] {
            let dir = try Fixture.temporaryDirectory()
            let (model, session) = try collected(dir, limit: 5)
            let summary = try importMaps(session: session, masks: folder, whatIf: WhatIf(model: model, session: session))
            XCTAssertEqual(summary, ImportSummary(imported: 5, withoutMask: 0, unchanged: 0), folder.path)
            let edits = try session.edits()
            for (edit, sample) in zip(edits, try session.samples()) {
                assertClose(edit.map, try Fixture.blockMeanMask(masks.appendingPathComponent("train/" + sample.relativePath)), 1e-6, sample.relativePath)
            }
            maps.append(edits.map(\.map))
            // Again through the other layout: nothing new, and not an error.
            let other = folder == masks ? masks.appendingPathComponent("train") : masks
            XCTAssertEqual(try importMaps(session: session, masks: other, whatIf: WhatIf(model: model, session: session)),
                           ImportSummary(imported: 0, withoutMask: 0, unchanged: 5))
        }
        XCTAssertEqual(maps[0], maps[1])
    }

    /// A folder where no sample has a mask (a level too deep, another layout, the images themselves)
    /// is a one-line error naming it, the layouts expected and the count; nothing is written.
    func testAFolderWithNoMaskForAnySampleIsAnErrorAndNothingIsImported() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try collected(dir, limit: 6)
        let whatIf = WhatIf(model: model, session: session)
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let wrongNames = dir.appendingPathComponent("wrong")
        try FileManager.default.createDirectory(at: wrongNames.appendingPathComponent("circle"), withIntermediateDirectories: true)
        try ImageIO.writePNG(Image(width: 32, height: 32, channels: 1, pixels: [UInt8](repeating: 255, count: 1024)),
                             to: wrongNames.appendingPathComponent("circle/mask-00000.png"))
        let tooDeep = Fixture.data.appendingPathComponent("masks/train/circle")
        for folder in [empty, wrongNames, tooDeep] {
            assertOneLineError(try importMaps(session: session, masks: folder, whatIf: whatIf),
                               mentions: [folder.path + ":", "no mask found for any of the 6 samples", "<masks>/<class>/<name>.png",
                                          "<masks>/train/<class>/<name>.png", "nothing imported"])
            XCTAssertEqual(try session.edits().count, 0, folder.path)
        }
        // DATA itself: DATA/train holds the images, not masks.
        assertOneLineError(try importMaps(session: session, masks: Fixture.data, whatIf: whatIf),
                           mentions: [Fixture.data.appendingPathComponent("train").path, "image folder", "nothing imported"])
        XCTAssertEqual(try session.edits().count, 0)
        XCTAssertTrue(try session.samples().allSatisfy { !$0.edited })
        // Once imported, a wrong folder is still an error (no sample has a mask there), not "unchanged".
        XCTAssertEqual(try importMaps(session: session, masks: Fixture.data.appendingPathComponent("masks"), whatIf: whatIf).imported, 6)
        assertOneLineError(try importMaps(session: session, masks: empty, whatIf: whatIf), mentions: ["no mask found for any of the 6 samples"])
        XCTAssertEqual(try session.edits().count, 6)
    }
}
