// The sample list: a two-row header (what is shown, progress), then one row per sample in the
// view, "index label→prediction confidence marks".

func renderList(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) {
    let rect = layout.list
    let view = state.visiblePositions
    grid.text(state.listTitle(view), rect.column, rect.row, width: rect.columns,
              attributes: state.focus == .list ? [.bold, .underline] : [.bold])
    grid.text(state.progressLine(width: rect.columns), rect.column, rect.row + 1, width: rect.columns, foreground: Theme.dim)
    let first = rect.row + ReviewLayout.listHeaderRows
    if view.isEmpty {
        grid.text(state.samples.isEmpty ? " (no samples)" : " (none match)", rect.column, first, width: rect.columns, foreground: Theme.dim)
        return
    }
    let top = layout.listTop(selected: state.viewIndex(in: view) ?? 0, count: view.count)
    for line in 0..<max(0, rect.rows - ReviewLayout.listHeaderRows) {
        guard top + line < view.count else { break }
        let p = view[top + line]
        let text = listRowText(state, position: p, width: rect.columns)
        if p == state.selected {
            let h = style.highlighted(state.focus == .list)
            grid.text(text, rect.column, first + line, width: rect.columns,
                      foreground: h.fg, background: h.bg, attributes: h.attributes)
        } else {
            grid.text(text, rect.column, first + line, width: rect.columns)
        }
    }
}

/// Exactly `width` characters: " 12 cat→dog" on the left, " 71% *✓!x" on the right (confidence of
/// the prediction; * edited, ✓ accepted, ! flagged, x excluded), the left part cut to fit.
func listRowText(_ state: ReviewState, position p: Int, width: Int) -> String {
    let s = state.samples[p]
    let confidence = s.probabilities.indices.contains(s.predicted) ? percent(s.probabilities[s.predicted]) : "?%"
    let edited = state.isEdited(p), marks = state.marks(p)
    let right = " " + String(repeating: " ", count: max(0, 4 - confidence.count)) + confidence
        + " " + (edited ? "*" : " ") + (marks.accepted ? "✓" : " ") + (marks.flagged ? "!" : " ") + (marks.excluded ? "x" : " ")
    let left = " \(s.index) \(state.className(s.label))→\(state.className(s.predicted))"
    let room = max(0, width - right.count)
    let leftCut = String(left.unicodeScalars.prefix(room).map(Character.init))
    return leftCut + String(repeating: " ", count: room - leftCut.unicodeScalars.count) + right
}
