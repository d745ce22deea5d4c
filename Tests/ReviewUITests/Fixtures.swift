import HITL
@testable import ReviewUI

/// An in-memory backend that records every call, for reducer/driver tests and the terminal host.
final class MemoryBackend: ReviewBackend {
    let classNames: [String]
    var samples: [ReviewSample]
    var images: [Int: ReviewImage]
    private(set) var commits: [(sampleIndex: Int, map: AttentionMap, whatIf: [Float])] = []
    /// What made each commit, parallel to `commits`.
    private(set) var sources: [EditSource] = []
    private(set) var marks: [(sampleIndex: Int, change: MarkChange, source: MarkSource)] = []
    /// The samples accepted, in order.
    var accepted: [Int] { marks.filter { $0.change.kind == .accept && $0.change.value }.map(\.sampleIndex) }
    /// What another annotator stored, reported once per sample by latestActivity (then seen).
    var outsideChanges: [Int: OutsideChange] = [:]
    private(set) var activityQueries: [Int] = []
    private(set) var whatIfCalls = 0
    var failCommits = false

    init(classNames: [String], samples: [ReviewSample], images: [Int: ReviewImage]) {
        self.classNames = classNames
        self.samples = samples
        self.images = images
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    func image(for sampleIndex: Int) throws -> ReviewImage {
        guard let image = images[sampleIndex] else { throw Failure(description: "no image \(sampleIndex)") }
        return image
    }

    /// A deterministic stand-in for the model: class 0's score is the map's mean.
    func whatIf(sampleIndex: Int, map: AttentionMap) throws -> [Float] {
        whatIfCalls += 1
        let mean = map.values.reduce(0, +) / Float(max(1, map.values.count))
        let k = max(1, classNames.count)
        return (0..<k).map { $0 == 0 ? mean : (1 - mean) / Float(max(1, k - 1)) }
    }

    func commitEdit(sampleIndex: Int, map: AttentionMap, whatIf: [Float], source: EditSource) throws {
        if failCommits { throw Failure(description: "disk full") }
        commits.append((sampleIndex, map, whatIf))
        sources.append(source)
    }

    func setMark(sampleIndex: Int, change: MarkChange, source: MarkSource) throws {
        if failCommits { throw Failure(description: "disk full") }
        marks.append((sampleIndex, change, source))
    }

    func latestActivity(sampleIndex: Int) throws -> OutsideChange? {
        activityQueries.append(sampleIndex)
        defer { outsideChanges[sampleIndex] = nil }
        return outsideChanges[sampleIndex]
    }

    /// nil: no class activation map (the protocol's default); else classMap gives a map whose every
    /// cell is the sample index / 10, so tests see which sample's map is shown.
    var classMapName: String?
    private(set) var classMapCalls: [Int] = []
    func classMap(for sampleIndex: Int) throws -> AttentionMap {
        guard classMapName != nil else { throw Failure(description: "no class map") }
        classMapCalls.append(sampleIndex)
        return AttentionMap(height: 2, width: 2, fill: Float(sampleIndex) / 10)
    }
}

enum Fixture {
    static let classes = ["cat", "dog", "ship"]

    /// A w×h image whose pixel (x, y) is (200, 100, 50) at (0,0) and varies per pixel otherwise.
    static func image(width: Int, height: Int) -> ReviewImage {
        var rgb: [UInt8] = []
        for y in 0..<height { for x in 0..<width { rgb += [UInt8((200 + 10 * x) % 256), UInt8((100 + 20 * y) % 256), 50] } }
        return ReviewImage(width: width, height: height, rgb: rgb)
    }

    static func sample(index: Int, label: Int = 0, predicted: Int = 1, map: AttentionMap,
                       probabilities: [Float] = [0.2, 0.71, 0.09]) -> ReviewSample {
        ReviewSample(index: index, relativePath: "train/\(classes[label])/img\(index).png", label: label,
                     predicted: predicted, attentionPredicted: 2, probabilities: probabilities,
                     attentionProbabilities: [0.1, 0.3, 0.6], originalMap: map, currentMap: map,
                     edited: false, accepted: false)
    }

    /// Three samples with 2×2 maps over 4×4 images (cells of 2×2 pixels).
    static func backend(mapValue: Float = 0) -> MemoryBackend {
        let map = AttentionMap(height: 2, width: 2, fill: mapValue)
        let samples = [7, 8, 9].map { sample(index: $0, map: map) }
        return MemoryBackend(classNames: classes, samples: samples,
                             images: [7: image(width: 4, height: 4), 8: image(width: 4, height: 4), 9: image(width: 4, height: 4)])
    }

    /// A state as the app has it after start-up on `backend` (first image loaded).
    static func state(_ backend: MemoryBackend) -> ReviewState {
        ReviewDriver(backend: backend, annotator: "tester").state
    }
}
