// The canvas: the composed picture in upper-half-block cells (foreground = upper display pixel,
// background = lower), enlarged by nearest neighbour, with the brush outline on top.

let upperHalfBlock: Unicode.Scalar = "\u{2580}"

func renderCanvas(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) {
    let area = layout.canvasArea
    var header = " "
    if let s = state.selectedSample { header += "\(s.relativePath)  " }
    header += "[\(state.view.rawValue)" + (state.showClassMap ? ", \(state.classMapName ?? "class map") (read-only)]" : "]")
    if let v = state.mapValueUnderCursor { header += String(format: "  map %.2f at %d,%d", v, Int(state.cursor.x), Int(state.cursor.y)) }
    grid.text(header, area.column, 0, width: area.columns,
              attributes: state.focus == .canvas ? [.bold, .underline] : [.bold])
    guard let image = state.image, image.isWellFormed else {
        let text = state.imageError.map { " cannot show image: \($0)" } ?? (state.selectedSample == nil ? "" : " loading image…")
        grid.text(text, area.column, area.row, width: area.columns, foreground: Theme.warning)
        return
    }
    let rect = layout.image
    let s = layout.scale
    let ring = brushRing(state, layout)
    if style.monochrome {
        let shade = Compose.intensities(image: image, map: state.displayedMap, view: state.view)
        for r in 0..<rect.rows {
            for c in 0..<rect.columns {
                let (ux, uy) = layout.imagePixel(displayX: c, displayY: 2 * r)
                var v = shade[uy * image.width + ux]
                var onRing = ring.contains(c, 2 * r)
                if 2 * r + 1 < layout.displayHeight {
                    let (lx, ly) = layout.imagePixel(displayX: c, displayY: 2 * r + 1)
                    v = (v + shade[ly * image.width + lx]) / 2
                    onRing = onRing || ring.contains(c, 2 * r + 1)
                }
                grid.set(rect.column + c, rect.row + r, Cell(Palette.shade(v), attributes: onRing ? [.reverse] : []))
            }
        }
        return
    }
    let colors = Compose.colors(image: image, map: state.displayedMap, view: state.view, weight: Float(state.blendPercent) / 100)
    // Image pixel per display column/row, computed once (nearest neighbour).
    let columnPixel = (0..<rect.columns).map { min(image.width - 1, Int((Double($0) + 0.5) / s)) }
    let rowPixel = (0..<layout.displayHeight).map { min(image.height - 1, Int((Double($0) + 0.5) / s)) }
    let ringColor = state.tool == .paint ? RGB.white : RGB(255, 0, 255)
    for r in 0..<rect.rows {
        let upperRow = rowPixel[2 * r] * image.width
        let hasLower = 2 * r + 1 < layout.displayHeight
        let lowerRow = hasLower ? rowPixel[2 * r + 1] * image.width : 0
        for c in 0..<rect.columns {
            var upper = colors[upperRow + columnPixel[c]]
            var lower = hasLower ? colors[lowerRow + columnPixel[c]] : Theme.background
            if ring.contains(c, 2 * r) { upper = ringColor }
            if hasLower && ring.contains(c, 2 * r + 1) { lower = ringColor }
            grid.set(rect.column + c, rect.row + r, Cell(upperHalfBlock, foreground: upper, background: lower))
        }
    }
}

/// Display pixels (relative to the image's top-left) that outline the brush disc: those whose
/// centre lies within 0.6 display pixels of the circle, plus the centre pixel.
struct BrushRing {
    var pixels: Set<Int> = []
    var width = 0
    func contains(_ x: Int, _ y: Int) -> Bool { pixels.contains(y * width + x) }
}

func brushRing(_ state: ReviewState, _ layout: ReviewLayout) -> BrushRing {
    var ring = BrushRing(width: max(1, layout.image.columns))
    let s = layout.scale
    let cx = state.cursor.x * s, cy = state.cursor.y * s, r = state.radius * s
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
