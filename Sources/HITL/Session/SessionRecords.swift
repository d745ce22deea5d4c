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
    public var accepted: Bool
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

public struct AcceptRecord: Sendable, Equatable {
    public var id: Int64
    public var sampleID: Int64
    public var annotator: String
    public var createdAt: String
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
