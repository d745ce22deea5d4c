import ABN
import ABNData
import Foundation

public struct ImportSummary: Sendable, Equatable {
    /// Edits recorded.
    public var imported: Int
    /// Samples with no mask under the masks directory.
    public var withoutMask: Int
    /// Samples whose current map already is the mask's map (a repeated import adds nothing).
    public var unchanged: Int
}

/// The folder the masks are read from: `<masks>/<split>` when that is a directory (`masks` is
/// DATA/masks), else `masks` itself (it is DATA/masks/<split>).
public func masksFolder(_ masks: URL, split: String) -> URL {
    var isDirectory: ObjCBool = false
    let inside = masks.appendingPathComponent(split)
    if FileManager.default.fileExists(atPath: inside.path, isDirectory: &isDirectory), isDirectory.boolValue { return inside }
    return masks
}

/// For each collected sample with a mask at the same relative path under the masks folder
/// (`masksFolder(masks, split:)`: `masks` may be DATA/masks, holding <split>/<class>/<name>.png, or
/// DATA/masks/<split>, holding <class>/<name>.png), records an edit (source "import") whose map is the
/// mask, loaded at the model's input size, area-averaged to map resolution, with the what-if
/// prediction under it. All masks are read and checked first and the edits are written in one
/// transaction: a bad mask (unreadable, or not the size of its image) is a one-line error naming it,
/// and the session is left exactly as it was. So is finding no mask for any sample (a wrong folder):
/// a one-line error naming the folder, the layouts expected and the count.
public func importMaps(session: Session, masks: URL, whatIf: WhatIf, annotator: String = "import") throws -> ImportSummary {
    let info = session.info
    let folder = masksFolder(masks, split: info.split)
    if folder.standardizedFileURL.resolvingSymlinksInPath().path == info.splitURL.standardizedFileURL.resolvingSymlinksInPath().path {
        throw SessionError(folder.path, "this is the session's image folder, not a masks folder (use DATA/masks or DATA/masks/\(info.split)); nothing imported")
    }
    var edits: [NewEdit] = []
    var missing = 0, unchanged = 0
    let samples = try session.samples()
    for sample in samples {
        guard let maskURL = maskFile(for: sample.relativePath, under: folder) else {
            missing += 1
            continue
        }
        let imageURL = try info.sampleURL(sample.relativePath)
        let imageInfo = try ImageIO.info(fileAt: imageURL)
        let maskInfo = try ImageIO.info(fileAt: maskURL)
        guard imageInfo.width == maskInfo.width, imageInfo.height == maskInfo.height else {
            throw SessionError(maskURL.path, "mask is \(maskInfo.width)×\(maskInfo.height) but its image \(sample.relativePath) is \(imageInfo.width)×\(imageInfo.height); nothing imported")
        }
        let map = try loadMapMask(maskURL, inputHeight: info.inputHeight, inputWidth: info.inputWidth,
                                  mapHeight: info.mapHeight, mapWidth: info.mapWidth)
        if sample.edited && sample.currentMap == map {
            unchanged += 1
            continue
        }
        let probabilities = try whatIf.probabilities(relativePath: sample.relativePath, map: map)
        edits.append(NewEdit(sampleID: sample.id, map: map, annotator: annotator, source: EditSource.import.rawValue,
                             whatIfProbabilities: probabilities))
    }
    if missing > 0 && edits.isEmpty && unchanged == 0 {
        let example = samples.first.map { " (e.g. " + folder.appendingPathComponent(($0.relativePath as NSString).deletingPathExtension).path + ".png)" } ?? ""
        throw SessionError(folder.path, "no mask found for any of the \(missing) samples\(example); expected <masks>/<class>/<name>.png or <masks>/\(info.split)/<class>/<name>.png; nothing imported")
    }
    try session.appendEdits(edits)
    return ImportSummary(imported: edits.count, withoutMask: missing, unchanged: unchanged)
}

/// <masks>/<class>/<name>.<ext>: the image's relative path with any image extension.
func maskFile(for relativePath: String, under masks: URL) -> URL? {
    let stem = (relativePath as NSString).deletingPathExtension
    return ["png", "PNG", "jpg", "jpeg", "JPG", "JPEG"].lazy
        .map { masks.appendingPathComponent(stem + "." + $0) }
        .first { FileManager.default.fileExists(atPath: $0.path) }
}
