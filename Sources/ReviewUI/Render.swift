// State → cells, with no terminal involved: the same function draws the real screen and the
// grids the tests compare against hand-made expectations.

/// The whole screen for `state` on a terminal of `size`. `plainChrome` (NO_COLOR): the list,
/// headers, status bar and help use the terminal's own colours; the canvas keeps its colours (it is the data).
public func render(_ state: ReviewState, size: TerminalSize, colors: ColorCapability = .direct,
                   plainChrome: Bool = false) -> CellGrid {
    renderFrame(state, size: size, colors: colors, plainChrome: plainChrome).grid
}

/// What one screen shows: the cells, and the canvas panels as images where the terminal draws
/// them (kitty's graphics protocol), their cells then blank.
public struct ReviewFrame: Equatable, Sendable {
    public var grid: CellGrid
    public var images: [PanelImage]
}

/// The screen as `render` draws it; with `images`, the panels come as images, except while the
/// help is open (a box over the canvas that images would cover: the panels are half blocks then).
public func renderFrame(_ state: ReviewState, size: TerminalSize, colors: ColorCapability = .direct,
                        plainChrome: Bool = false, images: Bool = false) -> ReviewFrame {
    var grid = CellGrid(columns: size.columns, rows: size.rows)
    let layout = ReviewLayout(size: size, state: state)
    if layout.isTooSmall {
        renderTooSmall(&grid)
        return ReviewFrame(grid: grid, images: [])
    }
    var style = RenderStyle(colors: colors, plainChrome: plainChrome)
    style.images = images && !state.showHelp
    renderList(state, layout, style, &grid)
    for r in 0..<layout.list.rows {
        grid.set(layout.list.columns, r, Cell("│", foreground: Theme.dim))
    }
    let panelImages = renderCanvas(state, layout, style, &grid)
    renderStatus(state, layout, style, &grid)
    var help: CellRect?
    if state.showHelp { help = renderHelp(state, style, &grid) }
    if plainChrome { stripChromeColors(&grid, layout, help: help) }
    return ReviewFrame(grid: grid, images: panelImages)
}

/// Every cell but the panels' pictures and the legend's bar (the help box included) gets the
/// terminal's default colours: `.plain`, which the backend draws with colour pair 0.
func stripChromeColors(_ grid: inout CellGrid, _ layout: ReviewLayout, help: CellRect?) {
    let bar = layout.legend.flatMap { rect in legendBarColumns(rect).map { (rect.row, $0) } }
    for r in 0..<grid.rows {
        for c in 0..<grid.columns {
            let data = (layout.panels.contains { $0.rect.contains(c, r) } || bar.map { $0.0 == r && $0.1.contains(c) } == true)
                && help?.contains(c, r) != true
            guard !data, var cell = grid[c, r] else { continue }
            cell.foreground = Theme.text
            cell.background = Theme.background
            cell.attributes.insert(.plain)
            grid.set(c, r, cell)
        }
    }
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

/// How highlights look: colours where there are colours, reverse video where there are not (or
/// where the chrome is plain); `monochrome` means shading glyphs on the canvas.
struct RenderStyle {
    let colors: ColorCapability
    var plainChrome = false
    /// The canvas panels as images (kitty's graphics protocol) instead of cells.
    var images = false
    var monochrome: Bool { colors == .monochrome }
    /// The chrome without colours: on a colourless terminal, or plain by request (NO_COLOR).
    var chromeWithoutColor: Bool { monochrome || plainChrome }

    func highlighted(_ active: Bool) -> (fg: RGB, bg: RGB, attributes: CellAttributes) {
        if chromeWithoutColor { return (Theme.text, Theme.background, active ? [.reverse, .bold] : [.reverse]) }
        return (Theme.highlightText, active ? Theme.highlight : Theme.inactiveHighlight, [])
    }

    var statusBar: (fg: RGB, bg: RGB, attributes: CellAttributes) {
        chromeWithoutColor ? (Theme.text, Theme.background, [.reverse]) : (Theme.text, Theme.statusBackground, [])
    }
}

/// "71%" for a probability (rounded to whole percent; non-finite shows as "?%").
func percent(_ p: Float) -> String {
    guard p.isFinite else { return "?%" }
    return "\(Int((min(1, max(0, p)) * 100).rounded()))%"
}
