// The canvas: each panel's picture (CanvasPixels.swift) in upper-half-block cells (foreground =
// upper display pixel, background = lower), or, where the terminal shows images, as one image per
// panel over blank cells; the colour legend below when there is room.

let upperHalfBlock: Unicode.Scalar = "\u{2580}"

/// Draws the canvas; returns the panel images to show over it (none unless `style.images`).
@discardableResult
func renderCanvas(_ state: ReviewState, _ layout: ReviewLayout, _ style: RenderStyle, _ grid: inout CellGrid) -> [PanelImage] {
    let area = layout.canvasArea
    grid.text(canvasHeader(state, layout), area.column, 0, width: area.columns,
              attributes: state.focus == .canvas ? [.bold, .underline] : [.bold])
    guard let image = state.image, image.isWellFormed else {
        let text = state.imageError.map { " cannot show image: \($0)" } ?? (state.selectedSample == nil ? "" : " loading image…")
        grid.text(text, area.column, area.row, width: area.columns, foreground: Theme.warning)
        return []
    }
    let values = state.displayedMap.map { Compose.upsampled($0, imageWidth: image.width, imageHeight: image.height) }
    defer { if let legend = layout.legend, values != nil { renderLegend(legend, style, &grid) } }
    if style.monochrome && !style.images {
        let ring = BrushRing(cursor: state.cursor, radius: state.radius, viewport: layout.viewport)
        for panel in layout.panels {
            let shade = Compose.intensities(image: image, values: values, view: panel.view, weight: state.blendWeight)
            renderShades(shade, imageWidth: image.width, panel.rect, layout, ring, &grid)
        }
        return []
    }
    let contour = state.showContour ? values.map { Contour.pixels($0, width: image.width, height: image.height) } : nil
    // Images get every image pixel in view (finer than the display pixels when the image is shrunk).
    let k = style.images ? CanvasPixels.subdivision(scale: layout.scale) : 1
    let viewport = layout.viewport.subdivided(k)
    let ring = BrushRing(cursor: state.cursor, radius: state.radius, viewport: viewport)
    var images: [PanelImage] = []
    for (i, panel) in layout.panels.enumerated() {
        let colors = Compose.colors(image: image, values: values, view: panel.view, weight: state.blendWeight)
        let pixels = CanvasPixels.panel(colors: colors, contour: contour, imageWidth: image.width, viewport: viewport,
                                        rows: 2 * panel.rect.rows * k, ring: ring,
                                        ringColor: state.tool == .paint ? RGB.white : RGB(255, 0, 255))
        if style.images {
            guard viewport.width > 0, panel.rect.rows > 0 else { continue }
            for r in 0..<panel.rect.rows { grid.fill(panel.rect.column, panel.rect.row + r, width: panel.rect.columns, with: .blank) }
            images.append(CanvasPixels.image(panel: i, rect: panel.rect, width: viewport.width, pixels: pixels))
        } else {
            renderHalfBlocks(pixels, panel.rect, &grid)
        }
    }
    return images
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

/// Colour panels: display pixel (c, 2r) above and (c, 2r+1) below in cell (c, r) of `rect`
/// (`pixels` is the panel's, `rect.columns` wide and two rows a cell).
private func renderHalfBlocks(_ pixels: [RGB], _ rect: CellRect, _ grid: inout CellGrid) {
    let w = rect.columns
    for r in 0..<rect.rows {
        for c in 0..<w {
            grid.set(rect.column + c, rect.row + r, Cell(upperHalfBlock, foreground: pixels[2 * r * w + c], background: pixels[(2 * r + 1) * w + c]))
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
