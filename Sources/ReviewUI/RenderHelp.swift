// The `?` overlay: one page of the generated help (HelpText.swift) in a box over the middle of the
// screen, its page number in the top edge and how to go on in the bottom edge.

/// Draws the box; returns where it is.
@discardableResult
func renderHelp(_ state: ReviewState, _ style: RenderStyle, _ grid: inout CellGrid) -> CellRect {
    let pages = HelpText.pages(rows: grid.rows)
    let page = min(max(0, state.helpPage), pages.count - 1)
    let title = HelpText.title(page: page, of: pages.count), hint = HelpText.hint(page: page, of: pages.count)
    // One width for every page (the box does not jump as pages turn), at most the limit.
    let textWidth = HelpText.lines.map { $0.text.unicodeScalars.count }.max()!
    let innerWidth = max(textWidth + 2, hint.unicodeScalars.count + 2)
    let width = min(grid.columns, HelpText.maxColumns, innerWidth + 2)
    let height = min(grid.rows, HelpText.pageHeight(rows: grid.rows) + 2)
    let left = (grid.columns - width) / 2, top = (grid.rows - height) / 2
    let bg = style.chromeWithoutColor ? Theme.background : Theme.statusBackground
    let frame = Cell(" ", foreground: Theme.text, background: bg)
    for r in 0..<height { grid.fill(left, top + r, width: width, with: frame) }
    let rule = String(repeating: "─", count: max(0, width - 2))
    grid.text("┌" + rule + "┐", left, top, background: bg)
    grid.text(title, left + 2, top, width: width - 4, foreground: Theme.accent, background: bg, attributes: [.bold])
    grid.text("└" + rule + "┘", left, top + height - 1, background: bg)
    grid.text(hint, left + 2, top + height - 1, width: width - 4, background: bg)
    let lines = pages[page]
    for r in 1..<max(1, height - 1) {
        grid.set(left, top + r, Cell("│", background: bg))
        grid.set(left + width - 1, top + r, Cell("│", background: bg))
        guard r - 1 < lines.count else { continue }
        let line = lines[r - 1]
        let heading = line.kind == .heading
        grid.text(" " + line.text, left + 1, top + r, width: width - 2,
                  foreground: heading ? Theme.accent : Theme.text, background: bg, attributes: heading ? [.bold] : [])
    }
    return CellRect(column: left, row: top, columns: width, rows: height)
}
