// State → cells, with no terminal involved: the same function draws the real screen and the
// grids the tests compare against hand-made expectations.

/// The whole screen for `state` on a terminal of `size`.
public func render(_ state: ReviewState, size: TerminalSize, colors: ColorCapability = .direct) -> CellGrid {
    var grid = CellGrid(columns: size.columns, rows: size.rows)
    let layout = ReviewLayout(size: size, imageWidth: state.image?.width ?? 32, imageHeight: state.image?.height ?? 32)
    if layout.isTooSmall {
        renderTooSmall(&grid)
        return grid
    }
    let style = RenderStyle(colors: colors)
    renderList(state, layout, style, &grid)
    for r in 0..<layout.list.rows {
        grid.set(layout.list.columns, r, Cell("│", foreground: Theme.dim))
    }
    renderCanvas(state, layout, style, &grid)
    renderStatus(state, layout, style, &grid)
    if state.showHelp { renderHelp(layout, style, &grid) }
    return grid
}

/// The message for a terminal below the minimum size, wrapped to its width.
public func tooSmallMessage() -> String {
    "terminal too small: need at least \(ReviewLayout.minimumColumns)x\(ReviewLayout.minimumRows)"
}

func renderTooSmall(_ grid: inout CellGrid) {
    guard grid.columns > 0 else { return }
    let scalars = Array(tooSmallMessage().unicodeScalars)
    var row = 0
    var i = 0
    while i < scalars.count, row < grid.rows {
        let end = min(scalars.count, i + grid.columns)
        grid.text(String(String.UnicodeScalarView(scalars[i..<end])), 0, row)
        i = end
        row += 1
    }
}

/// How highlights look: colours where there are colours, reverse video where there are not.
struct RenderStyle {
    let colors: ColorCapability
    var monochrome: Bool { colors == .monochrome }

    func highlighted(_ active: Bool) -> (fg: RGB, bg: RGB, attributes: CellAttributes) {
        if monochrome { return (Theme.text, Theme.background, active ? [.reverse, .bold] : [.reverse]) }
        return (Theme.highlightText, active ? Theme.highlight : Theme.inactiveHighlight, [])
    }

    var statusBar: (fg: RGB, bg: RGB, attributes: CellAttributes) {
        monochrome ? (Theme.text, Theme.background, [.reverse]) : (Theme.text, Theme.statusBackground, [])
    }
}

/// "71%" for a probability (rounded to whole percent; non-finite shows as "?%").
func percent(_ p: Float) -> String {
    guard p.isFinite else { return "?%" }
    return "\(Int((min(1, max(0, p)) * 100).rounded()))%"
}
