// Keys and mouse reports → review actions. Pure (it reads the state and the layout, nothing else),
// so the bindings are tested without a terminal. Which key does what is the table in KeyBindings.swift.

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
    case .key(let key): return followingTheBrush(keyActions(key, state, size), state, size)
    case .mouse(let m): return mouseActions(m, state, size)
    }
}

/// The key table's actions for `key` in the state's context (KeyBindings.swift); in the help, a page
/// turn past either end closes it, as any other key does.
private func keyActions(_ key: Key, _ state: ReviewState, _ size: TerminalSize) -> [ReviewAction] {
    let actions = boundActions(key, in: KeyContext(state))
    guard state.showHelp, actions.count == 1, case .turnHelpPage(let delta) = actions[0] else { return actions }
    return HelpText.turn(from: state.helpPage, by: delta, rows: size.rows) == nil ? [.toggleHelp] : actions
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
