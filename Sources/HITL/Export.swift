import ABN
import ABNData
import Foundation

public struct ExportSummary: Sendable, Equatable {
    public var samples: Int
    public var edits: Int
}

/// Writes, for every edited or marked (accepted, flagged, excluded) sample, the image (at the model's input size), the original
/// and current maps (bilinearly upsampled to the image and jet-coloured), the current map blended over
/// the image and the difference current − original, all enlarged by nearest neighbour to about 256 px
/// (8× for 32×32) as PNG; plus edits.csv (every edit, the whole history) and manifest.json
/// (provenance). The same session gives byte-identical files: sorted keys, shortest round-trip
/// float text, and nothing that depends on the time or place of the export. Formats:
/// docs/formats.md.
public func export(session: Session, to destination: URL) throws -> ExportSummary {
    // Everything is read (and validated) before anything is written: a damaged session leaves no export behind.
    let samples = try session.samples()
    let edits = try session.edits()
    let marks = try session.marks()
    // Built in a hidden sibling and renamed into place: a kill leaves the earlier export or the whole new one.
    let refusal = "the destination folder is not empty and is not an earlier export (no manifest.json); give a new or empty folder"
    return try AtomicDirectory.build(destination, replaceable: isEmptyOrEarlierExport, refusal: refusal) { out in
        try writeExport(session: session, samples: samples, edits: edits, marks: marks, to: out)
    }
}

/// A folder export may replace: empty, or holding a manifest.json (an earlier export; its files are
/// replaced as a whole, so none of its pictures outlive the new manifest).
private func isEmptyOrEarlierExport(_ url: URL) -> Bool {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return false }
    return names.isEmpty || names.contains("manifest.json")
}

private func writeExport(session: Session, samples: [SessionSample], edits: [EditRecord], marks: [MarkRecord],
                         to out: URL) throws -> ExportSummary {
    let info = session.info
    let byID = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
    let scale = max(1, 256 / max(info.inputHeight, info.inputWidth))
    var manifestSamples: [ManifestSample] = []
    for sample in samples where sample.edited || !sample.marks.isEmpty {
        let stem = "\(String(format: "%05d", sample.id))-" + sample.relativePath.replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: ".", with: "_")
        let image = try loadDisplayImage(try info.sampleURL(sample.relativePath), width: info.inputWidth, height: info.inputHeight)
        let (h, w, H, W) = (info.mapHeight, info.mapWidth, info.inputHeight, info.inputWidth)
        let files = ManifestFiles(image: stem + "-image.png", original_map: stem + "-original.png", edited_map: stem + "-edited.png",
                                  blend: stem + "-blend.png", difference: stem + "-difference.png")
        try ImageIO.writePNG(MapPictures.enlarged(image, by: scale), to: out.appendingPathComponent(files.image))
        try ImageIO.writePNG(MapPictures.enlarged(MapPictures.colored(sample.originalMap, height: h, width: w, toHeight: H, toWidth: W), by: scale),
                             to: out.appendingPathComponent(files.original_map))
        try ImageIO.writePNG(MapPictures.enlarged(MapPictures.colored(sample.currentMap, height: h, width: w, toHeight: H, toWidth: W), by: scale),
                             to: out.appendingPathComponent(files.edited_map))
        try ImageIO.writePNG(MapPictures.enlarged(MapPictures.blend(image: image, map: sample.currentMap, height: h, width: w), by: scale),
                             to: out.appendingPathComponent(files.blend))
        try ImageIO.writePNG(MapPictures.enlarged(MapPictures.difference(original: sample.originalMap, edited: sample.currentMap,
                                                                         height: h, width: w, toHeight: H, toWidth: W), by: scale),
                             to: out.appendingPathComponent(files.difference))
        let history = edits.filter { $0.sampleID == sample.id }
        let under = history.last?.whatIfProbabilities ?? sample.probabilities
        manifestSamples.append(ManifestSample(
            sample_id: sample.id, relative_path: sample.relativePath, label: info.classes[sample.label],
            predicted: info.classes[sample.predicted], probabilities: sample.probabilities,
            attention_predicted: info.classes[sample.attentionPredicted],
            predicted_under_edit: info.classes[argmax(under)], probabilities_under_edit: under,
            accepted: sample.accepted, flagged: sample.flagged, flag_note: Nullable(sample.marks.flagNote), excluded: sample.excluded,
            edits: history.map { ManifestEdit(edit_id: $0.id, annotator: $0.annotator, time: $0.createdAt, source: $0.source,
                                              predicted_under_edit: info.classes[$0.whatIfPredicted]) },
            files: files))
    }
    var csv = "edit_id,sample_id,relative_path,label,annotator,time,source,predicted_under_edit,probability_under_edit,map\n"
    for e in edits {
        guard let s = byID[e.sampleID] else { continue }
        let p = argmax(e.whatIfProbabilities)
        // Floats as Swift's shortest text that reads back to the same Float32: lossless and stable.
        csv += [String(e.id), String(e.sampleID), csvField(s.relativePath), csvField(info.classes[s.label]), csvField(e.annotator),
                e.createdAt, csvField(e.source), csvField(info.classes[p]), "\(e.whatIfProbabilities[p])",
                e.map.map { "\($0)" }.joined(separator: " ")].joined(separator: ",") + "\n"
    }
    try AtomicFile.write(Array(csv.utf8), to: out.appendingPathComponent("edits.csv"))
    let manifest = Manifest(session: session.directory.standardizedFileURL.path, model_path: info.modelPath, model_sha256: info.modelSHA256,
                            dataset: info.dataRoot, split: info.split, classes: info.classes, map_size: [info.mapHeight, info.mapWidth],
                            marks: marks.map { ManifestMark(mark_id: $0.id, sample_id: $0.sampleID, kind: $0.kind.rawValue, value: $0.value,
                                                            note: Nullable($0.note), annotator: $0.annotator, time: $0.createdAt, source: $0.source) },
                            samples: manifestSamples)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    try AtomicFile.write(Array(try encoder.encode(manifest)) + [0x0A], to: out.appendingPathComponent("manifest.json"))
    return ExportSummary(samples: manifestSamples.count, edits: edits.count)
}

private func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

struct Manifest: Encodable {
    var session: String
    var model_path: String
    var model_sha256: String
    var dataset: String
    var split: String
    var classes: [String]
    var map_size: [Int]
    var marks: [ManifestMark]
    var samples: [ManifestSample]
}

struct ManifestMark: Encodable {
    var mark_id: Int64; var sample_id: Int64; var kind: String; var value: Bool; var note: Nullable
    var annotator: String; var time: String; var source: String
}
/// Text or JSON null, always written (JSONEncoder leaves a nil optional out): every manifest has the same keys.
struct Nullable: Encodable {
    var text: String?
    init(_ text: String?) { self.text = text }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let text { try c.encode(text) } else { try c.encodeNil() }
    }
}
struct ManifestEdit: Encodable { var edit_id: Int64; var annotator: String; var time: String; var source: String; var predicted_under_edit: String }
struct ManifestFiles: Encodable { var image, original_map, edited_map, blend, difference: String }
struct ManifestSample: Encodable {
    var sample_id: Int64
    var relative_path: String
    var label: String
    var predicted: String
    var probabilities: [Float]
    var attention_predicted: String
    var predicted_under_edit: String
    var probabilities_under_edit: [Float]
    var accepted: Bool
    var flagged: Bool
    var flag_note: Nullable
    var excluded: Bool
    var edits: [ManifestEdit]
    var files: ManifestFiles
}
