// The review UI's only state transition: pure, so every key, drag and backend result is tested
// without a terminal. Effects are returned, never performed here.
import HITL

public func reduce(_ state: ReviewState, _ action: ReviewAction) -> (ReviewState, [ReviewEffect]) {
    var s = state
    let effects = s.apply(action)
    return (s, effects)
}

/// The effects the app must run when the review opens: load the first image.
public func initialEffects(_ state: ReviewState) -> [ReviewEffect] {
    guard let sample = state.selectedSample else { return [] }
    return [.loadImage(sampleIndex: sample.index)] + state.whatIfRequest(for: state.selected)
}

extension ReviewState {
    mutating func apply(_ action: ReviewAction) -> [ReviewEffect] {
        message = nil
        switch action {
        case .moveSelection(let d): return moveInView(d)
        case .nextSample: return moveInView(1)
        case .previousSample: return moveInView(-1)
        case .selectSample(let p): return select(p)
        case .nextUntouched: return selectNextUntouched()
        case .cycleSort: sortOrder = sortOrder.next
        case .cycleQuickFilter:
            quickFilter = quickFilter.next
            return keepSelectionInView()
        case .beginFilter: typingFilter = true
        case .typeFilter(let c):
            filterText.unicodeScalars.append(c)
            return keepSelectionInView()
        case .deleteFilterCharacter:
            if !filterText.isEmpty { filterText.removeLast() }
            return keepSelectionInView()
        case .endFilter: typingFilter = false
        case .clearFilter:
            typingFilter = false
            filterText = ""
            return keepSelectionInView()
        case .toggleFocus: focus = focus == .list ? .canvas : .list
        case .focus(let f): focus = f
        case .moveCursor(let dx, let dy): moveCursor(dx: dx, dy: dy)
        case .moveCursorFast(let dx, let dy): moveCursor(dx: dx * fastStep, dy: dy * fastStep)
        case .togglePen:
            if penDown { return finishStroke() }
            if refusedWhileClassMapShown() { return [] }
            let pending = finishStroke()
            guard image != nil, selectedSample != nil else { message = "no image to paint on"; return pending }
            focus = .canvas
            stroke = BrushStroke(tool: tool, radius: radius, points: [cursor], strength: strength)
            penDown = true
            updatePreview([cursor])
            return pending
        case .setCursor(let p): cursor = clampedToImage(p)
        case .applyBrush:
            if refusedWhileClassMapShown() { return [] }
            let pending = finishStroke()
            return pending + commitStroke(BrushStroke(tool: tool, radius: radius, points: [cursor], strength: strength))
        case .setTool(let t): tool = t
        case .adjustOpacity(let d): blendPercent = min(100, max(0, blendPercent + d))
        case .setStrength(let k):
            strengthNinths = min(9, max(1, k))
            if var current = stroke { current.strength = strength; stroke = current; updatePreview(current.points) }
        case .adjustRadius(let d):
            radius = BrushRadius.step(radius, by: d, imageSide: imageSide)
            radiusChosen = true
            if let stroke { self.stroke?.radius = radius; updatePreview(stroke.points) }
        case .beginStroke(let t, let p):
            if refusedWhileClassMapShown() { return [] }
            let pending = finishStroke()
            guard image != nil, selectedSample != nil else { return pending }
            focus = .canvas
            cursor = clampedToImage(p)
            stroke = BrushStroke(tool: t, radius: radius, points: [p], strength: strength)
            updatePreview([p])
            return pending
        case .extendStroke(let p):
            guard var current = stroke else { return [] }
            cursor = clampedToImage(p)
            if current.points.last != p { current.points.append(p) }
            stroke = current
            updatePreview(current.points)
        case .endStroke: return finishStroke()
        case .undo: return refusedWhileClassMapShown() ? [] : finishStroke() + travel(.undo) { $0.stepBack() }
        case .redo: return refusedWhileClassMapShown() ? [] : finishStroke() + travel(.redo) { $0.stepForward() }
        case .reset: return refusedWhileClassMapShown() ? [] : finishStroke() + historyStep(.reset) { $0.reset() }
        case .accept:
            guard selectedSample != nil else { return [] }
            let setting = !marks(selected).accepted
            let effects = markStep(.accept, setting)
            return setting && advanceOnAccept ? effects + moveInView(1) : effects
        case .toggleFlag:
            guard selectedSample != nil else { return [] }
            if marks(selected).flagged { return markStep(.flag, false) }
            typingNote = true
            noteText = ""
            return finishStroke()
        case .typeNote(let c): noteText.unicodeScalars.append(c)
        case .deleteNoteCharacter: if !noteText.isEmpty { noteText.removeLast() }
        case .endNote:
            typingNote = false
            // Spaces at either end are dropped (without Foundation: this module stays pure).
            let leading = noteText.drop { $0 == " " }
            let note = leading.lastIndex { $0 != " " }.map { String(leading[...$0]) } ?? ""
            noteText = ""
            return markStep(.flag, true, note: note.isEmpty ? nil : note)
        case .cancelNote:
            typingNote = false
            noteText = ""
        case .toggleExclude:
            guard selectedSample != nil else { return [] }
            return markStep(.exclude, !marks(selected).excluded)
        case .cycleView: view = view.next
        case .toggleSideBySide: sideBySide.toggle()
        case .toggleMapHidden: mapHidden.toggle()
        case .toggleContour: showContour.toggle()
        case .zoom(let d):
            zoom = ZoomLevels.step(zoom, by: d)
            viewCenter = cursor
        case .keepCursorInView(let w, let h):
            guard let img = image else { return [] }
            viewCenter = Viewport.follow(center: viewCenter ?? BrushPoint(Double(img.width) / 2, Double(img.height) / 2),
                                         cursor: cursor, visibleWidth: w, visibleHeight: h, imageWidth: img.width, imageHeight: img.height)
        case .toggleClassMap:
            guard classMapName != nil else { message = "no class activation map (the backend offers none)"; return [] }
            let pending = finishStroke()
            showClassMap.toggle()
            return pending + classMapRequest(for: selected)
        case .classMapComputed(let index, let map):
            guard let p = position(ofSampleIndex: index) else { return [] }
            classMaps[p] = map
        case .toggleHelp:
            showHelp.toggle()
            helpPage = 0
        case .turnHelpPage(let d): helpPage = max(0, helpPage + d)
        case .quit:
            let pending = finishStroke()
            quitting = true
            return pending + [.quit]
        case .imageLoaded(let index, let img):
            guard selectedSample?.index == index else { return [] }
            guard img.isWellFormed else {
                image = nil
                imageError = "image of sample \(index) is malformed (\(img.width)x\(img.height), \(img.rgb.count) bytes)"
                return []
            }
            let sizeChanged = image.map { $0.width != img.width || $0.height != img.height } ?? true
            image = img
            imageError = nil
            if !radiusChosen { radius = BrushRadius.initial(imageSide: max(img.width, img.height)); radiusChosen = true }
            radius = BrushRadius.step(radius, by: 0, imageSide: max(img.width, img.height))
            if sizeChanged { cursor = BrushPoint(Double(img.width) / 2, Double(img.height) / 2); viewCenter = nil }
            cursor = clampedToImage(cursor)
        case .imageFailed(let index, let text):
            guard selectedSample?.index == index else { return [] }
            image = nil
            imageError = text
        case .whatIfComputed(let index, let map, let probabilities):
            guard let p = position(ofSampleIndex: index) else { return [] }
            whatIf[p] = EditedPrediction(map: map, probabilities: probabilities)
        case .saved(let index, let map):
            guard let p = position(ofSampleIndex: index) else { return [] }
            samples[p].currentMap = map
            samples[p].edited = map != samples[p].originalMap
            settle(p)
        case .markSaved(let index, let change):
            guard let p = position(ofSampleIndex: index) else { return [] }
            samples[p].marks = samples[p].marks.setting(change.kind, change.value, note: change.note)
            settle(p)
            message = "\(Self.describe(change)) sample \(index)"
        case .changedElsewhere(let index, let change):
            guard let p = position(ofSampleIndex: index) else { return [] }
            // Their map and marks become the base: undo stops there, so it never takes their work back.
            samples[p].currentMap = change.currentMap
            samples[p].edited = change.currentMap != samples[p].originalMap
            samples[p].marks = change.marks
            histories[p] = EditHistory(original: samples[p].originalMap, current: change.currentMap, marks: change.marks)
            settle(p)
            if p == selected, let stroke { updatePreview(stroke.points) }
            message = "sample \(index) changed by \(change.annotator) at \(change.time) — now editing their map"
        case .effectFailed(_, let text):
            message = text
        case .saveFailed(_, let text):
            message = "NOT SAVED: \(text)"
            lastSaveError = text
        }
        return []
    }

    private var imageSide: Int { image.map { max($0.width, $0.height) } ?? 128 }

    /// Pixels a fast move (capital HJKL) covers: an eighth of a 32-pixel image, a sixteenth of a larger one.
    var fastStep: Int { max(4, imageSide / 16) }

    /// The brush moves; with the pen down the move extends the stroke (a line, like a drag).
    private mutating func moveCursor(dx: Int, dy: Int) {
        focus = .canvas
        cursor = clampedToImage(BrushPoint(cursor.x + Double(dx), cursor.y + Double(dy)))
        guard penDown, var current = stroke else { return }
        if current.points.last != cursor { current.points.append(cursor) }
        stroke = current
        updatePreview(current.points)
    }

    private mutating func select(_ position: Int) -> [ReviewEffect] {
        guard !samples.isEmpty else { return [] }
        let p = min(max(0, position), samples.count - 1)
        guard p != selected else { return [] }
        let pending = finishStroke()
        selected = p
        image = nil
        imageError = nil
        return pending + [.loadImage(sampleIndex: samples[p].index)] + whatIfRequest(for: p) + classMapRequest(for: p)
    }

    /// Moves `d` places in the view. A selection the view no longer shows (an edit under the
    /// untouched filter, say) moves to the nearest shown sample on that side in the sort order.
    private mutating func moveInView(_ d: Int) -> [ReviewEffect] {
        let view = visiblePositions
        guard !view.isEmpty else { return [] }
        if let i = viewIndex(in: view) { return select(view[min(max(0, i + d), view.count - 1)]) }
        let order = sorted(Array(samples.indices))
        guard let rank = order.firstIndex(of: selected) else { return select(view[0]) }
        let shown = Set(view)
        let after = order[(rank + 1)...].first(where: shown.contains), before = order[..<rank].last(where: shown.contains)
        return select((d >= 0 ? after ?? before : before ?? after) ?? view[0])
    }

    private mutating func selectNextUntouched() -> [ReviewEffect] {
        let view = visiblePositions
        let i = viewIndex(in: view) ?? -1
        guard let p = (view[(i + 1)...] + view[..<max(0, i)]).first(where: isUntouched) else {
            let scope = view.count == samples.count ? "" : " in this view"
            message = isUntouched(selected) ? "no other untouched sample\(scope)" : "no untouched sample\(scope)"
            return []
        }
        return select(p)
    }

    /// After the view changed: a selection it no longer shows moves to the view's first sample.
    private mutating func keepSelectionInView() -> [ReviewEffect] {
        let view = visiblePositions
        guard let first = view.first, !view.contains(selected) else { return [] }
        return select(first)
    }

    /// The class activation map of position p when it is shown and not known yet.
    func classMapRequest(for p: Int) -> [ReviewEffect] {
        guard showClassMap, samples.indices.contains(p), classMaps[p] == nil else { return [] }
        return [.requestClassMap(sampleIndex: samples[p].index)]
    }

    /// Edits change the attention map, which is hidden while the class map is shown: refuse them
    /// rather than change what cannot be seen.
    private mutating func refusedWhileClassMapShown() -> Bool {
        guard showClassMap else { return false }
        message = "\(classMapName ?? "class map") is read-only: c shows the attention map again"
        return true
    }

    /// A what-if request when the sample shows an edited map whose prediction is not known yet.
    func whatIfRequest(for p: Int) -> [ReviewEffect] {
        guard histories.indices.contains(p) else { return [] }
        let map = histories[p].current
        guard map != samples[p].originalMap, whatIf[p]?.map != map else { return [] }
        return [.requestWhatIf(sampleIndex: samples[p].index, map: map)]
    }

    private func clampedToImage(_ p: BrushPoint) -> BrushPoint {
        guard let img = image, p.isFinite else { return cursor }
        // Keep the centre on a pixel of the image so the brush can always reach the border.
        return BrushPoint(min(max(p.x, 0.5), Double(img.width) - 0.5), min(max(p.y, 0.5), Double(img.height) - 0.5))
    }

    private mutating func updatePreview(_ points: [BrushPoint]) {
        guard let img = image, let stroke else { strokePreview = nil; return }
        var s = stroke
        s.points = points
        strokePreview = applyStroke(s, to: histories[selected].current, imageWidth: img.width, imageHeight: img.height)
    }

    /// Ends a drag in progress (if any) by committing it as one step.
    private mutating func finishStroke() -> [ReviewEffect] {
        penDown = false
        guard let s = stroke else { return [] }
        stroke = nil
        strokePreview = nil
        return commitStroke(s)
    }

    private mutating func commitStroke(_ s: BrushStroke) -> [ReviewEffect] {
        guard let img = image, histories.indices.contains(selected) else {
            message = "no image to paint on"
            return []
        }
        return historyStep(.stroke) { $0.apply(s, imageWidth: img.width, imageHeight: img.height) }
    }

    /// "accepted", "unflagged", "included again": what a stored mark change did.
    static func describe(_ change: MarkChange) -> String {
        switch change.kind {
        case .accept: return change.value ? "accepted" : "un-accepted"
        case .flag: return change.value ? "flagged" : "unflagged"
        case .exclude: return change.value ? "excluded" : "included again"
        }
    }

    /// A position whose map and marks are all stored is saved again.
    private mutating func settle(_ p: Int) {
        if histories[p].current == samples[p].currentMap && histories[p].marks == samples[p].marks { unsaved.remove(p) }
        if unsaved.isEmpty { lastSaveError = nil }
    }

    /// Sets or clears one mark of the selected sample as one undoable step (a stroke in progress is
    /// committed first, so the two stay in the order they were made).
    private mutating func markStep(_ kind: MarkKind, _ value: Bool, note: String? = nil) -> [ReviewEffect] {
        let pending = finishStroke()
        guard histories.indices.contains(selected),
              histories[selected].setMarks(marks(selected).setting(kind, value, note: note)) != nil else { return pending }
        unsaved.insert(selected)
        return pending + [.setMark(sampleIndex: samples[selected].index, change: MarkChange(kind: kind, value: value, note: note), source: .toggle)]
    }

    /// An undo or redo: whatever the step changed (the map, a mark) is stored again as new rows.
    private mutating func travel(_ source: EditSource, _ op: (inout EditHistory) -> (from: EditStep, to: EditStep)?) -> [ReviewEffect] {
        guard histories.indices.contains(selected), let (from, to) = op(&histories[selected]) else { return [] }
        let index = samples[selected].index
        unsaved.insert(selected)
        var effects: [ReviewEffect] = []
        if from.map != to.map { effects.append(.commitEdit(sampleIndex: index, map: to.map, source: source)) }
        let markSource: MarkSource = source == .undo ? .undo : .redo
        for change in from.marks.changes(to: to.marks) {
            effects.append(.setMark(sampleIndex: index, change: change, source: markSource))
        }
        return effects
    }

    /// Runs one history operation on the selected sample; a changed map is committed as a new edit
    /// that records which operation made it.
    private mutating func historyStep(_ source: EditSource, _ op: (inout EditHistory) -> AttentionMap?) -> [ReviewEffect] {
        guard histories.indices.contains(selected), let map = op(&histories[selected]) else { return [] }
        unsaved.insert(selected)
        return [.commitEdit(sampleIndex: samples[selected].index, map: map, source: source)]
    }
}
