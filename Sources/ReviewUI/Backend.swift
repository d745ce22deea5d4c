// What the review UI needs from the rest of abn-hitl. The session layer implements it over the
// SQLite session and the model's what-if; tests implement it in memory.
import HITL

/// One collected sample as the session stores it.
public struct ReviewSample: Sendable, Equatable {
    /// The session's sample index; every backend call takes this number, not a list position.
    public var index: Int
    public var relativePath: String
    public var label: Int
    /// Perception-branch prediction (the model's decision).
    public var predicted: Int
    public var attentionPredicted: Int
    /// Perception-branch softmax under the model's own map.
    public var probabilities: [Float]
    public var attentionProbabilities: [Float]
    public var originalMap: AttentionMap
    /// The newest stored edit, or the original map.
    public var currentMap: AttentionMap
    public var edited: Bool
    /// The marks stored for it (accept, flag with its note, exclude).
    public var marks: SampleMarks
    public var accepted: Bool {
        get { marks.accepted }
        set { marks.accepted = newValue }
    }

    public init(index: Int, relativePath: String, label: Int, predicted: Int, attentionPredicted: Int,
                probabilities: [Float], attentionProbabilities: [Float], originalMap: AttentionMap,
                currentMap: AttentionMap, edited: Bool, accepted: Bool = false, marks: SampleMarks? = nil) {
        self.index = index
        self.relativePath = relativePath
        self.label = label
        self.predicted = predicted
        self.attentionPredicted = attentionPredicted
        self.probabilities = probabilities
        self.attentionProbabilities = attentionProbabilities
        self.originalMap = originalMap
        self.currentMap = currentMap
        self.edited = edited
        self.marks = marks ?? SampleMarks(accepted: accepted)
    }
}

/// Work another annotator (or another review process) stored on a sample since this review last saw
/// it: who, when, and the sample's stored map and marks now.
public struct OutsideChange: Equatable, Sendable {
    public var annotator: String
    /// When, as "HH:MM" (UTC, as the session stores times).
    public var time: String
    public var currentMap: AttentionMap
    public var marks: SampleMarks

    public init(annotator: String, time: String, currentMap: AttentionMap, marks: SampleMarks) {
        self.annotator = annotator
        self.time = time
        self.currentMap = currentMap
        self.marks = marks
    }
}

/// An RGB image, 8 bits per channel, row-major, interleaved, at the model's input size.
public struct ReviewImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8]) {
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// Positive size and exactly width·height·3 bytes; the renderer draws nothing for anything else.
    public var isWellFormed: Bool {
        width > 0 && height > 0 && width <= 1 << 14 && height <= 1 << 14 && rgb.count == width * height * 3
    }
}

public protocol ReviewBackend: AnyObject {
    var classNames: [String] { get }
    var samples: [ReviewSample] { get }
    /// The sample's image at the model's input size; stroke coordinates are in its pixels.
    func image(for sampleIndex: Int) throws -> ReviewImage
    /// Perception-branch probabilities with `map` in place of the model's attention map.
    func whatIf(sampleIndex: Int, map: AttentionMap) throws -> [Float]
    /// Appends `map` as the sample's newest edit, recording what made it; durable before it returns.
    func commitEdit(sampleIndex: Int, map: AttentionMap, whatIf: [Float], source: EditSource) throws
    /// Sets or clears one of the sample's marks (accept, flag with a note, exclude); durable before it returns.
    func setMark(sampleIndex: Int, change: MarkChange, source: MarkSource) throws
    /// What others stored on the sample since this review last saw it (nil: nothing); asked before
    /// each edit or mark change, so a stroke lands on their newer map instead of replacing it.
    func latestActivity(sampleIndex: Int) throws -> OutsideChange?
    /// The class activation map the `c` key shows ("gradcam", "gradcam++", "cam"), nil if none.
    var classMapName: String? { get }
    /// That map for the sample, normalised to [0, 1] at the attention map's size (read-only).
    func classMap(for sampleIndex: Int) throws -> AttentionMap
}

/// Backends without a class activation map (the tests' in-memory ones unless they give one).
public extension ReviewBackend {
    var classMapName: String? { nil }
    func latestActivity(sampleIndex: Int) throws -> OutsideChange? { nil }
    func classMap(for sampleIndex: Int) throws -> AttentionMap {
        throw ReviewBackendError(description: "this backend has no class activation map")
    }
}

public struct ReviewBackendError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
