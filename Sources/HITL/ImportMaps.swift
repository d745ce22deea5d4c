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

/// For each collected sample with a mask at the same relative path under `masks` (the layout of
/// DATA/masks/<split>/, i.e. <masks>/<class>/<name>.png), records an edit (source "import") whose map
/// is the mask, loaded at the model's input size, area-averaged to map resolution, with the what-if
/// prediction under it. All masks are read and checked first and the edits are written in one
/// transaction: a bad mask (unreadable, or not the size of its image) is a one-line error naming it,
/// and the session is left exactly as it was.
public func importMaps(session: Session, masks: URL, whatIf: WhatIf, annotator: String = "import") throws -> ImportSummary {
    let info = session.info
    var edits: [NewEdit] = []
    var missing = 0, unchanged = 0
    for sample in try session.samples() {
        guard let maskURL = maskFile(for: sample.relativePath, under: masks) else {
            missing += 1
            continue
        }
        let imageURL = info.splitURL.appendingPathComponent(sample.relativePath)
        let imageInfo = try ImageIO.info(fileAt: imageURL)
        let maskInfo = try ImageIO.info(fileAt: maskURL)
        guard imageInfo.width == maskInfo.width, imageInfo.height == maskInfo.height else {
            throw SessionError(maskURL.path, "mask is \(maskInfo.width)×\(maskInfo.height) but its image \(sample.relativePath) is \(imageInfo.width)×\(imageInfo.height); nothing imported")
        }
        let mask = try loadMask(maskURL, height: info.inputHeight, width: info.inputWidth)
        let map = MapResampling.areaAverage(mask, height: info.inputHeight, width: info.inputWidth,
                                            toHeight: info.mapHeight, toWidth: info.mapWidth)
        if sample.edited && sample.currentMap == map {
            unchanged += 1
            continue
        }
        let probabilities = try whatIf.probabilities(relativePath: sample.relativePath, map: map)
        edits.append(NewEdit(sampleID: sample.id, map: map, annotator: annotator, source: EditSource.import,
                             whatIfProbabilities: probabilities))
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
