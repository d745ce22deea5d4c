import XCTest
import ABN
import ABNData
@testable import HITL

/// evaluate: the eval --json shape exactly, and its numbers against per-image recomputation.
final class EvaluateTests: XCTestCase {
    func testReportShapeAndValues() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let folder = try ImageFolder(root: Fixture.data, split: "test")
        let report = try evaluate(model: model, folder: folder)
        // Recompute per image: accuracy, confusion, and the attention metrics with 2×2 block means.
        var confusion = [[Int]](repeating: [0, 0, 0, 0], count: 4)
        var attentionRight = 0, mass = 0.0, pointing = 0.0, iou = 0.0, decoy = 0.0
        for s in folder.samples {
            let o = try Fixture.outputs(model, split: "test", s.relativePath)
            confusion[s.label][argmax(o.probabilities)] += 1
            if argmax(o.attention) == s.label { attentionRight += 1 }
            let mask = try Fixture.blockMeanMask(s.maskURL!)
            mass += AttentionMetrics.massInMask(map: o.map, mask: mask)
            pointing += AttentionMetrics.pointingGame(map: o.map, mask: mask) ? 1 : 0
            iou += AttentionMetrics.iou(map: o.map, mask: mask)
            decoy += AttentionMetrics.decoyMass(map: o.map, decoy: try Fixture.blockMeanMask(s.decoyURL!))
        }
        XCTAssertEqual(report.n, 16)
        XCTAssertEqual(report.confusion, confusion)
        XCTAssertEqual(report.accuracy, Double((0..<4).map { confusion[$0][$0] }.reduce(0, +)) / 16, accuracy: 1e-12)
        XCTAssertEqual(report.attentionBranchAccuracy, Double(attentionRight) / 16, accuracy: 1e-12)
        for (c, name) in ShortcutDataset.classNames.enumerated() {
            XCTAssertEqual(report.perClassAccuracy[name]!, Double(confusion[c][c]) / Double(confusion[c].reduce(0, +)), accuracy: 1e-12)
        }
        XCTAssertEqual(report.attention!.massInMask!, mass / 16, accuracy: 1e-5)
        XCTAssertEqual(report.attention!.pointingGame!, pointing / 16, accuracy: 1e-12)
        XCTAssertEqual(report.attention!.iou!, iou / 16, accuracy: 1e-5)
        XCTAssertEqual(report.attention!.decoyMass!, decoy / 16, accuracy: 1e-5)
        // The JSON: exactly these keys; and it decodes back.
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["split", "n", "accuracy", "attention_branch_accuracy", "per_class_accuracy", "confusion", "attention"])
        XCTAssertEqual(Set((json["attention"] as! [String: Any]).keys), ["mass_in_mask", "pointing_game", "iou", "decoy_mass"])
        XCTAssertEqual(json["split"] as? String, "test")
        XCTAssertEqual(try JSONDecoder().decode(EvalReport.self, from: try JSONEncoder().encode(report)), report)
    }

    func testAttentionKeysOnlyWhereMasksOrDecoysExist() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        // A copy of the test split with masks but no decoys, and one with neither.
        let fm = FileManager.default
        let masksOnly = dir.appendingPathComponent("masks-only"), bare = dir.appendingPathComponent("bare")
        for d in [masksOnly, bare] { try fm.createDirectory(at: d.appendingPathComponent("masks"), withIntermediateDirectories: true) }
        try fm.copyItem(at: Fixture.data.appendingPathComponent("test"), to: masksOnly.appendingPathComponent("test"))
        try fm.copyItem(at: Fixture.data.appendingPathComponent("masks/test"), to: masksOnly.appendingPathComponent("masks/test"))
        try fm.copyItem(at: Fixture.data.appendingPathComponent("test"), to: bare.appendingPathComponent("test"))
        let withMasks = try JSONSerialization.jsonObject(with: JSONEncoder().encode(evaluate(model: model, folder: ImageFolder(root: masksOnly, split: "test")))) as! [String: Any]
        XCTAssertEqual(Set((withMasks["attention"] as! [String: Any]).keys), ["mass_in_mask", "pointing_game", "iou"])
        let plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(evaluate(model: model, folder: ImageFolder(root: bare, split: "test")))) as! [String: Any]
        XCTAssertNil(plain["attention"])
    }
}
