import ABN
import ABNData
import Foundation

/// What a session knows about where its samples came from.
public struct SessionInfo: Equatable, Sendable {
    public var modelPath: String
    public var modelSHA256: String
    public var dataRoot: String
    public var split: String
    public var classes: [String]
    public var mapHeight: Int
    public var mapWidth: Int
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int

    public init(modelPath: String, modelSHA256: String, dataRoot: String, split: String, classes: [String],
                mapHeight: Int, mapWidth: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int) {
        self.modelPath = modelPath
        self.modelSHA256 = modelSHA256
        self.dataRoot = dataRoot
        self.split = split
        self.classes = classes
        self.mapHeight = mapHeight
        self.mapWidth = mapWidth
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
    }

    /// Where the split's images are: DATA/<split>.
    public var splitURL: URL { URL(fileURLWithPath: dataRoot).appendingPathComponent(split) }

    /// The image file of a sample: SamplePath refuses names and links that leave the split folder.
    public func sampleURL(_ relativePath: String) throws -> URL { try SamplePath.resolve(relativePath, under: splitURL) }
}

/// A sample as collect stores it.
public struct NewSample: Sendable, Equatable {
    public var relativePath: String
    public var label: Int
    public var probabilities: [Float]
    public var attentionProbabilities: [Float]
    public var originalMap: [Float]

    public init(relativePath: String, label: Int, probabilities: [Float], attentionProbabilities: [Float], originalMap: [Float]) {
        self.relativePath = relativePath
        self.label = label
        self.probabilities = probabilities
        self.attentionProbabilities = attentionProbabilities
        self.originalMap = originalMap
    }
}

/// A stored sample with its current state: the newest edit's map (or the original) and marks.
public struct SessionSample: Sendable, Equatable {
    public var id: Int64
    public var relativePath: String
    public var label: Int
    public var probabilities: [Float]
    public var attentionProbabilities: [Float]
    public var originalMap: [Float]
    public var currentMap: [Float]
    public var editCount: Int
    /// The sample's current marks (its newest marks row of each kind).
    public var marks: SampleMarks
    public var accepted: Bool { marks.accepted }
    public var flagged: Bool { marks.flagged }
    public var excluded: Bool { marks.excluded }
    public var predicted: Int { argmax(probabilities) }
    public var attentionPredicted: Int { argmax(attentionProbabilities) }
    public var edited: Bool { editCount > 0 }
}

/// Where an edit came from (the `source` column). Other strings are accepted for tools to come.
/// What made an edit row, as its `source` column records it (docs/formats.md).
public enum EditSource: String, Sendable, CaseIterable {
    /// Review: one completed brush stroke (a drag, or one dab).
    case stroke
    /// Review: an undo, a redo, a reset to the model's own map (each is a new row: history is append-only).
    case undo, redo, reset
    /// import-maps.
    case `import`
    /// Review rows written before strokes, undos, redos and resets were told apart.
    case review
}

/// An edit to append: the map at map resolution and the perception branch's answer under it.
public struct NewEdit: Sendable, Equatable {
    public var sampleID: Int64
    public var map: [Float]
    public var annotator: String
    public var source: String
    public var whatIfProbabilities: [Float]

    public init(sampleID: Int64, map: [Float], annotator: String, source: String, whatIfProbabilities: [Float]) {
        self.sampleID = sampleID
        self.map = map
        self.annotator = annotator
        self.source = source
        self.whatIfProbabilities = whatIfProbabilities
    }
}

/// One append-only edit row.
public struct EditRecord: Sendable, Equatable {
    public var id: Int64
    public var sampleID: Int64
    public var map: [Float]
    public var annotator: String
    public var createdAt: String
    public var source: String
    public var whatIfProbabilities: [Float]
    public var whatIfPredicted: Int { argmax(whatIfProbabilities) }
}

/// The kinds of mark a reviewer sets on a sample (the marks table's `kind`).
public enum MarkKind: String, Sendable, CaseIterable {
    /// The map is right as it is (its original map becomes its fine-tuning target).
    case accept
    /// Needs another look (with an optional note).
    case flag
    /// Left out of fine-tuning.
    case exclude
}

/// What made a marks row (its `source` column, docs/formats.md).
public enum MarkSource: String, Sendable, CaseIterable {
    /// A key in review (or a command) set or cleared the mark.
    case toggle
    /// Review's undo / redo of a mark change.
    case undo, redo
    /// Copied from the accepts table of a schema-2 session when it was migrated.
    case migrated
}

/// A sample's current marks.
public struct SampleMarks: Equatable, Sendable {
    public var accepted = false
    public var flagged = false
    /// The flag's note; nil when not flagged or flagged without one.
    public var flagNote: String?
    public var excluded = false

    public init(accepted: Bool = false, flagged: Bool = false, flagNote: String? = nil, excluded: Bool = false) {
        self.accepted = accepted
        self.flagged = flagged
        self.flagNote = flagged ? flagNote : nil
        self.excluded = excluded
    }

    /// No mark set: neither accepted, flagged nor excluded.
    public var isEmpty: Bool { self == SampleMarks() }

    /// These marks with one mark set or cleared (a cleared flag drops its note).
    public func setting(_ kind: MarkKind, _ value: Bool, note: String? = nil) -> SampleMarks {
        var m = self
        switch kind {
        case .accept: m.accepted = value
        case .flag: m.flagged = value; m.flagNote = value ? note : nil
        case .exclude: m.excluded = value
        }
        return m
    }

    /// The marks rows that turn `self` into `other` (none when they are equal).
    public func changes(to other: SampleMarks) -> [MarkChange] {
        var c: [MarkChange] = []
        if accepted != other.accepted { c.append(MarkChange(kind: .accept, value: other.accepted)) }
        if flagged != other.flagged || flagNote != other.flagNote { c.append(MarkChange(kind: .flag, value: other.flagged, note: other.flagNote)) }
        if excluded != other.excluded { c.append(MarkChange(kind: .exclude, value: other.excluded)) }
        return c
    }
}

/// One mark set or cleared.
public struct MarkChange: Equatable, Sendable {
    public var kind: MarkKind
    public var value: Bool
    public var note: String?
    public init(kind: MarkKind, value: Bool, note: String? = nil) {
        self.kind = kind
        self.value = value
        self.note = kind == .flag && value ? note : nil
    }
}

/// One append-only marks row: a mark set (value true) or cleared.
public struct MarkRecord: Sendable, Equatable {
    public var id: Int64
    public var sampleID: Int64
    public var kind: MarkKind
    public var value: Bool
    public var note: String?
    public var annotator: String
    public var createdAt: String
    public var source: String
}

/// The newest edit or mark row of a sample: who wrote it and when (review notices another
/// annotator's work by its id).
public struct ActivityRecord: Sendable, Equatable {
    public var id: Int64
    public var annotator: String
    public var createdAt: String
}

public struct SampleActivity: Sendable, Equatable {
    public var edit: ActivityRecord?
    public var mark: ActivityRecord?
}

public struct ModelChangeRecord: Sendable, Equatable {
    public var id: Int64
    public var modelPath: String
    public var modelSHA256: String
    public var createdAt: String
}

/// A fine-tuning (or other) run: parameters and results as JSON text.
public struct RunRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var createdAt: String
    public var parameters: String
    public var results: String
}
