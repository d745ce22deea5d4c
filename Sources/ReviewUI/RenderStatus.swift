// The status bar: what the model says, what it would say under the edited map, and the brush.

import ABN

func renderStatus(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) {
    let rect = layout.status
    let bar = style.statusBar
    for r in 0..<rect.rows { grid.fill(0, rect.row + r, width: rect.columns, with: Cell(" ", foreground: bar.fg, background: bar.bg, attributes: bar.attributes)) }
    let lines = statusLines(state)
    for (i, line) in lines.enumerated() where i < rect.rows {
        let end = grid.text(line, 0, rect.row + i, width: rect.columns, foreground: bar.fg, background: bar.bg, attributes: bar.attributes)
        if i == 2, let message = state.message {
            grid.text("  " + message, end, rect.row + i, foreground: style.chromeWithoutColor ? bar.fg : Theme.warning,
                      background: bar.bg, attributes: bar.attributes.union(.bold))
        }
    }
}

/// The three status lines (without the transient message).
func statusLines(_ state: ReviewState) -> [String] {
    guard let s = state.selectedSample else {
        return [" no samples in this session", "", " q:quit  ?:help"]
    }
    func prediction(_ k: Int, _ p: [Float]) -> String {
        "\(state.className(k)) " + (p.indices.contains(k) ? percent(p[k]) : "?%")
    }
    let first = " #\(s.index)  label \(state.className(s.label))  perception \(prediction(s.predicted, s.probabilities))"
        + "  attention \(prediction(s.attentionPredicted, s.attentionProbabilities))"
    var second: String
    let edited = state.isEdited(state.selected)
    if let w = state.currentWhatIf, w.contains(where: \.isFinite) {
        let top = argmax(w)
        second = " what-if (\(edited ? "edited" : "model's") map) \(prediction(top, w))  top-3:"
        let order = w.indices.filter { w[$0].isFinite }.sorted { w[$0] > w[$1] || (w[$0] == w[$1] && $0 < $1) }
        for k in order.prefix(3) { second += " \(prediction(k, w))" }
    } else {
        second = " what-if (edited map) …"
    }
    var third = " tool \(state.tool.rawValue)\(state.penDown ? " (pen down)" : "")  radius \(radiusText(state.radius))px\(state.strengthNinths < 9 ? "  strength \(state.strengthNinths)/9" : "")  view \(state.view.rawValue)\(state.view == .blend && state.blendPercent != 50 ? " \(state.blendPercent)%" : "")"
    if state.showClassMap { third += " \(state.classMapName ?? "class map")" }
    // Also here: a narrow canvas header is cut before its zoom.
    if state.zoom > 1 { third += "  zoom ×\(state.zoom)" }
    third += state.allSaved ? "  saved" : "  UNSAVED"
    let marks = state.marks(state.selected)
    if marks.accepted { third += "  accepted" }
    if marks.excluded { third += "  excluded" }
    if marks.flagged { third += "  flagged" + (marks.flagNote.map { ": \($0)" } ?? "") }
    third += "  ?:help"
    // While typing, the third line is the filter prompt (the header may be too narrow to show it).
    if state.typingFilter {
        third = " filter: \(state.filterText)_   Enter keeps it, Esc clears it" + (state.allSaved ? "  saved" : "  UNSAVED")
    }
    if state.typingNote {
        third = " flag note: \(state.noteText)_   Enter flags, Esc cancels" + (state.allSaved ? "  saved" : "  UNSAVED")
    }
    return [first, second, third]
}

/// "3" for whole radii, "1.5" otherwise.
func radiusText(_ r: Double) -> String {
    r == r.rounded() && abs(r) < 1e9 ? String(Int(r)) : String(r)
}
