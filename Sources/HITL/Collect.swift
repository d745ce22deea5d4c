import ABN
import ABNData
import Foundation

public enum CollectSelection: String, CaseIterable, Sendable {
    /// The samples the perception branch gets wrong, most confident mistakes first.
    case misclassified
    /// Every sample: mistakes first (most confident first), then correct ones, least confident first.
    case all
}

public struct CollectSummary: Sendable, Equatable {
    public var scanned: Int
    public var selected: Int
    public var added: Int
    public var accuracy: Double
}

/// Runs the model over DATA/<split> (evaluation mode, batches of inferenceBatchSize) and stores the selected samples
/// in the session at `directory` (created if missing). See the folder variant.
public func collect(model: LoadedModel, dataRoot: URL, split: String, session directory: URL, selection: CollectSelection = .misclassified,
                    limit: Int? = nil, allowModelChange: Bool = false, progress: ProgressHandler? = nil) throws -> CollectSummary {
    let folder = try ImageFolder(root: dataRoot, split: split)
    return try collect(model: model, folder: folder, session: directory, selection: selection, limit: limit,
                       allowModelChange: allowModelChange, progress: progress)
}

/// Runs the model over a split (evaluation mode) and stores the selected samples with both
/// branches' probabilities and the original map. Samples already in the session (by relative path)
/// are not added twice; `limit` keeps the first N of the order, before that check.
public func collect(model: LoadedModel, folder: ImageFolder, session directory: URL, selection: CollectSelection,
                    limit: Int?, allowModelChange: Bool = false, progress: ProgressHandler? = nil) throws -> CollectSummary {
    let m = model.metadata
    guard folder.classes == m.classes else {
        throw SessionError(folder.splitURL.path, "classes \(folder.classes) differ from the model's \(m.classes) (\(model.url.path))")
    }
    let info = SessionInfo(modelPath: model.url.standardizedFileURL.path, modelSHA256: model.sha256,
                           dataRoot: folder.root.standardizedFileURL.path,
                           split: folder.split, classes: m.classes, mapHeight: model.model.mapHeight,
                           mapWidth: model.model.mapWidth, inputChannels: m.inputChannels, inputHeight: m.inputHeight,
                           inputWidth: m.inputWidth)
    let session = try Session.openOrCreate(directory, info: info)
    guard session.info.classes == m.classes, session.info.mapHeight == info.mapHeight, session.info.mapWidth == info.mapWidth else {
        throw SessionError(directory.path, "this session holds samples of another model (classes \(session.info.classes), map \(session.info.mapHeight)×\(session.info.mapWidth))")
    }
    // Paths compare as absolute, standardised paths: the same folder may be named relatively.
    guard session.info.split == folder.split,
          URL(fileURLWithPath: session.info.dataRoot).standardizedFileURL.path == folder.root.standardizedFileURL.path else {
        throw SessionError(directory.path, "this session was collected from \(session.info.dataRoot) split \(session.info.split), not \(folder.root.path) split \(folder.split)")
    }
    try session.checkModel(path: model.url.standardizedFileURL.path, sha256: model.sha256, allowChange: allowModelChange)
    var candidates: [(NewSample, wrong: Bool, confidence: Float)] = []
    var correct = 0, scanned = 0
    try predictAll(model: model, folder: folder, progress: progress, label: "collect \(folder.split)") { predictions in
        for p in predictions {
            let sample = folder.samples[p.sampleIndex]
            scanned += 1
            let wrong = p.predicted != sample.label
            if !wrong { correct += 1 }
            guard wrong || selection == .all else { continue }
            // Mistakes sort by the probability given to the wrong answer; correct ones by the true class's.
            let confidence = wrong ? p.probabilities[p.predicted] : p.probabilities[sample.label]
            candidates.append((NewSample(relativePath: sample.relativePath, label: sample.label, probabilities: p.probabilities,
                                         attentionProbabilities: p.attentionProbabilities, originalMap: p.map), wrong, confidence))
        }
    }
    candidates.sort { a, b in
        if a.wrong != b.wrong { return a.wrong }
        if a.confidence != b.confidence { return a.wrong ? a.confidence > b.confidence : a.confidence < b.confidence }
        return a.0.relativePath < b.0.relativePath
    }
    if let limit { candidates = Array(candidates.prefix(max(0, limit))) }
    let added = try session.addSamples(candidates.map(\.0))
    return CollectSummary(scanned: scanned, selected: candidates.count, added: added,
                          accuracy: scanned > 0 ? Double(correct) / Double(scanned) : 0)
}
