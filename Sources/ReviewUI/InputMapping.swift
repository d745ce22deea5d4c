// Keys and mouse reports → review actions. Pure (it reads the state and the layout, nothing else),
// so the key bindings (docs/guide.md, "5. Review") are tested without a terminal.

import HITL

public enum Key: Equatable, Sendable {
    case character(Unicode.Scalar)
    case up, down, left, right, tab, escape, enter
    /// Any other function key, by its curses code.
    case other(Int)
}

public enum MouseButton: Equatable, Sendable { case left, middle, right }

public enum MouseKind: Equatable, Sendable {
    case press(MouseButton)
    /// Button releases; terminals do not always say which button.
    case release
    /// Motion while a button is held (xterm mode 1002); carries no button.
    case motion
    case wheelUp, wheelDown
}

public struct MouseEvent: Equatable, Sendable {
    public var kind: MouseKind
    public var column: Int
    public var row: Int
    public init(_ kind: MouseKind, column: Int, row: Int) { self.kind = kind; self.column = column; self.row = row }
}

public enum InputEvent: Equatable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize
}

/// The actions for one input event on a terminal of `size`.
public func actions(for event: InputEvent, in state: ReviewState, size: TerminalSize) -> [ReviewAction] {
    switch event {
    case .resize: return []
    case .key(let key): return followingTheBrush(keyActions(key, state), state, size)
    case .mouse(let m): return mouseActions(m, state, size)
    }
}

private func keyActions(_ key: Key, _ state: ReviewState) -> [ReviewAction] {
    if state.showHelp {
        // Any key closes the help; q still quits.
        if key == .character("q") || key == .character("\u{3}") { return [.toggleHelp, .quit] }
        return [.toggleHelp]
    }
    if state.typingFilter {
        return promptKeyActions(key, end: .endFilter, cancel: .clearFilter, delete: .deleteFilterCharacter, type: ReviewAction.typeFilter)
    }
    if state.typingNote {
        return promptKeyActions(key, end: .endNote, cancel: .cancelNote, delete: .deleteNoteCharacter, type: ReviewAction.typeNote)
    }
    let canvas = state.focus == .canvas
    switch key {
    case .up: return canvas ? [.moveCursor(dx: 0, dy: -1)] : [.moveSelection(-1)]
    case .down: return canvas ? [.moveCursor(dx: 0, dy: 1)] : [.moveSelection(1)]
    case .left: return canvas ? [.moveCursor(dx: -1, dy: 0)] : []
    case .right: return canvas ? [.moveCursor(dx: 1, dy: 0)] : []
    case .tab: return [.toggleFocus]
    // Shift+arrows as curses reports them: KEY_SLEFT, KEY_SRIGHT, KEY_SR (up), KEY_SF (down).
    case .other(393): return [.moveCursorFast(dx: -1, dy: 0)]
    case .other(402): return [.moveCursorFast(dx: 1, dy: 0)]
    case .other(337): return [.moveCursorFast(dx: 0, dy: -1)]
    case .other(336): return [.moveCursorFast(dx: 0, dy: 1)]
    case .escape, .enter, .other: return []
    case .character(let c):
        switch c {
        case "k": return canvas ? [.moveCursor(dx: 0, dy: -1)] : [.moveSelection(-1)]
        case "j": return canvas ? [.moveCursor(dx: 0, dy: 1)] : [.moveSelection(1)]
        case "h": return canvas ? [.moveCursor(dx: -1, dy: 0)] : []
        case "l": return canvas ? [.moveCursor(dx: 1, dy: 0)] : []
        case "K": return [.moveCursorFast(dx: 0, dy: -1)]
        case "J": return [.moveCursorFast(dx: 0, dy: 1)]
        case "H": return [.moveCursorFast(dx: -1, dy: 0)]
        case "L": return [.moveCursorFast(dx: 1, dy: 0)]
        case "d": return [.togglePen]
        case "1"..."9": return [.setStrength(Int(c.value) - 0x30)]
        case "-": return [.adjustOpacity(-10)]
        case "+", "=": return [.adjustOpacity(10)]
        case "\t": return [.toggleFocus]
        case "n": return [.nextSample]
        case "p": return [.previousSample]
        case " ": return [.applyBrush]
        case "b": return [.setTool(.paint)]
        case "e": return [.setTool(.erase)]
        case "[": return [.adjustRadius(-1)]
        case "]": return [.adjustRadius(1)]
        case "u", "\u{1A}": return [.undo]            // u, Ctrl-Z
        case "\u{12}", "\u{19}": return [.redo]       // Ctrl-R, Ctrl-Y
        case "r": return [.reset]
        case "o": return [.cycleView]
        case "v": return [.toggleSideBySide]
        case "m": return [.toggleMapHidden]
        case "i": return [.toggleContour]
        case "z": return [.zoom(1)]
        case "Z": return [.zoom(-1)]
        case "c": return [.toggleClassMap]
        case "a": return [.accept]
        case "f": return [.toggleFlag]
        case "x": return [.toggleExclude]
        case "/": return [.beginFilter]
        case "s": return [.cycleSort]
        case "F": return [.cycleQuickFilter]
        case "N", ".": return [.nextUntouched]
        case "?": return [.toggleHelp]
        case "q", "\u{3}": return [.quit]             // q, Ctrl-C (raw mode delivers it as a key)
        default: return []
        }
    }
}

/// Zoomed in, a keyboard move of the brush is followed by a pan that keeps it in view.
private func followingTheBrush(_ actions: [ReviewAction], _ state: ReviewState, _ size: TerminalSize) -> [ReviewAction] {
    guard state.zoom > 1, actions.contains(where: {
        if case .moveCursor = $0 { return true }
        if case .moveCursorFast = $0 { return true }
        return false
    }) else { return actions }
    let viewport = ReviewLayout(size: size, state: state).viewport
    return actions + [.keepCursorInView(visibleWidth: viewport.visibleWidth, visibleHeight: viewport.visibleHeight)]
}

/// Keys while `/` types a filter or `f` a flag's note: only these, so a typed "a" does not accept.
/// Ctrl-C still quits.
private func promptKeyActions(_ key: Key, end: ReviewAction, cancel: ReviewAction, delete: ReviewAction,
                              type: (Unicode.Scalar) -> ReviewAction) -> [ReviewAction] {
    switch key {
    case .enter, .character("\r"), .character("\n"): return [end]
    case .escape, .character("\u{1B}"): return [cancel]
    // Backspace arrives as DEL, as Ctrl-H, or as curses' KEY_BACKSPACE (263).
    case .character("\u{7F}"), .character("\u{8}"), .other(263): return [delete]
    case .character("\u{3}"): return [.quit]
    case .character(let c) where c.value >= 0x20: return [type(c)]
    default: return []
    }
}

private func mouseActions(_ m: MouseEvent, _ state: ReviewState, _ size: TerminalSize) -> [ReviewAction] {
    let layout = ReviewLayout(size: size, state: state)
    guard !layout.isTooSmall else { return [] }
    let (x, y) = layout.imagePoint(column: m.column, row: m.row)
    let point = BrushPoint(x, y)
    switch m.kind {
    case .wheelUp: return [.adjustRadius(1)]
    case .wheelDown: return [.adjustRadius(-1)]
    case .motion: return state.stroke == nil ? [] : [.extendStroke(point)]
    case .release:
        guard state.stroke != nil else { return [] }
        // The release position ends the drag too (fast drags may report no motion at all).
        return [.extendStroke(point), .endStroke]
    case .press(let button):
        if layout.canvasArea.contains(m.column, m.row) {
            switch button {
            case .left: return [.beginStroke(state.tool, point)]
            case .right: return [.beginStroke(state.tool.opposite, point)]
            case .middle: return []
            }
        }
        if button == .left, layout.list.contains(m.column, m.row), m.row >= layout.list.row + ReviewLayout.listHeaderRows {
            let view = state.visiblePositions
            let i = layout.listTop(selected: state.viewIndex(in: view) ?? 0, count: view.count)
                + m.row - layout.list.row - ReviewLayout.listHeaderRows
            return i < view.count ? [.focus(.list), .selectSample(position: view[i])] : [.focus(.list)]
        }
        return []
    }
}
