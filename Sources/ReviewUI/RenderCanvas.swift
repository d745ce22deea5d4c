// The canvas: each panel's picture in upper-half-block cells (foreground = upper display pixel,
// background = lower), enlarged by nearest neighbour through the viewport, with the brush outline
// (and the map's contour when on) on top; the colour legend below when there is room.

let upperHalfBlock: Unicode.Scalar = "\u{2580}"

func renderCanvas(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) {
    let area = layout.canvasArea
    grid.text(canvasHeader(state, layout), area.column, 0, width: area.columns,
              attributes: state.focus == .canvas ? [.bold, .underline] : [.bold])
    guard let image = state.image, image.isWellFormed else {
        let text = state.imageError.map { " cannot show image: \($0)" } ?? (state.selectedSample == nil ? "" : " loading image…")
        grid.text(text, area.column, area.row, width: area.columns, foreground: Theme.warning)
        return
    }
    let values = state.displayedMap.map { Compose.upsampled($0, imageWidth: image.width, imageHeight: image.height) }
    let contour = state.showContour ? values.map { Contour.pixels($0, width: image.width, height: image.height) } : nil
    let ring = brushRing(state, layout)
    for panel in layout.panels {
        if style.monochrome {
            let shade = Compose.intensities(image: image, values: values, view: panel.view, weight: state.blendWeight)
            renderShades(shade, imageWidth: image.width, panel.rect, layout, ring, &grid)
        } else {
            let colors = Compose.colors(image: image, values: values, view: panel.view, weight: state.blendWeight)
            renderHalfBlocks(colors, contour: contour, imageWidth: image.width, panel.rect, layout,
                             ring, ringColor: state.tool == .paint ? RGB.white : RGB(255, 0, 255), &grid)
        }
    }
    if let legend = layout.legend, values != nil { renderLegend(legend, style, &grid) }
}

/// " path  [view]  zoom ×2  map 0.73 at 12,5": what the panels show and the map under the brush.
func canvasHeader(_ state: ReviewState, _ layout: ReviewLayout) -> String {
    var header = " "
    if let s = state.selectedSample { header += "\(s.relativePath)  " }
    header += "[" + layout.panels.map(\.view.rawValue).joined(separator: " | ")
    if state.showClassMap { header += ", \(state.classMapName ?? "class map") (read-only)" }
    if state.mapHidden { header += ", map hidden" }
    header += "]"
    if state.zoom > 1 { header += "  zoom ×\(state.zoom)" }
    if let v = state.mapValueUnderCursor { header += String(format: "  map %.2f at %d,%d", v, Int(state.cursor.x), Int(state.cursor.y)) }
    return header
}

/// Colour panels: display pixel (c, 2r) above and (c, 2r+1) below in cell (c, r) of `rect`.
private func renderHalfBlocks(_ colors: [RGB], contour: [Bool]?, imageWidth: Int, _ rect: CellRect, _ layout: ReviewLayout,
                              _ ring: BrushRing, ringColor: RGB, _ grid: inout CellGrid) {
    // Image pixel per display column/row, computed once (nearest neighbour through the viewport).
    let columnPixel = (0..<rect.columns).map { layout.imagePixel(displayX: $0, displayY: 0).0 }
    let rowPixel = (0..<layout.displayHeight).map { layout.imagePixel(displayX: 0, displayY: $0).1 }
    func color(_ c: Int, _ y: Int) -> RGB {
        if ring.contains(c, y) { return ringColor }
        let i = rowPixel[y] * imageWidth + columnPixel[c]
        if let contour, contour[i] { return Contour.color }
        return colors[i]
    }
    for r in 0..<rect.rows {
        let hasLower = 2 * r + 1 < layout.displayHeight
        for c in 0..<rect.columns {
            grid.set(rect.column + c, rect.row + r,
                     Cell(upperHalfBlock, foreground: color(c, 2 * r), background: hasLower ? color(c, 2 * r + 1) : Theme.background))
        }
    }
}

/// Without colour: one shading glyph per cell for the mean of its two display pixels, the brush
/// outline in reverse video.
private func renderShades(_ shade: [Double], imageWidth: Int, _ rect: CellRect, _ layout: ReviewLayout,
                          _ ring: BrushRing, _ grid: inout CellGrid) {
    for r in 0..<rect.rows {
        for c in 0..<rect.columns {
            let (ux, uy) = layout.imagePixel(displayX: c, displayY: 2 * r)
            var v = shade[uy * imageWidth + ux]
            var onRing = ring.contains(c, 2 * r)
            if 2 * r + 1 < layout.displayHeight {
                let (lx, ly) = layout.imagePixel(displayX: c, displayY: 2 * r + 1)
                v = (v + shade[ly * imageWidth + lx]) / 2
                onRing = onRing || ring.contains(c, 2 * r + 1)
            }
            grid.set(rect.column + c, rect.row + r, Cell(Palette.shade(v), attributes: onRing ? [.reverse] : []))
        }
    }
}

/// Display pixels (relative to a panel's top-left) that outline the brush disc: those whose
/// centre lies within 0.6 display pixels of the circle, plus the centre pixel.
struct BrushRing {
    var pixels: Set<Int> = []
    var width = 0
    func contains(_ x: Int, _ y: Int) -> Bool { pixels.contains(y * width + x) }
}

func brushRing(_ state: ReviewState, _ layout: ReviewLayout) -> BrushRing {
    var ring = BrushRing(width: max(1, layout.image.columns))
    let s = layout.scale
    let (cx, cy) = layout.viewport.displayPoint(imageX: state.cursor.x, imageY: state.cursor.y)
    let r = state.radius * s
    guard cx.isFinite, cy.isFinite, r.isFinite, layout.image.columns > 0 else { return ring }
    let w = layout.image.columns, h = layout.displayHeight
    let x0 = max(0, Int((cx - r - 1).rounded(.down))), x1 = min(w - 1, Int((cx + r + 1).rounded(.up)))
    let y0 = max(0, Int((cy - r - 1).rounded(.down))), y1 = min(h - 1, Int((cy + r + 1).rounded(.up)))
    if x0 <= x1, y0 <= y1 {
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                if abs((dx * dx + dy * dy).squareRoot() - r) <= 0.6 { ring.pixels.insert(y * w + x) }
            }
        }
    }
    let px = Int(cx.rounded(.down)), py = Int(cy.rounded(.down))
    if px >= 0, px < w, py >= 0, py < h { ring.pixels.insert(py * w + px) }
    return ring
}
