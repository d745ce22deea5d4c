import XCTest
import ABN
import ABNData
@testable import HITL

/// export: pictures, the whole history in edits.csv, provenance in manifest.json, byte-identical twice.
final class ExportTests: XCTestCase {
    func testExportIsCompleteAndByteIdentical() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: 3)
        let session = try Session.open(dir.appendingPathComponent("s"))
        let samples = try session.samples()
        let whatIf = WhatIf(model: model, session: session)
        // Sample 1: two edits by hand; sample 2: accepted as is; sample 3: untouched (not exported).
        let painted = [Float](repeating: 1, count: 256)
        try session.appendEdit(sampleID: samples[0].id, map: painted, annotator: "ann, the \"first\"", source: "review",
                               whatIf: try whatIf.probabilities(relativePath: samples[0].relativePath, map: painted))
        try session.appendEdit(sampleID: samples[0].id, map: samples[0].originalMap, annotator: "bo", source: "reset",
                               whatIf: samples[0].probabilities)
        try session.accept(sampleID: samples[1].id, annotator: "bo")
        let a = dir.appendingPathComponent("e1"), b = dir.appendingPathComponent("e2")
        XCTAssertEqual(try export(session: session, to: a), ExportSummary(samples: 2, edits: 2))
        _ = try export(session: try Session.open(dir.appendingPathComponent("./s")), to: b)
        let files = try FileManager.default.contentsOfDirectory(atPath: a.path).sorted()
        XCTAssertEqual(files, try FileManager.default.contentsOfDirectory(atPath: b.path).sorted())
        XCTAssertEqual(files.filter { $0.hasSuffix(".png") }.count, 10)
        for f in files {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(f)), try Data(contentsOf: b.appendingPathComponent(f)), f)
        }
        // Pictures: 32×32 enlarged 8×; the edited map of sample 1 (reset) is its original map.
        let stem = String(format: "%05d-", samples[0].id) + samples[0].relativePath.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".", with: "_")
        let original = try ImageIO.decode(fileAt: a.appendingPathComponent(stem + "-original.png"))
        XCTAssertEqual([original.width, original.height, original.channels], [256, 256, 3])
        XCTAssertEqual(original.pixels, try ImageIO.decode(fileAt: a.appendingPathComponent(stem + "-edited.png")).pixels)
        let difference = try ImageIO.decode(fileAt: a.appendingPathComponent(stem + "-difference.png"))
        XCTAssertTrue(difference.pixels.allSatisfy { $0 == 255 }, "no change: white")
        // The image picture is the 32×32 source itself (already the input size), each pixel an 8×8 block.
        let source = try ImageIO.decode(fileAt: Fixture.data.appendingPathComponent("train/" + samples[0].relativePath)).converted(toChannels: 3)
        let picture = try ImageIO.decode(fileAt: a.appendingPathComponent(stem + "-image.png"))
        XCTAssertEqual([source.width, picture.width, picture.height], [32, 256, 256])
        for (x, y) in [(0, 0), (31, 0), (5, 17), (31, 31)] {
            for dx in [0, 7] {
                let p = ((8 * y + dx) * 256 + 8 * x + dx) * 3, q = (y * 32 + x) * 3
                XCTAssertEqual(Array(picture.pixels[p..<(p + 3)]), Array(source.pixels[q..<(q + 3)]), "pixel (\(x), \(y))")
            }
        }
        // edits.csv: a header and one row per edit, in order, fields quoted where needed.
        let csv = try String(contentsOf: a.appendingPathComponent("edits.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "edit_id,sample_id,relative_path,label,annotator,time,source,predicted_under_edit,probability_under_edit,map")
        XCTAssertTrue(lines[1].hasPrefix("1,\(samples[0].id),\(samples[0].relativePath),"), String(lines[1]))
        XCTAssertTrue(lines[1].contains(#","ann, the ""first""","#), String(lines[1]))
        XCTAssertTrue(lines[1].hasSuffix("," + Array(repeating: "1.0", count: 256).joined(separator: " ")))
        XCTAssertTrue(lines[2].contains(",bo,") && lines[2].contains(",reset,"))
        // The map column reads back to the same Float32 values.
        let mapText = lines[2].split(separator: ",").last!
        XCTAssertEqual(mapText.split(separator: " ").map { Float(String($0))! }, samples[0].originalMap)
        // manifest.json: provenance.
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: a.appendingPathComponent("manifest.json"))) as! [String: Any]
        XCTAssertEqual(manifest["model_sha256"] as? String, model.sha256)
        XCTAssertEqual(manifest["dataset"] as? String, Fixture.data.standardizedFileURL.path)
        let exported = manifest["samples"] as! [[String: Any]]
        XCTAssertEqual(exported.map { $0["relative_path"] as! String }, [samples[0].relativePath, samples[1].relativePath])
        XCTAssertEqual(exported[0]["label"] as? String, ShortcutDataset.classNames[samples[0].label])
        XCTAssertEqual((exported[0]["edits"] as! [[String: Any]]).map { $0["annotator"] as! String }, ["ann, the \"first\"", "bo"])
        XCTAssertEqual(exported[1]["accepted"] as? Bool, true)
        XCTAssertEqual(exported[0]["predicted"] as? String, ShortcutDataset.classNames[samples[0].predicted])
    }

    /// The marks in the manifest, worked by hand: sample 1 accepted then flagged with a note (both
    /// current), sample 2 excluded and cleared again (untouched: not exported), sample 3 excluded.
    func testManifestCarriesCurrentMarksAndTheirHistory() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: 3)
        let session = try Session.open(dir.appendingPathComponent("s"))
        let ids = try session.samples().map(\.id)
        try session.setMark(sampleID: ids[0], kind: .accept, value: true, annotator: "ann")
        try session.setMark(sampleID: ids[0], kind: .flag, value: true, note: "tail, not \"head\"", annotator: "bo")
        try session.setMark(sampleID: ids[1], kind: .exclude, value: true, annotator: "ann")
        try session.setMark(sampleID: ids[1], kind: .exclude, value: false, annotator: "ann", source: .undo)
        try session.setMark(sampleID: ids[2], kind: .exclude, value: true, annotator: "cy")
        let out = dir.appendingPathComponent("e")
        XCTAssertEqual(try export(session: session, to: out), ExportSummary(samples: 2, edits: 0))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as! [String: Any]
        XCTAssertNil(manifest["accepts"], "the marks history replaces accepts")
        let exported = manifest["samples"] as! [[String: Any]]
        XCTAssertEqual(exported.map { ($0["sample_id"] as! NSNumber).int64Value }, [ids[0], ids[2]])
        XCTAssertEqual(exported.map { $0["accepted"] as! Bool }, [true, false])
        XCTAssertEqual(exported.map { $0["flagged"] as! Bool }, [true, false])
        XCTAssertEqual(exported.map { $0["excluded"] as! Bool }, [false, true])
        XCTAssertEqual(exported[0]["flag_note"] as? String, "tail, not \"head\"")
        XCTAssertTrue(exported[1]["flag_note"] is NSNull, "written as null, not left out")
        let marks = manifest["marks"] as! [[String: Any]]
        XCTAssertEqual(marks.map { $0["mark_id"] as! Int }, [1, 2, 3, 4, 5])
        XCTAssertEqual(marks.map { ($0["sample_id"] as! NSNumber).int64Value }, [ids[0], ids[0], ids[1], ids[1], ids[2]])
        XCTAssertEqual(marks.map { $0["kind"] as! String }, ["accept", "flag", "exclude", "exclude", "exclude"])
        XCTAssertEqual(marks.map { $0["value"] as! Bool }, [true, true, true, false, true])
        XCTAssertEqual(marks.map { $0["source"] as! String }, ["toggle", "toggle", "toggle", "undo", "toggle"])
        XCTAssertEqual(marks.map { $0["annotator"] as! String }, ["ann", "bo", "ann", "ann", "cy"])
        XCTAssertEqual(marks.map { $0["note"] is NSNull }, [true, false, true, true, true])
        XCTAssertTrue(marks.allSatisfy { ($0["time"] as? String)?.hasSuffix("Z") == true })
    }

    func testUnwritableDestinationIsAClearError() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: 1)
        let session = try Session.open(dir.appendingPathComponent("s"))
        let file = dir.appendingPathComponent("afile")
        try Data("x".utf8).write(to: file)
        assertOneLineError(try export(session: session, to: file), mentions: [file.path, "is a file"])
    }

    /// An export replaces an earlier export as a whole (none of its files outlive the new manifest),
    /// and refuses a folder holding anything else, which it leaves untouched.
    func testEarlierExportIsReplacedWholeAndOtherFoldersAreRefused() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: 2)
        let session = try Session.open(dir.appendingPathComponent("s"))
        try session.accept(sampleID: try session.samples()[0].id, annotator: "a")
        let out = dir.appendingPathComponent("audit")
        _ = try export(session: session, to: out)
        let first = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        try Data("stale".utf8).write(to: out.appendingPathComponent("99999-stale-image.png"))
        XCTAssertEqual(try export(session: session, to: out), ExportSummary(samples: 1, edits: 0))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), first)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }, [], "no hidden leftovers")

        let other = dir.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: other.appendingPathComponent("todo.txt"))
        assertOneLineError(try export(session: session, to: other), mentions: [other.path, "not empty", "manifest.json"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), ["todo.txt"])

        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertEqual(try export(session: session, to: empty), ExportSummary(samples: 1, edits: 0))
        XCTAssertTrue(FileManager.default.fileExists(atPath: empty.appendingPathComponent("manifest.json").path))
    }

    func testDisplayImageIsRGBAtTheInputSize() throws {
        // Grey [0, 200] at 2×1 to 4×2 with half-pixel centres: x samples 0 (clamped), 0.25, 0.75, 1 (clamped)
        // → 0, 50, 150, 200; both rows read the one source row; grey becomes three equal channels.
        let url = try Fixture.temporaryDirectory().appendingPathComponent("grey.png")
        try ImageIO.writePNG(Image(width: 2, height: 1, channels: 1, pixels: [0, 200]), to: url)
        let image = try loadDisplayImage(url, width: 4, height: 2)
        XCTAssertEqual([image.width, image.height, image.channels], [4, 2, 3])
        let row: [UInt8] = [0, 0, 0, 50, 50, 50, 150, 150, 150, 200, 200, 200]
        XCTAssertEqual(image.pixels, row + row)
    }
}
