import ABN
import ABNData
import Foundation
import HITL

/// The review UI over a real session: samples and edits from SQLite, images from the dataset,
/// what-if from the model. Every commit is durable before it returns (one SQLite transaction).
public final class SessionReviewBackend: ReviewBackend {
    public let session: Session
    private let whatIfModel: WhatIf
    private let annotator: String
    private var stored: [SessionSample]
    /// Per sample, the newest edit and marks row ids this review has seen (its own writes, or what
    /// it reloaded); below `loaded`, everything was there when the review loaded.
    private var seen: [Int64: (edit: Int64, mark: Int64)] = [:]
    private let loaded: (edit: Int64, mark: Int64)
    public private(set) var samples: [ReviewSample]
    public var classNames: [String] { session.info.classes }
    /// What the `c` key shows (cam, gradcam or gradcam++; not abn).
    public let classMapMethod: ExplanationMethod
    public var classMapName: String? { classMapMethod.rawValue }

    public init(session: Session, model: LoadedModel, annotator: String, classMapMethod: ExplanationMethod = .gradcam) throws {
        guard classMapMethod != .abn else { throw SessionError(session.directory.path, "the class map to show must be cam, gradcam or gradcam++") }
        self.session = session
        self.annotator = annotator
        self.classMapMethod = classMapMethod
        let info = session.info
        whatIfModel = WhatIf(model: model, dataRoot: URL(fileURLWithPath: info.dataRoot), split: info.split)
        // Read before the samples: a row written in between is then taken for another's (a harmless reload).
        loaded = try session.newestRowIDs()
        stored = try session.samples()
        samples = []
        samples = stored.map(reviewSample)
    }

    private func reviewSample(_ s: SessionSample) -> ReviewSample {
        let info = session.info
        return ReviewSample(index: Int(s.id), relativePath: s.relativePath, label: s.label, predicted: s.predicted,
                            attentionPredicted: s.attentionPredicted, probabilities: s.probabilities,
                            attentionProbabilities: s.attentionProbabilities,
                            originalMap: AttentionMap(height: info.mapHeight, width: info.mapWidth, values: s.originalMap),
                            currentMap: AttentionMap(height: info.mapHeight, width: info.mapWidth, values: s.currentMap),
                            edited: s.edited, marks: s.marks)
    }

    private func stored(_ index: Int) throws -> SessionSample {
        guard let s = stored.first(where: { $0.id == Int64(index) }) else {
            throw SessionError(session.directory.path, "no sample \(index) in this session")
        }
        return s
    }

    public func image(for sampleIndex: Int) throws -> ReviewImage {
        let s = try stored(sampleIndex)
        let info = session.info
        let image = try loadDisplayImage(try info.sampleURL(s.relativePath), width: info.inputWidth, height: info.inputHeight)
        return ReviewImage(width: image.width, height: image.height, rgb: image.pixels)
    }

    public func whatIf(sampleIndex: Int, map: AttentionMap) throws -> [Float] {
        try whatIfModel.probabilities(relativePath: try stored(sampleIndex).relativePath, map: map.values)
    }

    /// As `explain --method` computes it: the model's own forward (its own attention map), for the
    /// perception branch's prediction, normalised and resampled to the attention map's size.
    public func classMap(for sampleIndex: Int) throws -> AttentionMap {
        let info = session.info
        let input = try whatIfModel.input(relativePath: try stored(sampleIndex).relativePath)
        let e = try explain(whatIfModel.model.model, input: input.data, methods: [classMapMethod])
        guard let map = e.classMaps.first else { throw SessionError(session.directory.path, "no \(classMapMethod.rawValue) map") }
        return AttentionMap(height: info.mapHeight, width: info.mapWidth,
                            values: map.resampled(toHeight: info.mapHeight, toWidth: info.mapWidth))
    }

    public func commitEdit(sampleIndex: Int, map: AttentionMap, whatIf: [Float], source: EditSource) throws {
        let id = try session.appendEdit(sampleID: Int64(sampleIndex), map: map.values, annotator: annotator, source: source.rawValue, whatIf: whatIf)
        seen[Int64(sampleIndex), default: loaded].edit = id
        refresh(sampleIndex)
    }

    public func setMark(sampleIndex: Int, change: MarkChange, source: MarkSource) throws {
        let id = try session.setMark(sampleID: Int64(sampleIndex), kind: change.kind, value: change.value, note: change.note,
                                     annotator: annotator, source: source)
        seen[Int64(sampleIndex), default: loaded].mark = id
        refresh(sampleIndex)
    }

    /// Rows on the sample newer than any this review has seen were written by another annotator or
    /// process: reports the newest of them with the sample's stored map and marks, once.
    public func latestActivity(sampleIndex: Int) throws -> OutsideChange? {
        let id = Int64(sampleIndex)
        let known = seen[id] ?? loaded
        let latest = try session.latestActivity(sampleID: id)
        let newer = [latest.edit.flatMap { $0.id > known.edit ? $0 : nil }, latest.mark.flatMap { $0.id > known.mark ? $0 : nil }]
            .compactMap { $0 }
        guard let newest = newer.max(by: { $0.createdAt < $1.createdAt }) else { return nil }
        seen[id] = (latest.edit?.id ?? known.edit, latest.mark?.id ?? known.mark)
        refresh(sampleIndex)
        let s = try stored(sampleIndex)
        let info = session.info
        // "2026-12-06T18:42:05.123Z" → "18:42" (UTC, as stored).
        let time = newest.createdAt.count >= 16 ? String(newest.createdAt.dropFirst(11).prefix(5)) : newest.createdAt
        return OutsideChange(annotator: newest.annotator, time: time,
                             currentMap: AttentionMap(height: info.mapHeight, width: info.mapWidth, values: s.currentMap), marks: s.marks)
    }

    private func refresh(_ index: Int) {
        guard let i = stored.firstIndex(where: { $0.id == Int64(index) }), let fresh = try? session.samples() else { return }
        stored = fresh
        samples[i] = reviewSample(stored[i])
    }
}
