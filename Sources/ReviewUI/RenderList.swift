// The sample list: one row per sample, "index label→prediction confidence marks".

func renderList(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) {
    let rect = layout.list
    let header = " Samples \(state.samples.isEmpty ? 0 : state.selected + 1)/\(state.samples.count)"
    grid.text(header, rect.column, rect.row, width: rect.columns,
              attributes: state.focus == .list ? [.bold, .underline] : [.bold])
    if state.samples.isEmpty {
        grid.text(" (no samples)", rect.column, rect.row + 1, width: rect.columns, foreground: Theme.dim)
        return
    }
    let top = layout.listTop(selected: state.selected, count: state.samples.count)
    for line in 0..<max(0, rect.rows - 1) {
        let p = top + line
        guard p < state.samples.count else { break }
        let text = listRowText(state, position: p, width: rect.columns)
        if p == state.selected {
            let h = style.highlighted(state.focus == .list)
            grid.text(text, rect.column, rect.row + 1 + line, width: rect.columns,
                      foreground: h.fg, background: h.bg, attributes: h.attributes)
        } else {
            grid.text(text, rect.column, rect.row + 1 + line, width: rect.columns)
        }
    }
}

/// Exactly `width` characters: " 12 cat→dog" on the left, " 71% *✓" on the right (confidence of
/// the prediction; * edited, ✓ accepted), the left part cut to fit.
func listRowText(_ state: ReviewState, position p: Int, width: Int) -> String {
    let s = state.samples[p]
    let confidence = s.probabilities.indices.contains(s.predicted) ? percent(s.probabilities[s.predicted]) : "?%"
    let edited = state.histories[p].isEdited
    let right = " " + String(repeating: " ", count: max(0, 4 - confidence.count)) + confidence
        + " " + (edited ? "*" : " ") + (s.accepted ? "✓" : " ")
    let left = " \(s.index) \(state.className(s.label))→\(state.className(s.predicted))"
    let room = max(0, width - right.count)
    let leftCut = String(left.unicodeScalars.prefix(room).map(Character.init))
    return leftCut + String(repeating: " ", count: room - leftCut.unicodeScalars.count) + right
}
