// The `?` overlay: every key and mouse action, in a box over the middle of the screen.

// At most 22 lines of at most 76 characters, so the box fits an 80×24 terminal.
let helpLines: [String] = [
    "Keys",
    "j/k, Up/Down    move in the list (list focus)",
    "n / p           next / previous sample in the list",
    "N or .          next untouched sample (not edited, no mark)",
    "/               filter as you type (path, class, cat->dog); Enter, Esc",
    "F               show all/untouched/edited/accepted/flagged/excluded",
    "s               sort: collect order / confidence / class / edited first",
    "Tab             switch focus list <-> canvas",
    "h/j/k/l, arrows move the brush (canvas); H/J/K/L, Shift+arrows: faster",
    "space / d       one dab at the cursor / pen down-up (paints while it moves)",
    "b / e           paint (raise) / erase (lower)",
    "[ / ], 1-9      smaller / larger brush; strength 1/9 ... 9/9 (full)",
    "u, Ctrl-Z       undo the last stroke or mark;  Ctrl-R, Ctrl-Y  redo",
    "r / c           reset to the model's map / class activation map (read-only)",
    "o / v           view: blend / map / image;  side by side: image|map|blend",
    "- / +, m        blend opacity down / up;  m hides / shows the map",
    "z / Z, i        zoom in / out at the brush;  i: contour of the map at 0.5",
    "a / x           accept (then next sample) / exclude; a, x again: clear",
    "f               flag with a note (Enter stores, Esc cancels); again: clears",
    "?               this help (any key closes);  q, Ctrl-C  quit (all saved)",
    "Mouse: left drag paints, right drag the other tool, wheel radius, click row",
    "List marks: * edited, ✓ accepted, ! flagged, x excluded; header: progress",
]

/// Draws the box; returns where it is.
@discardableResult
func renderHelp(_ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) -> CellRect {
    let innerWidth = helpLines.map { $0.unicodeScalars.count }.max()! + 2
    let width = min(grid.columns, innerWidth + 2), height = min(grid.rows, helpLines.count + 2)
    let left = (grid.columns - width) / 2, top = (grid.rows - height) / 2
    let bg = style.chromeWithoutColor ? Theme.background : Theme.statusBackground
    let frame = Cell(" ", foreground: Theme.text, background: bg)
    for r in 0..<height { grid.fill(left, top + r, width: width, with: frame) }
    grid.text("┌" + String(repeating: "─", count: max(0, width - 2)) + "┐", left, top, background: bg)
    grid.text("└" + String(repeating: "─", count: max(0, width - 2)) + "┘", left, top + height - 1, background: bg)
    for r in 1..<max(1, height - 1) {
        grid.set(left, top + r, Cell("│", background: bg))
        grid.set(left + width - 1, top + r, Cell("│", background: bg))
        let line = helpLines[r - 1]
        let heading = line == "Keys"
        grid.text(" " + line, left + 1, top + r, width: width - 2,
                  foreground: heading ? Theme.accent : Theme.text, background: bg, attributes: heading ? [.bold] : [])
    }
    return CellRect(column: left, row: top, columns: width, rows: height)
}
