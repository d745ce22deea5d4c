// Undo/redo for one sample's map during a review. Every step is a whole map (maps are small:
// 256 or 196 floats), which keeps undo exact and lets the session layer store each resulting map as
// a new append-only edit: an undo in the UI becomes a new edit whose map is the previous one.

public struct EditHistory: Equatable, Sendable {
    /// The model's own map; `reset` returns to it.
    public let original: AttentionMap
    /// Maps in the order they became current; `steps[position]` is the current one. The first is
    /// the map the review started from (the sample's newest stored edit, or the original).
    public private(set) var steps: [AttentionMap]
    public private(set) var position: Int

    public init(original: AttentionMap, current: AttentionMap? = nil) {
        self.original = original
        self.steps = [current ?? original]
        self.position = 0
    }

    public var current: AttentionMap { steps[position] }
    public var canUndo: Bool { position > 0 }
    public var canRedo: Bool { position + 1 < steps.count }
    /// True when the current map differs from the model's map.
    public var isEdited: Bool { current != original }

    /// Makes `map` current as a new step and drops any redo steps. Returns the new current map, or
    /// nil (and changes nothing) when `map` equals the current map, so a no-op never becomes an edit.
    @discardableResult
    public mutating func commit(_ map: AttentionMap) -> AttentionMap? {
        guard map != current else { return nil }
        steps.removeSubrange((position + 1)...)
        steps.append(map)
        position += 1
        return map
    }

    /// Applies a brush stroke as one undoable step; returns the new current map or nil when the
    /// stroke changed nothing (e.g. it lay outside the image).
    @discardableResult
    public mutating func apply(_ stroke: BrushStroke, imageWidth: Int, imageHeight: Int) -> AttentionMap? {
        commit(applyStroke(stroke, to: current, imageWidth: imageWidth, imageHeight: imageHeight))
    }

    /// Steps back one stroke; returns the new current map or nil when there is nothing to undo.
    @discardableResult
    public mutating func undo() -> AttentionMap? {
        guard canUndo else { return nil }
        position -= 1
        return current
    }

    /// Steps forward one stroke; returns the new current map or nil when there is nothing to redo.
    @discardableResult
    public mutating func redo() -> AttentionMap? {
        guard canRedo else { return nil }
        position += 1
        return current
    }

    /// Returns to the model's map as a new, undoable step; nil when the map already is the original.
    @discardableResult
    public mutating func reset() -> AttentionMap? {
        commit(original)
    }
}
