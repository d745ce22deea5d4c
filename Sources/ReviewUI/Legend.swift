// The map's colour legend: " map 0 ▀▀▀…▀ 1", the bar running through jet (or the shading glyphs
// without colour) so a colour on the canvas reads as a value.

/// Cells of the bar: `width` cells, cell i showing the value at its centre, (i + 0.5) / width.
func legendBar(width: Int, monochrome: Bool) -> [Cell] {
    (0..<max(0, width)).map { i in
        let v = (Double(i) + 0.5) / Double(width)
        if monochrome { return Cell(Palette.shade(v)) }
        let c = RGB.jet(Float(v))
        return Cell(upperHalfBlock, foreground: c, background: c)
    }
}

/// Columns of the bar in the legend row `rect`: after " map 0 ", at most 32 cells, room left for " 1".
func legendBarColumns(_ rect: CellRect) -> Range<Int>? {
    let width = min(32, rect.columns - 9)
    return width >= 4 ? (rect.column + 7)..<(rect.column + 7 + width) : nil
}

/// The legend in `rect` (one row): label, bar, label.
func renderLegend(_ rect: CellRect, _ style: RenderStyle, _ grid: inout CellGrid) {
    guard let bar = legendBarColumns(rect) else { return }
    grid.text(" map 0 ", rect.column, rect.row, foreground: Theme.dim)
    for (x, cell) in zip(bar, legendBar(width: bar.count, monochrome: style.monochrome)) { grid.set(x, rect.row, cell) }
    grid.text(" 1", bar.upperBound, rect.row, foreground: Theme.dim)
}
