import ArgumentParser
import ABN
import HITL
import Foundation

struct ImportMaps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-maps",
        abstract: "Record masks (white = evidence) as edited maps for the session's samples.",
        discussion: """
        For each collected sample with a mask at the same relative path under --masks, records an edit whose \
        map is the mask area-averaged to map resolution, with the prediction under it. --masks may be DATA/masks \
        (the session's split folder inside is used) or DATA/masks/<split> itself. Finding no mask for any sample \
        is an error. Brings in maps drawn in another tool, or lets the dataset's masks play the annotator.
        """)

    @Option(name: .long, help: "Session directory.")
    var session: String

    @Option(name: .long, help: "Directory of masks: DATA/masks (<split>/<class>/<name>.png) or DATA/masks/<split> (<class>/<name>.png).")
    var masks: String

    @Option(name: .long, help: "Annotator name recorded with each edit.")
    var annotator: String = "import"

    @Option(name: .long, help: "Model for the prediction under each map (default: the session's model).")
    var model: String?

    @Flag(name: .long, help: "Accept a model other than the session's, and record the change.")
    var allowModelChange = false

    func run() throws {
        try reportingErrors {
            try requireDirectory(masks, "masks directory")
            let s = try Session.open(URL(fileURLWithPath: session))
            let loaded = try loadSessionModel(s, override: model, allowChange: allowModelChange)
            let whatIf = WhatIf(model: loaded, dataRoot: URL(fileURLWithPath: s.info.dataRoot), split: s.info.split)
            let masksURL = URL(fileURLWithPath: masks)
            let summary = try importMaps(session: s, masks: masksURL, whatIf: whatIf, annotator: annotator)
            var text = "imported \(summary.imported) maps into \(session) from \(masksFolder(masksURL, split: s.info.split).path)"
            if summary.unchanged > 0 { text += "; \(summary.unchanged) already had their mask's map" }
            if summary.withoutMask > 0 { text += "; \(summary.withoutMask) samples have no mask" }
            note(text)
        }
    }
}

/// The session's model, or another one the user names (checked against the session's SHA-256).
func loadSessionModel(_ session: Session, override: String?, allowChange: Bool) throws -> LoadedModel {
    let path = override ?? session.info.modelPath
    try requireFile(path, "model")
    let loaded = try ModelFile.load(contentsOf: URL(fileURLWithPath: path))
    try session.checkModel(path: path, sha256: loaded.sha256, allowChange: allowChange)
    return loaded
}
