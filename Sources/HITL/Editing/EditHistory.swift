// Undo/redo for one sample during a review: its map and its marks (accept, flag, exclude). Every
// step is a whole map with the marks (maps are small: 256 or 196 floats), which keeps undo exact and
// lets the session layer store each result as new append-only rows: an undo in the UI becomes a new
// edit (or marks row) whose value is the previous one. Strokes and mark changes share one order.

/// What one step of a sample's history holds.
public struct EditStep: Equatable, Sendable {
    public var map: AttentionMap
    public var marks: SampleMarks
    public init(map: AttentionMap, marks: SampleMarks) {
        self.map = map
        self.marks = marks
    }
}

public struct EditHistory: Equatable, Sendable {
    /// The model's own map; `reset` returns to it.
    public let original: AttentionMap
    /// Steps in the order they became current; `states[position]` is the current one. The first is
    /// where the review started (the sample's newest stored edit, or the original, and its marks).
    public private(set) var states: [EditStep]
    public private(set) var position: Int

    public init(original: AttentionMap, current: AttentionMap? = nil, marks: SampleMarks = SampleMarks()) {
        self.original = original
        self.states = [EditStep(map: current ?? original, marks: marks)]
        self.position = 0
    }

    /// The maps of the steps, in order.
    public var steps: [AttentionMap] { states.map(\.map) }
    public var current: AttentionMap { states[position].map }
    public var marks: SampleMarks { states[position].marks }
    public var canUndo: Bool { position > 0 }
    public var canRedo: Bool { position + 1 < states.count }
    /// True when the current map differs from the model's map.
    public var isEdited: Bool { current != original }

    /// Makes `step` current as a new step and drops any redo steps; false (and no change) when it
    /// equals the current step, so a no-op never becomes an edit.
    private mutating func push(_ step: EditStep) -> Bool {
        guard step != states[position] else { return false }
        states.removeSubrange((position + 1)...)
        states.append(step)
        position += 1
        return true
    }

    /// Makes `map` current as a new step (marks unchanged). Returns the new current map, or nil when
    /// `map` equals the current map.
    @discardableResult
    public mutating func commit(_ map: AttentionMap) -> AttentionMap? {
        push(EditStep(map: map, marks: marks)) ? map : nil
    }

    /// Makes `marks` current as a new step (map unchanged); nil when they are the current marks.
    @discardableResult
    public mutating func setMarks(_ marks: SampleMarks) -> SampleMarks? {
        push(EditStep(map: current, marks: marks)) ? marks : nil
    }

    /// Applies a brush stroke as one undoable step; returns the new current map or nil when the
    /// stroke changed nothing (e.g. it lay outside the image).
    @discardableResult
    public mutating func apply(_ stroke: BrushStroke, imageWidth: Int, imageHeight: Int) -> AttentionMap? {
        commit(applyStroke(stroke, to: current, imageWidth: imageWidth, imageHeight: imageHeight))
    }

    /// Steps back one step; returns the step left and the one now current, nil when there is nothing to undo.
    public mutating func stepBack() -> (from: EditStep, to: EditStep)? {
        guard canUndo else { return nil }
        position -= 1
        return (states[position + 1], states[position])
    }

    /// Steps forward one step; returns the step left and the one now current, nil when there is nothing to redo.
    public mutating func stepForward() -> (from: EditStep, to: EditStep)? {
        guard canRedo else { return nil }
        position += 1
        return (states[position - 1], states[position])
    }

    /// `stepBack` as the map it makes current.
    @discardableResult
    public mutating func undo() -> AttentionMap? { stepBack()?.to.map }

    /// `stepForward` as the map it makes current.
    @discardableResult
    public mutating func redo() -> AttentionMap? { stepForward()?.to.map }

    /// Returns to the model's map as a new, undoable step; nil when the map already is the original.
    @discardableResult
    public mutating func reset() -> AttentionMap? {
        commit(original)
    }
}
