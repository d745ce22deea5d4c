// Everything that can happen to the review state: input (already translated from keys and mouse by
// InputMapping.swift) and the results of effects the app carried out.
import HITL

public enum CanvasView: String, Sendable, CaseIterable {
    case blend, map, image
    var next: CanvasView {
        switch self { case .blend: return .map; case .map: return .image; case .image: return .blend }
    }
}

public enum ReviewFocus: Sendable, Equatable { case list, canvas }

public enum ReviewAction: Equatable, Sendable {
    // List
    case moveSelection(Int)
    case nextSample
    case previousSample
    case selectSample(position: Int)
    case toggleFocus
    case focus(ReviewFocus)
    /// The next sample in the view that is neither edited nor accepted (wrapping round).
    case nextUntouched
    // What the list shows
    case cycleSort
    case cycleQuickFilter
    /// `/`: keys type into the filter until Enter (keep it) or Escape (clear it).
    case beginFilter
    case typeFilter(Unicode.Scalar)
    case deleteFilterCharacter
    case endFilter
    case clearFilter
    // Brush
    case moveCursor(dx: Int, dy: Int)
    /// Move the brush by `fastStep` pixels per unit (capital HJKL, Shift+arrows).
    case moveCursorFast(dx: Int, dy: Int)
    /// Pen down: from here every brush move paints (one stroke, one undo step) until pen up.
    case togglePen
    /// Blend opacity up or down by `delta` percent (kept within 0…100).
    case adjustOpacity(Int)
    /// Brush strength 1…9 ninths.
    case setStrength(Int)
    case setCursor(BrushPoint)
    case applyBrush
    case setTool(BrushTool)
    case adjustRadius(Int)
    case beginStroke(BrushTool, BrushPoint)
    case extendStroke(BrushPoint)
    case endStroke
    // History and review
    case undo
    case redo
    case reset
    /// `a`: accept (then move on, unless --no-advance); on an accepted sample, un-accept.
    case accept
    /// `f`: flag with a note typed like the filter (Enter stores, Esc cancels); on a flagged sample, unflag.
    case toggleFlag
    case typeNote(Unicode.Scalar)
    case deleteNoteCharacter
    case endNote
    case cancelNote
    /// `x`: exclude from fine-tuning, or include again.
    case toggleExclude
    case cycleView
    /// `v`: one view or image | map | blend side by side.
    case toggleSideBySide
    /// `m`: hide the map in the blend (keeping its weight) or show it again.
    case toggleMapHidden
    /// `i`: the map's 0.5 contour on or off.
    case toggleContour
    /// `z` (+1) / `Z` (−1): zoom steps, centred on the brush.
    case zoom(Int)
    /// After a keyboard move while zoomed: pan so the brush stays in a window this many image
    /// pixels across and down (the input mapping knows the window; Viewport.follow).
    case keepCursorInView(visibleWidth: Double, visibleHeight: Double)
    /// Show the class activation map instead of the attention map, or back (read-only while shown).
    case toggleClassMap
    case toggleHelp
    /// Space / PgDn (+1), PgUp (−1) in the help; the input mapping closes the help instead past either end.
    case turnHelpPage(Int)
    case quit
    // Results of effects
    case imageLoaded(sampleIndex: Int, ReviewImage)
    case imageFailed(sampleIndex: Int, message: String)
    case whatIfComputed(sampleIndex: Int, map: AttentionMap, probabilities: [Float])
    case saved(sampleIndex: Int, map: AttentionMap)
    case markSaved(sampleIndex: Int, change: MarkChange)
    /// Another annotator stored work on the sample (the driver asks before a change): theirs becomes the base.
    case changedElsewhere(sampleIndex: Int, OutsideChange)
    case classMapComputed(sampleIndex: Int, map: AttentionMap)
    case effectFailed(sampleIndex: Int, message: String)
    /// The backend could not store an edit (the map stays in memory, shown as UNSAVED).
    case saveFailed(sampleIndex: Int, message: String)
}

/// Work the reducer asks the app to do; it reports back with a result action.
public enum ReviewEffect: Equatable, Sendable {
    case loadImage(sampleIndex: Int)
    case requestWhatIf(sampleIndex: Int, map: AttentionMap)
    /// Store `map` as a new edit (computing its what-if first); an undo or reset is also a commit.
    case commitEdit(sampleIndex: Int, map: AttentionMap, source: EditSource)
    /// Store one mark set or cleared; an undo or redo of a mark change is one too.
    case setMark(sampleIndex: Int, change: MarkChange, source: MarkSource)
    case requestClassMap(sampleIndex: Int)
    case quit
}
