// The whole review UI as a value: what is selected, the brush, each sample's edit history, and what
// is still unsaved. Only `reduce` (Reduce.swift) changes it; the renderer only reads it.
import HITL

/// The perception branch's probabilities under one particular map (the result of HITL's WhatIf, kept per sample).
public struct EditedPrediction: Equatable, Sendable {
    public var map: AttentionMap
    public var probabilities: [Float]
}

public struct ReviewState: Equatable, Sendable {
    public var classNames: [String]
    public var samples: [ReviewSample]
    /// One history per sample, parallel to `samples`.
    public var histories: [EditHistory]
    /// Position in `samples` (not the session index).
    public var selected: Int = 0
    public var focus: ReviewFocus = .list
    public var tool: BrushTool = .paint
    /// Brush radius in image pixels; one of `BrushRadius.steps`.
    public var radius: Double = 2
    var radiusChosen = false
    /// Brush centre in image pixel coordinates.
    public var cursor = BrushPoint(x: 0, y: 0)
    public var view: CanvasView = .blend
    /// The backend's class activation map ("gradcam", …), nil when it has none; `c` shows it
    /// instead of the attention map, read-only.
    public var classMapName: String?
    public var showClassMap = false
    /// Class activation maps by position, once computed.
    public var classMaps: [Int: AttentionMap] = [:]
    public var showHelp = false
    /// The help page shown (HelpText.pages); opening the help starts at the first.
    public var helpPage = 0
    /// The mouse drag in progress, and the map it would produce.
    public var stroke: BrushStroke?
    /// The heatmap's weight in the blend view, in percent (`-`/`+` in steps of 10; 0 hides the map).
    public var blendPercent = Int(Compose.blendWeight * 100)
    /// `m` hides the map in the blend view without losing `blendPercent` (`m` again restores it).
    public var mapHidden = false
    /// `v`: image | map | blend side by side instead of the one view `o` picks.
    public var sideBySide = false
    /// `i`: the iso-line of the map at `Contour.level`, drawn over every panel.
    public var showContour = false
    /// `z`/`Z`: a multiple of the scale that fits the whole image (one of `ZoomLevels.steps`).
    public var zoom = 1
    /// Image point the zoomed view is centred on (clamped to the image edges by the layout): the
    /// brush at each zoom; keyboard moves pan it when the brush nears the window's edge
    /// (Viewport.follow); mouse strokes leave it, so the image does not slide under a drag.
    public var viewCenter: BrushPoint?
    /// The heatmap's weight in the blend as drawn: 0 while `m` hides the map.
    public var blendWeight: Float { mapHidden ? 0 : Float(blendPercent) / 100 }
    /// Brush strength in ninths (keys 1–9): how far one dab moves a fully covered cell toward its target.
    public var strengthNinths = 9
    var strength: Double { Double(strengthNinths) / 9 }
    /// The stroke in progress is the keyboard's pen (`d`), not a mouse drag.
    public var penDown = false
    public var strokePreview: AttentionMap?
    /// The selected sample's image, once loaded.
    public var image: ReviewImage?
    public var imageError: String?
    /// Latest what-if per position, with the map it was computed for.
    public var whatIf: [Int: EditedPrediction] = [:]
    /// Positions whose current map the backend has not yet confirmed as stored.
    public var unsaved: Set<Int> = []
    /// One line for the status bar (errors, hints).
    public var message: String?
    /// Why the latest failed save failed, kept (unlike `message`) until everything is saved again.
    public var lastSaveError: String?
    public var quitting = false
    public var annotator: String
    /// What the list shows (ReviewView.swift): `/` types the text, `F` and `s` cycle the others.
    public var filterText = ""
    /// While true, keys type into `filterText` and no other binding fires.
    public var typingFilter = false
    public var quickFilter: QuickFilter = .all
    /// While true (after `f`), keys type the flag's note into `noteText` and no other binding fires.
    public var typingNote = false
    public var noteText = ""
    public var sortOrder: SortOrder = .collect
    /// `a` moves on to the next sample in the view after accepting (off: `review --no-advance`).
    public var advanceOnAccept: Bool

    public init(classNames: [String], samples: [ReviewSample], annotator: String = "", classMapName: String? = nil,
                advanceOnAccept: Bool = true) {
        self.classNames = classNames
        self.classMapName = classMapName
        self.samples = samples
        self.histories = samples.map { EditHistory(original: $0.originalMap, current: $0.currentMap, marks: $0.marks) }
        self.annotator = annotator
        self.advanceOnAccept = advanceOnAccept
        selected = firstUntouched
    }

    public var selectedSample: ReviewSample? { samples.indices.contains(selected) ? samples[selected] : nil }

    /// The map to draw for the selected sample: the class activation map when shown (nil until it
    /// arrives), else the drag preview while dragging, else the current map.
    public var displayedMap: AttentionMap? {
        guard histories.indices.contains(selected) else { return nil }
        if showClassMap { return classMaps[selected] }
        return strokePreview ?? histories[selected].current
    }

    /// Perception probabilities under the selected sample's current map: the model's own output
    /// while the map is the original, else the stored what-if if it was computed for this map.
    public var currentWhatIf: [Float]? {
        guard let sample = selectedSample else { return nil }
        let map = histories[selected].current
        if map == sample.originalMap { return sample.probabilities }
        if let w = whatIf[selected], w.map == map { return w.probabilities }
        return nil
    }

    public var allSaved: Bool { unsaved.isEmpty }

    /// One line for the shell once the screen has closed, when some samples' latest edits could not be
    /// stored (a full disk, say): which samples, and the last error. nil when everything is saved.
    public var unsavedReport: String? {
        guard !unsaved.isEmpty else { return nil }
        let numbers = unsaved.sorted().map { samples.indices.contains($0) ? "#\(samples[$0].index)" : "?" }
        let listed = numbers.count > 5 ? numbers.prefix(5).joined(separator: ", ") + " and \(numbers.count - 5) more"
                                       : numbers.joined(separator: ", ")
        let what = unsaved.count == 1 ? "sample" : "samples"
        return "the latest edits of \(unsaved.count) \(what) (\(listed)) were not saved" + (lastSaveError.map { ": \($0)" } ?? "")
            + "; every edit saved before that is in the session"
    }

    /// The displayed map's value in the cell under the brush centre (the cell the image pixel falls
    /// in), nil without an image or a map.
    public var mapValueUnderCursor: Float? {
        guard let map = displayedMap, map.isWellFormed, let img = image, img.width > 0, img.height > 0 else { return nil }
        let col = min(map.width - 1, max(0, Int(cursor.x * Double(map.width) / Double(img.width))))
        let row = min(map.height - 1, max(0, Int(cursor.y * Double(map.height) / Double(img.height))))
        return map.values[row * map.width + col]
    }

    func className(_ k: Int) -> String {
        classNames.indices.contains(k) ? classNames[k] : "class \(k)"
    }

    /// The marks of position p as the review has them (saved or not yet).
    public func marks(_ p: Int) -> SampleMarks { histories[p].marks }

    func position(ofSampleIndex index: Int) -> Int? {
        samples.firstIndex { $0.index == index }
    }
}

/// Radii the `[`/`]` keys and the wheel step through (image pixels): fine steps for small radii.
public enum BrushRadius {
    public static let steps: [Double] = [0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128]

    /// `radius` moved `delta` steps, not below the smallest step nor above the image's longer side.
    static func step(_ radius: Double, by delta: Int, imageSide: Int) -> Double {
        let current = steps.enumerated().min { abs($0.element - radius) < abs($1.element - radius) }!.offset
        let limit = steps.lastIndex { $0 <= Double(max(1, imageSide)) } ?? 0
        return steps[min(max(0, current + delta), max(limit, 0))]
    }

    /// About a tenth of the image side: a useful first brush.
    static func initial(imageSide: Int) -> Double {
        let want = Double(max(1, imageSide)) / 10
        return steps.min { abs($0 - want) < abs($1 - want) }!
    }
}
